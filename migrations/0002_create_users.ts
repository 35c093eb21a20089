import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE users (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      -- NULL only for platform admins, who belong to no tenant.
      tenant_id BIGINT UNSIGNED NULL,
      email VARCHAR(254) NOT NULL,
      display_name VARCHAR(120) NOT NULL,
      role ENUM('platform_admin','tenant_admin','supervisor','agent','helpdesk') NOT NULL,
      -- NULL until an invited user sets a password.
      password_hash VARCHAR(255) NULL,
      extension VARCHAR(16) NULL,
      status ENUM('active','disabled') NOT NULL DEFAULT 'active',
      outbound_allowed BOOLEAN NOT NULL DEFAULT TRUE,
      last_login_at DATETIME(3) NULL,
      version INT UNSIGNED NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_users_email (email),
      UNIQUE KEY uq_users_tenant_extension (tenant_id, extension),
      KEY ix_users_tenant_role (tenant_id, role),
      CONSTRAINT fk_users_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS users`.execute(db);
}
