import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE ivr_options (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      tenant_id BIGINT UNSIGNED NOT NULL,
      menu_id BIGINT UNSIGNED NOT NULL,
      digit CHAR(1) NOT NULL,
      target_type ENUM('queue','ivr','user','voicemail','hangup','external') NULL,
      target_id BIGINT UNSIGNED NULL,
      target_value VARCHAR(255) NULL,
      UNIQUE KEY uq_ivr_options_menu_digit (menu_id, digit),
      KEY ix_ivr_options_tenant (tenant_id),
      CONSTRAINT fk_ivr_options_menu FOREIGN KEY (menu_id) REFERENCES ivr_menus (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ivr_options`.execute(db);
}
