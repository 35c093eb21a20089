import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE offline_messages (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      widget_id BIGINT UNSIGNED NULL,
      name VARCHAR(120) NULL,
      email VARCHAR(254) NULL,
      phone VARCHAR(32) NULL,
      message TEXT NOT NULL,
      page_url VARCHAR(1000) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      handled_at DATETIME(3) NULL,
      KEY ix_offline_messages_tenant_created (tenant_id, created_at),
      CONSTRAINT fk_offline_messages_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT fk_offline_messages_widget FOREIGN KEY (widget_id) REFERENCES widgets (id) ON DELETE SET NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS offline_messages`.execute(db);
}
