import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tenants (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(120) NOT NULL,
      slug VARCHAR(63) NOT NULL,
      status ENUM('active','suspended') NOT NULL DEFAULT 'active',
      timezone VARCHAR(64) NOT NULL DEFAULT 'UTC',
      max_agents INT UNSIGNED NOT NULL DEFAULT 25,
      max_concurrent_calls INT UNSIGNED NOT NULL DEFAULT 50,
      max_calls_per_second INT UNSIGNED NOT NULL DEFAULT 10,
      max_call_seconds INT UNSIGNED NOT NULL DEFAULT 14400,
      feature_flags JSON NOT NULL,
      version INT UNSIGNED NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_tenants_slug (slug)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS tenants`.execute(db);
}
