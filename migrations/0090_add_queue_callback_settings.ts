import { sql, type Kysely } from 'kysely';

// Callback instead of waiting (queues.callback_enabled): the digit a queued caller presses, and
// how long a caller must have waited before hanging up for the abandoned call to become a
// callback task (0: abandoned calls are not called back).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE queues
      ADD COLUMN callback_digit CHAR(1) NOT NULL DEFAULT '1',
      ADD COLUMN abandon_callback_seconds INT UNSIGNED NOT NULL DEFAULT 0
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE queues DROP COLUMN callback_digit, DROP COLUMN abandon_callback_seconds`.execute(db);
}
