import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE queues (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      name VARCHAR(120) NOT NULL,
      strategy ENUM('ring_all','longest_idle','round_robin','fewest_calls','skills') NOT NULL DEFAULT 'longest_idle',
      ring_timeout_seconds INT UNSIGNED NOT NULL DEFAULT 20,
      max_wait_seconds INT UNSIGNED NOT NULL DEFAULT 600,
      wrapup_seconds INT UNSIGNED NOT NULL DEFAULT 10,
      announce_position_seconds INT UNSIGNED NOT NULL DEFAULT 30,
      service_level_seconds INT UNSIGNED NOT NULL DEFAULT 20,
      -- Skills-based routing: after this many seconds, members with a higher penalty are offered too.
      penalty_relax_seconds INT UNSIGNED NOT NULL DEFAULT 60,
      required_skills JSON NOT NULL,
      moh_class VARCHAR(80) NOT NULL DEFAULT 'default',
      recording_enabled BOOLEAN NOT NULL DEFAULT FALSE,
      callback_enabled BOOLEAN NOT NULL DEFAULT FALSE,
      overflow_target_type ENUM('queue','ivr','user','voicemail','hangup','external') NULL,
      overflow_target_id BIGINT UNSIGNED NULL,
      overflow_target_value VARCHAR(255) NULL,
      version INT UNSIGNED NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_queues_tenant_name (tenant_id, name),
      CONSTRAINT fk_queues_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS queues`.execute(db);
}
