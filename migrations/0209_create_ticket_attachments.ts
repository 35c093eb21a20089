import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE ticket_attachments (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      ticket_id BIGINT UNSIGNED NOT NULL,
      message_id BIGINT UNSIGNED NULL,
      file_name VARCHAR(255) NOT NULL,
      -- Detected from the content, never taken from the name or the client.
      content_type VARCHAR(100) NOT NULL,
      size_bytes BIGINT UNSIGNED NOT NULL,
      sha256 CHAR(64) NOT NULL,
      -- Path under the attachments folder; the bytes never enter the database.
      storage_key VARCHAR(200) NOT NULL,
      uploaded_by_user_id BIGINT UNSIGNED NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_ticket_attachments_storage (storage_key),
      KEY ix_ticket_attachments_ticket (ticket_id),
      KEY ix_ticket_attachments_tenant (tenant_id),
      CONSTRAINT fk_ticket_attachments_ticket FOREIGN KEY (ticket_id) REFERENCES tickets (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ticket_attachments`.execute(db);
}
