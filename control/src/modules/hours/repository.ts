import { sql, type Selectable } from 'kysely';
import type { BusinessHoursTable } from '../../db/schema.ts';
import { paginate, type ListQuery, type Page } from '../../lib/pagination.ts';
import { likePrefix } from '../routing/common.ts';
import type { Executor, Reference } from '../routing/targets.ts';

export type HoursRow = Selectable<BusinessHoursTable>;
export interface HolidayRow {
  businessHoursId: number;
  date: string;
  name: string;
}

export async function findHours(
  db: Executor,
  tenantId: number,
  id: number,
  options: { forUpdate?: boolean } = {},
): Promise<HoursRow | undefined> {
  let q = db
    .selectFrom('businessHours')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', id);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function listHours(
  db: Executor,
  tenantId: number,
  query: ListQuery & { name?: string | undefined },
): Promise<Page<HoursRow>> {
  let q = db.selectFrom('businessHours').selectAll().where('tenantId', '=', tenantId);
  if (query.name) q = q.where('name', 'like', likePrefix(query.name));
  return paginate(q, query, { name: 'name', createdAt: 'createdAt', id: 'id' }, 'businessHours');
}

export async function insertHours(
  db: Executor,
  tenantId: number,
  values: { name: string; timezone: string; weeklySchedule: string },
): Promise<number> {
  const result = await db
    .insertInto('businessHours')
    .values({ tenantId, ...values })
    .executeTakeFirstOrThrow();
  return Number(result.insertId);
}

/** False when the row is gone or no longer at `version`. */
export async function updateHours(
  db: Executor,
  tenantId: number,
  id: number,
  version: number,
  values: Partial<{ name: string; timezone: string; weeklySchedule: string }>,
): Promise<boolean> {
  const result = await db
    .updateTable('businessHours')
    .set({ ...values, version: sql<number>`version + 1` })
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteHours(db: Executor, tenantId: number, id: number): Promise<void> {
  await db
    .deleteFrom('businessHours')
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

export async function holidaysOf(
  db: Executor,
  tenantId: number,
  hoursIds: readonly number[],
): Promise<Map<number, HolidayRow[]>> {
  const byHours = new Map<number, HolidayRow[]>(hoursIds.map((id) => [id, []]));
  if (hoursIds.length === 0) return byHours;
  const rows = await db
    .selectFrom('holidays')
    // DATE comes back from mysql2 as a Date at some midnight; the calendar date is what we want.
    .select(['businessHoursId', 'name', sql<string>`date_format(date, '%Y-%m-%d')`.as('date')])
    .where('tenantId', '=', tenantId)
    .where('businessHoursId', 'in', hoursIds)
    .orderBy('date')
    .execute();
  for (const row of rows) {
    byHours
      .get(Number(row.businessHoursId))
      ?.push({ ...row, businessHoursId: Number(row.businessHoursId) });
  }
  return byHours;
}

export async function replaceHolidays(
  db: Executor,
  tenantId: number,
  hoursId: number,
  holidays: ReadonlyArray<{ date: string; name: string }>,
): Promise<void> {
  await db
    .deleteFrom('holidays')
    .where('tenantId', '=', tenantId)
    .where('businessHoursId', '=', hoursId)
    .execute();
  if (holidays.length === 0) return;
  await db
    .insertInto('holidays')
    .values(
      holidays.map((h) => ({ tenantId, businessHoursId: hoursId, date: h.date, name: h.name })),
    )
    .execute();
}

/** DIDs that switch on these hours (read with a shared lock; see routing/targets.ts). */
export async function didsUsingHours(
  db: Executor,
  tenantId: number,
  hoursId: number,
): Promise<Reference[]> {
  const rows = await db
    .selectFrom('dids')
    .select(['id', 'number'])
    .where('tenantId', '=', tenantId)
    .where('businessHoursId', '=', hoursId)
    .orderBy('number')
    .modifyEnd(sql`lock in share mode`)
    .execute();
  return rows.map((r) => ({
    type: 'did',
    id: Number(r.id),
    name: r.number,
    field: 'businessHoursId',
  }));
}
