import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE widgets (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      -- What the snippet on a customer's site carries (widget.js?id=…): random, not guessable.
      public_id VARCHAR(40) NOT NULL,
      name VARCHAR(120) NOT NULL,
      color VARCHAR(16) NOT NULL DEFAULT '#2563eb',
      label VARCHAR(60) NOT NULL DEFAULT 'Talk to us',
      position ENUM('bottom-right','bottom-left') NOT NULL DEFAULT 'bottom-right',
      logo_url VARCHAR(500) NULL,
      greeting VARCHAR(500) NULL,
      call_enabled TINYINT(1) NOT NULL DEFAULT 1,
      chat_enabled TINYINT(1) NOT NULL DEFAULT 1,
      call_queue_id BIGINT UNSIGNED NULL,
      chat_queue_id BIGINT UNSIGNED NULL,
      business_hours_id BIGINT UNSIGNED NULL,
      allowed_origins JSON NOT NULL,
      prechat_fields JSON NOT NULL,
      enabled TINYINT(1) NOT NULL DEFAULT 1,
      version INT UNSIGNED NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_widgets_public_id (public_id),
      KEY ix_widgets_tenant (tenant_id),
      CONSTRAINT fk_widgets_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT fk_widgets_call_queue FOREIGN KEY (call_queue_id) REFERENCES queues (id) ON DELETE SET NULL,
      CONSTRAINT fk_widgets_chat_queue FOREIGN KEY (chat_queue_id) REFERENCES queues (id) ON DELETE SET NULL,
      CONSTRAINT fk_widgets_hours FOREIGN KEY (business_hours_id) REFERENCES business_hours (id) ON DELETE SET NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS widgets`.execute(db);
}
