import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE agent_state_log (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      user_id BIGINT UNSIGNED NOT NULL,
      status ENUM('offline','available','ringing','on_call','wrap_up','away') NOT NULL,
      reason VARCHAR(64) NULL,
      call_linkedid VARCHAR(64) NULL,
      started_at DATETIME(3) NOT NULL,
      -- Reports read time-in-state per agent over a range; the restart path reads the latest row.
      KEY ix_agent_state_user_time (tenant_id, user_id, started_at),
      KEY ix_agent_state_tenant_time (tenant_id, started_at),
      CONSTRAINT fk_agent_state_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS agent_state_log`.execute(db);
}
