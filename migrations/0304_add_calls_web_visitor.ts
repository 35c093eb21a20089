import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE calls
      ADD COLUMN widget_id BIGINT UNSIGNED NULL,
      ADD COLUMN page_url VARCHAR(1000) NULL,
      ADD COLUMN visitor_name VARCHAR(120) NULL,
      ADD COLUMN visitor_email VARCHAR(254) NULL
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE calls DROP COLUMN widget_id, DROP COLUMN page_url, DROP COLUMN visitor_name, DROP COLUMN visitor_email`.execute(
    db,
  );
}
