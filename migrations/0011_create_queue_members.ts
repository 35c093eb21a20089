import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE queue_members (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      queue_id BIGINT UNSIGNED NOT NULL,
      user_id BIGINT UNSIGNED NOT NULL,
      penalty INT UNSIGNED NOT NULL DEFAULT 0,
      -- {"billing": 5, "spanish": 3}: skill name to level.
      skills JSON NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_queue_members_queue_user (queue_id, user_id),
      KEY ix_queue_members_tenant_user (tenant_id, user_id),
      CONSTRAINT fk_queue_members_queue FOREIGN KEY (queue_id) REFERENCES queues (id) ON DELETE CASCADE,
      CONSTRAINT fk_queue_members_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS queue_members`.execute(db);
}
