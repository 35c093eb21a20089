import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE sip_endpoints (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      kind ENUM('agent','trunk') NOT NULL,
      -- Asterisk object id (endpoint, aor and auth share it), carries the tenant: t42-agent-7.
      asterisk_id VARCHAR(64) NOT NULL,
      name VARCHAR(120) NOT NULL,
      user_id BIGINT UNSIGNED NULL,
      sip_username VARCHAR(64) NULL,
      -- Kept because Asterisk loses pushed objects on restart and they must be pushed again.
      sip_secret VARCHAR(128) NULL,
      -- Trunks: how the carrier is recognised and reached.
      trunk_auth ENUM('ip','register') NULL,
      host VARCHAR(255) NULL,
      port INT UNSIGNED NULL,
      match_ips VARCHAR(512) NULL,
      caller_id_policy ENUM('tenant_default','did','agent','fixed') NULL,
      caller_id_number VARCHAR(32) NULL,
      codecs VARCHAR(128) NOT NULL DEFAULT 'opus,ulaw',
      enabled BOOLEAN NOT NULL DEFAULT TRUE,
      version INT UNSIGNED NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_sip_endpoints_asterisk_id (asterisk_id),
      UNIQUE KEY uq_sip_endpoints_user (user_id),
      KEY ix_sip_endpoints_tenant_kind (tenant_id, kind),
      CONSTRAINT fk_sip_endpoints_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT fk_sip_endpoints_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS sip_endpoints`.execute(db);
}
