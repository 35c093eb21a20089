import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE contact_phones (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      contact_id BIGINT UNSIGNED NOT NULL,
      -- E.164, the form calls.from_number holds for PSTN callers: screen-pop matches on it.
      number VARCHAR(16) NOT NULL,
      label VARCHAR(40) NOT NULL DEFAULT '',
      position SMALLINT UNSIGNED NOT NULL DEFAULT 0,
      UNIQUE KEY uq_contact_phones_contact_number (contact_id, number),
      KEY ix_contact_phones_tenant_number (tenant_id, number),
      CONSTRAINT fk_contact_phones_contact FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS contact_phones`.execute(db);
}
