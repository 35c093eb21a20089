import { sql, type Kysely } from 'kysely';

// Callers on a priority line (a VIP number, say) are served before others waiting in a queue.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE dids ADD COLUMN caller_priority TINYINT UNSIGNED NOT NULL DEFAULT 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE dids DROP COLUMN caller_priority`.execute(db);
}
