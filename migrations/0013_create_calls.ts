import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE calls (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      -- Asterisk's linkedid of the call's first channel: the idempotency key for CDR writes.
      linkedid VARCHAR(64) NOT NULL,
      direction ENUM('inbound','outbound','internal') NOT NULL,
      channel_kind ENUM('pstn','webrtc','internal') NOT NULL,
      state ENUM('ringing','ivr','queued','offered','answered','held','transferred','ended') NOT NULL,
      from_number VARCHAR(64) NULL,
      to_number VARCHAR(64) NULL,
      did_id BIGINT UNSIGNED NULL,
      queue_id BIGINT UNSIGNED NULL,
      agent_user_id BIGINT UNSIGNED NULL,
      started_at DATETIME(3) NOT NULL,
      queued_at DATETIME(3) NULL,
      answered_at DATETIME(3) NULL,
      ended_at DATETIME(3) NULL,
      wait_ms INT UNSIGNED NOT NULL DEFAULT 0,
      talk_ms INT UNSIGNED NOT NULL DEFAULT 0,
      hold_ms INT UNSIGNED NOT NULL DEFAULT 0,
      hangup_cause VARCHAR(64) NULL,
      hangup_side ENUM('caller','agent','system') NULL,
      disposition VARCHAR(64) NULL,
      notes TEXT NULL,
      recording_path VARCHAR(255) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_calls_linkedid (linkedid),
      KEY ix_calls_tenant_started (tenant_id, started_at),
      KEY ix_calls_tenant_queue_started (tenant_id, queue_id, started_at),
      KEY ix_calls_tenant_agent_started (tenant_id, agent_user_id, started_at),
      KEY ix_calls_tenant_did_started (tenant_id, did_id, started_at),
      KEY ix_calls_tenant_state (tenant_id, state),
      CONSTRAINT fk_calls_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS calls`.execute(db);
}
