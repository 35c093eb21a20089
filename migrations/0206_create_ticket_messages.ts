import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE ticket_messages (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      ticket_id BIGINT UNSIGNED NOT NULL,
      kind ENUM('public','internal') NOT NULL,
      channel ENUM('web','phone','voicemail','chat','form') NOT NULL DEFAULT 'web',
      author_user_id BIGINT UNSIGNED NULL,
      author_contact_id BIGINT UNSIGNED NULL,
      body MEDIUMTEXT NOT NULL,
      -- Set when a merge moved the message here from another ticket.
      moved_from_ticket_id BIGINT UNSIGNED NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      KEY ix_ticket_messages_ticket (ticket_id, created_at),
      KEY ix_ticket_messages_tenant (tenant_id, created_at),
      CONSTRAINT fk_ticket_messages_ticket FOREIGN KEY (ticket_id) REFERENCES tickets (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ticket_messages`.execute(db);
}
