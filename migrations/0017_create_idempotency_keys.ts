import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE idempotency_keys (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      -- Keys are per caller: two users may pick the same key without meeting.
      user_id BIGINT UNSIGNED NOT NULL,
      idempotency_key VARCHAR(128) NOT NULL,
      method VARCHAR(8) NOT NULL,
      path VARCHAR(255) NOT NULL,
      request_hash CHAR(64) NOT NULL,
      -- NULL while the first request is still being handled.
      status_code SMALLINT UNSIGNED NULL,
      response_body MEDIUMTEXT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_idempotency_user_key (user_id, idempotency_key),
      KEY ix_idempotency_created (created_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS idempotency_keys`.execute(db);
}
