import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE signing_keys (
      -- The JWT header's kid.
      kid VARCHAR(64) NOT NULL PRIMARY KEY,
      alg VARCHAR(16) NOT NULL,
      public_jwk JSON NOT NULL,
      private_jwk JSON NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      -- Retired keys sign nothing new but stay in the JWKS until their tokens have expired.
      retired_at DATETIME(3) NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS signing_keys`.execute(db);
}
