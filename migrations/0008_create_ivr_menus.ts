import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE ivr_menus (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      name VARCHAR(120) NOT NULL,
      -- An Asterisk sound name (sound:...) or an uploaded recording's media URI.
      prompt VARCHAR(255) NOT NULL,
      timeout_seconds INT UNSIGNED NOT NULL DEFAULT 5,
      max_retries INT UNSIGNED NOT NULL DEFAULT 3,
      invalid_prompt VARCHAR(255) NULL,
      failover_target_type ENUM('queue','ivr','user','voicemail','hangup','external') NULL,
      failover_target_id BIGINT UNSIGNED NULL,
      failover_target_value VARCHAR(255) NULL,
      version INT UNSIGNED NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_ivr_menus_tenant_name (tenant_id, name),
      CONSTRAINT fk_ivr_menus_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ivr_menus`.execute(db);
}
