import { sql, type Kysely } from 'kysely';

// Counters for public endpoints' rate limits, in MySQL so a restart does not reset a window.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE rate_limit_hits (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      -- What is counted (widget-call:ip:203.0.113.9) and the fixed window it is counted in.
      bucket VARCHAR(191) NOT NULL,
      window_start DATETIME NOT NULL,
      hits INT UNSIGNED NOT NULL DEFAULT 0,
      UNIQUE KEY uq_rate_limit_hits_bucket_window (bucket, window_start),
      KEY ix_rate_limit_hits_window (window_start)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS rate_limit_hits`.execute(db);
}
