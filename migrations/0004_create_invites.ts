import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE invites (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      email VARCHAR(254) NOT NULL,
      display_name VARCHAR(120) NOT NULL,
      role ENUM('tenant_admin','supervisor','agent','helpdesk') NOT NULL,
      token_hash CHAR(64) NOT NULL,
      invited_by BIGINT UNSIGNED NULL,
      expires_at DATETIME(3) NOT NULL,
      accepted_at DATETIME(3) NULL,
      revoked_at DATETIME(3) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_invites_token (token_hash),
      KEY ix_invites_tenant_email (tenant_id, email),
      CONSTRAINT fk_invites_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT fk_invites_inviter FOREIGN KEY (invited_by) REFERENCES users (id) ON DELETE SET NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS invites`.execute(db);
}
