import type { Insertable, Selectable, Updateable } from 'kysely';
import type { TenantTable } from '../../db/schema.ts';
import { paginate, type ListQuery, type Page } from '../../lib/pagination.ts';
import type { Executor } from '../../db/database.ts';
import { likeContains } from '../../lib/search.ts';

export type TenantRow = Selectable<TenantTable>;

export interface TenantFilters {
  status?: TenantRow['status'] | undefined;
  q?: string | undefined;
}

const SORTABLE = { name: 'name', slug: 'slug', createdAt: 'createdAt', id: 'id' };

export async function findById(db: Executor, id: number): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Locks the tenant's row until the transaction ends. Checks that count a tenant's users (agent
 * seats, the last admin) take this first, so two concurrent changes cannot both pass the count.
 */
export async function lockForUpdate(db: Executor, id: number): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function list(
  db: Executor,
  query: ListQuery & TenantFilters,
): Promise<Page<TenantRow>> {
  let q = db.selectFrom('tenants').selectAll();
  if (query.status) q = q.where('status', '=', query.status);
  if (query.q) {
    const pattern = likeContains(query.q);
    q = q.where((eb) => eb.or([eb('name', 'like', pattern), eb('slug', 'like', pattern)]));
  }
  return paginate(q, query, SORTABLE, 'tenants');
}

export async function insert(db: Executor, values: Insertable<TenantTable>): Promise<number> {
  const result = await db.insertInto('tenants').values(values).executeTakeFirstOrThrow();
  return Number(result.insertId);
}

/** Writes `changes` only if the row is still at `version`; false when it was not. */
export async function update(
  db: Executor,
  id: number,
  version: number,
  changes: Updateable<TenantTable>,
): Promise<boolean> {
  const result = await db
    .updateTable('tenants')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
