import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE chats (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      widget_id BIGINT UNSIGNED NULL,
      queue_id BIGINT UNSIGNED NULL,
      -- The visitor's browser (the subject of their visitor token).
      visitor_key VARCHAR(40) NOT NULL,
      visitor_name VARCHAR(120) NULL,
      visitor_email VARCHAR(254) NULL,
      page_url VARCHAR(1000) NULL,
      status ENUM('waiting','active','closed') NOT NULL DEFAULT 'waiting',
      assigned_user_id BIGINT UNSIGNED NULL,
      -- The last message each side has read (chat_messages.id).
      visitor_read_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
      staff_read_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      accepted_at DATETIME(3) NULL,
      closed_at DATETIME(3) NULL,
      KEY ix_chats_tenant_status (tenant_id, status),
      KEY ix_chats_tenant_assigned (tenant_id, assigned_user_id, status),
      KEY ix_chats_visitor (visitor_key),
      CONSTRAINT fk_chats_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT fk_chats_widget FOREIGN KEY (widget_id) REFERENCES widgets (id) ON DELETE SET NULL,
      CONSTRAINT fk_chats_user FOREIGN KEY (assigned_user_id) REFERENCES users (id) ON DELETE SET NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS chats`.execute(db);
}
