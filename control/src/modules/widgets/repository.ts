/** Every SQL statement of the widgets module. Tenant-scoped functions take the tenant first. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { OfflineMessageTable, WidgetCallTicketTable, WidgetTable } from '../../db/schema.ts';
import { paginate, type ListQuery, type Page } from '../../lib/pagination.ts';

export type WidgetRow = Selectable<WidgetTable>;
export type TicketRow = Selectable<WidgetCallTicketTable>;
export type OfflineMessageRow = Selectable<OfflineMessageTable>;
export type WidgetValues = Omit<Insertable<WidgetTable>, 'tenantId'>;
export type WidgetChanges = Omit<
  Updateable<WidgetTable>,
  'tenantId' | 'id' | 'version' | 'publicId'
>;

export function findWidget(
  db: Executor,
  tenantId: number,
  id: number,
): Promise<WidgetRow | undefined> {
  return db
    .selectFrom('widgets')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** By the id on customers' pages: the one lookup that is not tenant-scoped (it finds the tenant). */
export function findByPublicId(db: Executor, publicId: string): Promise<WidgetRow | undefined> {
  return db.selectFrom('widgets').selectAll().where('publicId', '=', publicId).executeTakeFirst();
}

export function listWidgets(
  db: Executor,
  tenantId: number,
  query: ListQuery,
): Promise<Page<WidgetRow>> {
  const q = db.selectFrom('widgets').selectAll().where('tenantId', '=', tenantId);
  return paginate(q, query, { name: 'name', createdAt: 'createdAt', id: 'id' }, 'widgets');
}

export async function insertWidget(
  db: Executor,
  tenantId: number,
  values: WidgetValues,
): Promise<number> {
  const result = await db
    .insertInto('widgets')
    .values({ ...values, tenantId })
    .executeTakeFirstOrThrow();
  return Number(result.insertId);
}

export async function updateWidget(
  db: Executor,
  tenantId: number,
  id: number,
  version: number,
  changes: WidgetChanges,
): Promise<boolean> {
  const result = await db
    .updateTable('widgets')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteWidget(db: Executor, tenantId: number, id: number): Promise<void> {
  await db.deleteFrom('widgets').where('tenantId', '=', tenantId).where('id', '=', id).execute();
}

export async function queueInTenant(db: Executor, tenantId: number, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('queues')
    .select('id')
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row !== undefined;
}

export async function hoursInTenant(db: Executor, tenantId: number, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('businessHours')
    .select('id')
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row !== undefined;
}

// ── Call tickets ────────────────────────────────────────────────────────────────────────────

export async function insertTicket(
  db: Executor,
  row: Insertable<WidgetCallTicketTable>,
): Promise<void> {
  await db.insertInto('widgetCallTickets').values(row).execute();
}

export function findTicket(db: Executor, ticket: string): Promise<TicketRow | undefined> {
  return db
    .selectFrom('widgetCallTickets')
    .selectAll()
    .where('ticket', '=', ticket)
    .executeTakeFirst();
}

export function findTicketByEndpoint(
  db: Executor,
  endpointId: string,
): Promise<TicketRow | undefined> {
  return db
    .selectFrom('widgetCallTickets')
    .selectAll()
    .where('endpointId', '=', endpointId)
    .executeTakeFirst();
}

export function findTicketByCall(db: Executor, linkedid: string): Promise<TicketRow | undefined> {
  return db
    .selectFrom('widgetCallTickets')
    .selectAll()
    .where('callLinkedid', '=', linkedid)
    .executeTakeFirst();
}

/** Claims an unused, unexpired ticket for a call: false when someone else did first. */
export async function useTicket(
  db: Executor,
  id: number,
  linkedid: string,
  at: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('widgetCallTickets')
    .set({ usedAt: at, callLinkedid: linkedid })
    .where('id', '=', id)
    .where('usedAt', 'is', null)
    .where('removedAt', 'is', null)
    .where('expiresAt', '>', at)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function markRemoved(db: Executor, id: number, at: Date): Promise<void> {
  await db
    .updateTable('widgetCallTickets')
    .set({ removedAt: at })
    .where('id', '=', id)
    .where('removedAt', 'is', null)
    .execute();
}

export async function setCallback(db: Executor, id: number, number: string): Promise<void> {
  await db
    .updateTable('widgetCallTickets')
    .set({ callbackNumber: number })
    .where('id', '=', id)
    .execute();
}

/** Tickets whose endpoint is still in Asterisk and whose time is up. */
export function expiredTickets(db: Executor, at: Date): Promise<TicketRow[]> {
  return db
    .selectFrom('widgetCallTickets')
    .selectAll()
    .where('removedAt', 'is', null)
    .where('expiresAt', '<=', at)
    .orderBy('id')
    .limit(500)
    .execute();
}

/** Tickets whose endpoint should be in Asterisk (re-pushed after an Asterisk restart). */
export function liveTickets(db: Executor, at: Date): Promise<TicketRow[]> {
  return db
    .selectFrom('widgetCallTickets')
    .selectAll()
    .where('removedAt', 'is', null)
    .where('expiresAt', '>', at)
    .execute();
}

// ── Offline messages ────────────────────────────────────────────────────────────────────────

export async function insertOfflineMessage(
  db: Executor,
  row: Insertable<OfflineMessageTable>,
): Promise<number> {
  const result = await db.insertInto('offlineMessages').values(row).executeTakeFirstOrThrow();
  return Number(result.insertId);
}

export function listOfflineMessages(
  db: Executor,
  tenantId: number,
  query: ListQuery & { widgetId?: number | undefined; handled?: boolean | undefined },
): Promise<Page<OfflineMessageRow>> {
  let q = db.selectFrom('offlineMessages').selectAll().where('tenantId', '=', tenantId);
  if (query.widgetId !== undefined) q = q.where('widgetId', '=', query.widgetId);
  if (query.handled !== undefined) q = q.where('handledAt', query.handled ? 'is not' : 'is', null);
  return paginate(
    q,
    { ...query, sort: query.sort ?? '-id' },
    { createdAt: 'createdAt', id: 'id' },
    'offlineMessages',
  );
}
