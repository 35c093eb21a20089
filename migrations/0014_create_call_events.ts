import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE call_events (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      call_id BIGINT UNSIGNED NOT NULL,
      -- Per-call sequence: replaying a write (outbox, restart) cannot add a row twice.
      seq INT UNSIGNED NOT NULL,
      type VARCHAR(40) NOT NULL,
      occurred_at DATETIME(3) NOT NULL,
      data JSON NOT NULL,
      UNIQUE KEY uq_call_events_call_seq (call_id, seq),
      KEY ix_call_events_tenant_time (tenant_id, occurred_at),
      CONSTRAINT fk_call_events_call FOREIGN KEY (call_id) REFERENCES calls (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS call_events`.execute(db);
}
