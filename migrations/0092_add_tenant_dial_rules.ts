import { sql, type Kysely } from 'kysely';

// Outbound fraud rules per tenant: the country calling code that is home (calls elsewhere are
// international, denied by default), and the destination prefixes allowed all the same
// (international or premium-rate), as a JSON array of "+<digits>".
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE tenants
      ADD COLUMN home_country_code VARCHAR(3) NOT NULL DEFAULT '1',
      ADD COLUMN outbound_allowed_prefixes JSON NULL
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tenants DROP COLUMN home_country_code, DROP COLUMN outbound_allowed_prefixes`.execute(db);
}
