import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE dids (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      -- E.164, globally unique: a call to a number belongs to exactly one tenant.
      number VARCHAR(16) NOT NULL,
      description VARCHAR(255) NULL,
      trunk_id BIGINT UNSIGNED NULL,
      target_type ENUM('queue','ivr','user','voicemail','hangup','external') NULL,
      target_id BIGINT UNSIGNED NULL,
      target_value VARCHAR(255) NULL,
      business_hours_id BIGINT UNSIGNED NULL,
      after_hours_target_type ENUM('queue','ivr','user','voicemail','hangup','external') NULL,
      after_hours_target_id BIGINT UNSIGNED NULL,
      after_hours_target_value VARCHAR(255) NULL,
      version INT UNSIGNED NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_dids_number (number),
      KEY ix_dids_tenant (tenant_id, id),
      CONSTRAINT fk_dids_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT fk_dids_trunk FOREIGN KEY (trunk_id) REFERENCES sip_endpoints (id) ON DELETE SET NULL,
      CONSTRAINT fk_dids_hours FOREIGN KEY (business_hours_id) REFERENCES business_hours (id) ON DELETE SET NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS dids`.execute(db);
}
