import { sql, type Kysely } from 'kysely';

// A tenant's DIDs are listed by number (the default sort) and paged by number: with this index a
// page is a range read, not a sort of every DID of the tenant.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX ix_dids_tenant_number ON dids (tenant_id, number)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX ix_dids_tenant_number ON dids`.execute(db);
}
