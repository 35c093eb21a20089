/**
 * Voicemail messages in MySQL. Every query is scoped by tenant; `box` narrows it to one user's
 * box when the reader may see only their own.
 */
import type { Insertable, Selectable, Transaction } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Database, VoicemailTable } from '../../db/schema.ts';
import { paginate, type ListQuery, type Page } from '../../lib/pagination.ts';

export type VoicemailRow = Selectable<VoicemailTable>;
type Executor = Db | Transaction<Database>;

/** Whose messages a reader may see: all of the tenant's, or one user's box. */
export type BoxScope = { all: true } | { all: false; userId: number };

export interface VoicemailFilters {
  boxUserId?: number;
  boxName?: string;
  listened?: boolean;
}

export async function insertVoicemail(
  db: Executor,
  values: Insertable<VoicemailTable>,
): Promise<number> {
  const result = await db.insertInto('voicemails').values(values).executeTakeFirstOrThrow();
  return Number(result.insertId);
}

export async function findVoicemail(
  db: Executor,
  tenantId: number,
  id: number,
  scope: BoxScope,
): Promise<VoicemailRow | undefined> {
  let query = db
    .selectFrom('voicemails')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', id);
  if (!scope.all) query = query.where('boxUserId', '=', scope.userId);
  return query.executeTakeFirst();
}

export async function listVoicemails(
  db: Db,
  tenantId: number,
  scope: BoxScope,
  filters: VoicemailFilters,
  list: ListQuery,
): Promise<Page<VoicemailRow>> {
  let query = db.selectFrom('voicemails').selectAll().where('voicemails.tenantId', '=', tenantId);
  if (!scope.all) query = query.where('voicemails.boxUserId', '=', scope.userId);
  if (filters.boxUserId !== undefined)
    query = query.where('voicemails.boxUserId', '=', filters.boxUserId);
  if (filters.boxName !== undefined)
    query = query.where('voicemails.boxName', '=', filters.boxName);
  if (filters.listened !== undefined) {
    query = query.where('voicemails.listenedAt', filters.listened ? 'is not' : 'is', null);
  }
  return paginate(
    query,
    { ...list, sort: list.sort ?? '-createdAt' },
    { createdAt: 'createdAt', id: 'id' },
    'voicemails',
  );
}

/** Marks a message listened to; the first time counts, later ones leave it as it was. */
export async function markListened(
  db: Executor,
  tenantId: number,
  id: number,
  at: Date,
): Promise<void> {
  await db
    .updateTable('voicemails')
    .set({ listenedAt: at })
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .where('listenedAt', 'is', null)
    .execute();
}

export async function deleteVoicemail(
  db: Executor,
  tenantId: number,
  id: number,
): Promise<boolean> {
  const result = await db
    .deleteFrom('voicemails')
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The user a voicemail target names, if they belong to the tenant. */
export async function boxUserExists(db: Db, tenantId: number, userId: number): Promise<boolean> {
  const user = await db
    .selectFrom('users')
    .select('id')
    .where('tenantId', '=', tenantId)
    .where('id', '=', userId)
    .executeTakeFirst();
  return user !== undefined;
}

/** The CDR row of a call, by its linkedid. */
export async function cdrRowId(db: Db, linkedid: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('calls')
    .select('id')
    .where('linkedid', '=', linkedid)
    .executeTakeFirst();
  return row?.id;
}
