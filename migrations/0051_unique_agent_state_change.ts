import { sql, type Kysely } from 'kysely';

// started_at first: an index led by user_id would take over the foreign key's and block the down.
// A state change replayed from the CDR outbox (after a crash mid-replay) must not be stored twice.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE agent_state_log
      ADD UNIQUE KEY uq_agent_state_change (started_at, user_id, status)
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE agent_state_log DROP INDEX uq_agent_state_change`.execute(db);
}
