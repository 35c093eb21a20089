import { sql, type Kysely } from 'kysely';

// 'web': a website visitor calling through the widget (webrtc stays an agent's own phone).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE calls MODIFY COLUMN channel_kind ENUM('pstn','webrtc','internal','web') NOT NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE calls MODIFY COLUMN channel_kind ENUM('pstn','webrtc','internal') NOT NULL`.execute(
    db,
  );
}
