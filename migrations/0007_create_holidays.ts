import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE holidays (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      business_hours_id BIGINT UNSIGNED NOT NULL,
      date DATE NOT NULL,
      name VARCHAR(120) NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_holidays_hours_date (business_hours_id, date),
      KEY ix_holidays_tenant (tenant_id),
      CONSTRAINT fk_holidays_hours FOREIGN KEY (business_hours_id) REFERENCES business_hours (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS holidays`.execute(db);
}
