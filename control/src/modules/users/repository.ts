import type { Selectable, Updateable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { Role, UserTable } from '../../db/schema.ts';
import { paginate, type ListQuery, type Page } from '../../lib/pagination.ts';
import { likeContains } from '../../lib/search.ts';

export type UserRow = Selectable<UserTable>;
export type UserStatus = UserRow['status'];

export interface UserFilters {
  role?: Role | undefined;
  status?: UserStatus | undefined;
  q?: string | undefined;
}

const SORTABLE = { displayName: 'displayName', email: 'email', createdAt: 'createdAt', id: 'id' };

/** Any user by login email (emails are unique across tenants). */
export async function findByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function findById(
  db: Executor,
  tenantId: number,
  id: number,
): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** For sign-in flows only, which know the user but not yet the tenant. */
export async function findByIdAnyTenant(db: Executor, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The caller's own row, platform admins (no tenant) included. */
export async function findSelf(
  db: Executor,
  tenantId: number | null,
  id: number,
): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', id)
    .where((eb) => (tenantId === null ? eb('tenantId', 'is', null) : eb('tenantId', '=', tenantId)))
    .executeTakeFirst();
}

export async function list(
  db: Executor,
  tenantId: number,
  query: ListQuery & UserFilters,
): Promise<Page<UserRow>> {
  let q = db.selectFrom('users').selectAll().where('tenantId', '=', tenantId);
  if (query.role) q = q.where('role', '=', query.role);
  if (query.status) q = q.where('status', '=', query.status);
  if (query.q) {
    const pattern = likeContains(query.q);
    q = q.where((eb) => eb.or([eb('displayName', 'like', pattern), eb('email', 'like', pattern)]));
  }
  return paginate(q, query, SORTABLE, 'users');
}

export async function countActive(db: Executor, tenantId: number, role: Role): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenantId', '=', tenantId)
    .where('role', '=', role)
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insert(
  db: Executor,
  values: {
    tenantId: number;
    email: string;
    displayName: string;
    role: Role;
    passwordHash: string;
  },
): Promise<number> {
  const result = await db.insertInto('users').values(values).executeTakeFirstOrThrow();
  return Number(result.insertId);
}

/** Writes `changes` only if the row is still at `version`; false when it was not. */
export async function update(
  db: Executor,
  tenantId: number,
  id: number,
  version: number,
  changes: Updateable<UserTable>,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function touchLastLogin(db: Executor, id: number): Promise<void> {
  // Not a change anyone edits, so it leaves `version` (and so ETags) alone.
  await db.updateTable('users').set({ lastLoginAt: new Date() }).where('id', '=', id).execute();
}

export async function emailTaken(db: Executor, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('email', '=', email)
    .executeTakeFirst();
  return row !== undefined;
}
