/**
 * All SQL of the endpoints module. Every function takes the database or a transaction first,
 * and every tenant-owned query filters by `tenantId`.
 */
import type { Insertable, Selectable, Transaction, Updateable } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Database, SipEndpointTable } from '../../db/schema.ts';
import { paginate, type ListQuery, type Page } from '../../lib/pagination.ts';

type Conn = Db | Transaction<Database>;

/** A row with what the Asterisk objects need from the agent's user. */
export type EndpointRow = Selectable<SipEndpointTable> & {
  userDisplayName: string | null;
  userExtension: string | null;
  /** A disabled user's endpoint stays in MySQL but not in Asterisk. */
  userStatus: 'active' | 'disabled' | null;
};

export interface EndpointFilters {
  kind?: 'agent' | 'trunk';
  enabled?: boolean;
  q?: string;
}

const SORTABLE = { id: 'id', name: 'name', asteriskId: 'asteriskId', createdAt: 'createdAt' };

function selectRows(db: Conn) {
  return db
    .selectFrom('sipEndpoints')
    .leftJoin('users', 'users.id', 'sipEndpoints.userId')
    .selectAll('sipEndpoints')
    .select([
      'users.displayName as userDisplayName',
      'users.extension as userExtension',
      'users.status as userStatus',
    ]);
}

export async function findEndpoint(
  db: Conn,
  tenantId: number,
  id: number,
): Promise<EndpointRow | undefined> {
  return selectRows(db)
    .where('sipEndpoints.tenantId', '=', tenantId)
    .where('sipEndpoints.id', '=', id)
    .executeTakeFirst();
}

export async function listEndpoints(
  db: Conn,
  tenantId: number,
  params: ListQuery & EndpointFilters,
): Promise<Page<EndpointRow>> {
  let query = selectRows(db).where('sipEndpoints.tenantId', '=', tenantId);
  if (params.kind) query = query.where('sipEndpoints.kind', '=', params.kind);
  if (params.enabled !== undefined)
    query = query.where('sipEndpoints.enabled', '=', params.enabled ? 1 : 0);
  if (params.q) {
    const like = `%${params.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([eb('sipEndpoints.name', 'like', like), eb('sipEndpoints.asteriskId', 'like', like)]),
    );
  }
  return paginate(query, params, SORTABLE, 'sipEndpoints');
}

/** Every enabled endpoint of every tenant, but disabled users': what Asterisk must hold. */
export async function listEnabledEndpoints(db: Conn): Promise<EndpointRow[]> {
  return selectRows(db)
    .where('sipEndpoints.enabled', '=', 1)
    .where((eb) =>
      eb.or([eb('sipEndpoints.userId', 'is', null), eb('users.status', '=', 'active')]),
    )
    .orderBy('sipEndpoints.id')
    .execute();
}

/** The agent endpoint of a user of the tenant, if they have one. */
export async function findEndpointOfUser(
  db: Conn,
  tenantId: number,
  userId: number,
): Promise<EndpointRow | undefined> {
  return selectRows(db)
    .where('sipEndpoints.tenantId', '=', tenantId)
    .where('sipEndpoints.userId', '=', userId)
    .executeTakeFirst();
}

export async function insertEndpoint(
  db: Conn,
  values: Insertable<SipEndpointTable>,
): Promise<number> {
  const result = await db.insertInto('sipEndpoints').values(values).executeTakeFirstOrThrow();
  return Number(result.insertId);
}

/** Writes `changes` only if the row is still at `expectedVersion`; false when it was not. */
export async function updateEndpoint(
  db: Conn,
  tenantId: number,
  id: number,
  expectedVersion: number,
  changes: Updateable<SipEndpointTable>,
): Promise<boolean> {
  const result = await db
    .updateTable('sipEndpoints')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteEndpoint(
  db: Conn,
  tenantId: number,
  id: number,
  expectedVersion: number,
): Promise<boolean> {
  const result = await db
    .deleteFrom('sipEndpoints')
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/**
 * Locks the tenant's row for the rest of the transaction, so two agent creations cannot both
 * pass the limit check, and returns the limit.
 */
export async function lockTenantLimit(db: Conn, tenantId: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('tenants')
    .select('maxAgents')
    .where('id', '=', tenantId)
    .forUpdate()
    .executeTakeFirst();
  return row?.maxAgents;
}

export async function countAgentEndpoints(db: Conn, tenantId: number): Promise<number> {
  const row = await db
    .selectFrom('sipEndpoints')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenantId', '=', tenantId)
    .where('kind', '=', 'agent')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findTenantUser(db: Conn, tenantId: number, userId: number) {
  return db
    .selectFrom('users')
    .select(['id', 'role', 'status', 'displayName', 'extension'])
    .where('tenantId', '=', tenantId)
    .where('id', '=', userId)
    .executeTakeFirst();
}

export async function endpointOfUser(db: Conn, userId: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('sipEndpoints')
    .select('id')
    .where('userId', '=', userId)
    .executeTakeFirst();
  return row?.id;
}

/**
 * The source addresses every trunk (of any tenant) claims. Identify-by-IP is global in
 * Asterisk, so overlap has to be checked across tenants.
 */
export async function listTrunkMatches(
  db: Conn,
  exceptId: number | undefined,
): Promise<Array<{ id: number; tenantId: number; matchIps: string }>> {
  let query = db
    .selectFrom('sipEndpoints')
    .select(['id', 'tenantId', 'matchIps'])
    .where('kind', '=', 'trunk')
    .where('matchIps', 'is not', null);
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  const rows = await query.execute();
  return rows.map((r) => ({ id: r.id, tenantId: r.tenantId, matchIps: r.matchIps ?? '' }));
}

/** Trunks get their Asterisk id from their row id, known only after the insert. */
export async function setAsteriskId(db: Conn, id: number, asteriskId: string): Promise<void> {
  await db.updateTable('sipEndpoints').set({ asteriskId }).where('id', '=', id).execute();
}
