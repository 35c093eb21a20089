import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { DidTable } from '../../db/schema.ts';
import { paginate, type Page } from '../../lib/pagination.ts';
import type { Executor } from '../routing/targets.ts';
import type { DidListQuery } from './schemas.ts';

export type DidRow = Selectable<DidTable>;
export type DidValues = Omit<Insertable<DidTable>, 'tenantId'>;

export async function findDid(
  db: Executor,
  tenantId: number,
  id: number,
  options: { forUpdate?: boolean } = {},
): Promise<DidRow | undefined> {
  let q = db.selectFrom('dids').selectAll().where('tenantId', '=', tenantId).where('id', '=', id);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** The DID with this number in any tenant: numbers are globally unique. */
export async function findDidByNumber(db: Executor, number: string): Promise<DidRow | undefined> {
  return db.selectFrom('dids').selectAll().where('number', '=', number).executeTakeFirst();
}

export async function listDids(
  db: Executor,
  tenantId: number,
  query: DidListQuery,
): Promise<Page<DidRow>> {
  let q = db.selectFrom('dids').selectAll().where('tenantId', '=', tenantId);
  if (query.number) {
    // Digits only, so there is nothing to escape in the LIKE pattern.
    q = q.where('number', 'like', `+${query.number.replace(/^[+ ]/, '')}%`);
  }
  if (query.targetType) q = q.where('targetType', '=', query.targetType);
  if (query.queueId !== undefined) {
    const queueId = query.queueId;
    q = q.where((eb) =>
      eb.or([
        eb.and([eb('targetType', '=', 'queue'), eb('targetId', '=', queueId)]),
        eb.and([eb('afterHoursTargetType', '=', 'queue'), eb('afterHoursTargetId', '=', queueId)]),
      ]),
    );
  }
  if (query.businessHoursId !== undefined)
    q = q.where('businessHoursId', '=', query.businessHoursId);
  return paginate(q, query, { number: 'number', createdAt: 'createdAt', id: 'id' }, 'dids');
}

export async function insertDid(
  db: Executor,
  tenantId: number,
  values: DidValues,
): Promise<number> {
  const result = await db
    .insertInto('dids')
    .values({ ...values, tenantId })
    .executeTakeFirstOrThrow();
  return Number(result.insertId);
}

export async function updateDid(
  db: Executor,
  tenantId: number,
  id: number,
  version: number,
  values: Omit<Updateable<DidTable>, 'tenantId' | 'id' | 'version'>,
): Promise<boolean> {
  const result = await db
    .updateTable('dids')
    .set({ ...values, version: sql<number>`version + 1` })
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteDid(db: Executor, tenantId: number, id: number): Promise<void> {
  await db.deleteFrom('dids').where('tenantId', '=', tenantId).where('id', '=', id).execute();
}

/** Whether `id` is a SIP trunk of the tenant (shared lock: it cannot vanish under the write). */
export async function isTenantTrunk(db: Executor, tenantId: number, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('sipEndpoints')
    .select('id')
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .where('kind', '=', 'trunk')
    .modifyEnd(sql`lock in share mode`)
    .executeTakeFirst();
  return row !== undefined;
}

export async function isTenantHours(db: Executor, tenantId: number, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('businessHours')
    .select('id')
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .modifyEnd(sql`lock in share mode`)
    .executeTakeFirst();
  return row !== undefined;
}
