import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE contact_emails (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      contact_id BIGINT UNSIGNED NOT NULL,
      -- Stored lower-cased: lookups compare exactly.
      email VARCHAR(254) NOT NULL,
      position SMALLINT UNSIGNED NOT NULL DEFAULT 0,
      UNIQUE KEY uq_contact_emails_contact_email (contact_id, email),
      KEY ix_contact_emails_tenant_email (tenant_id, email),
      CONSTRAINT fk_contact_emails_contact FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS contact_emails`.execute(db);
}
