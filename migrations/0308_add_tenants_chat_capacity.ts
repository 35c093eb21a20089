import { sql, type Kysely } from 'kysely';

// The capacity model shared by voice and chat: per person one call, or up to N chats.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE tenants
      ADD COLUMN max_chats_per_agent TINYINT UNSIGNED NOT NULL DEFAULT 3,
      ADD COLUMN chat_during_call TINYINT(1) NOT NULL DEFAULT 0
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tenants DROP COLUMN max_chats_per_agent, DROP COLUMN chat_during_call`.execute(
    db,
  );
}
