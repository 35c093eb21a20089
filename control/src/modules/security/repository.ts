/**
 * security_blocks: platform-wide (no tenant_id: the PBX, and so an attacker's address, is shared
 * by every tenant).
 */
import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { SecurityBlockTable } from '../../db/schema.ts';
import { paginate, type ListQuery, type Page } from '../../lib/pagination.ts';

type Conn = Executor;
export type BlockRow = Selectable<SecurityBlockTable>;

const COLUMNS = [
  'id',
  'ip',
  'reason',
  'failures',
  'blockedAt',
  'expiresAt',
  'liftedAt',
  'liftReason',
  'liftedBy',
] as const;

export async function insertBlock(
  db: Conn,
  values: { ip: string; reason: string; failures: number; blockedAt: Date; expiresAt: Date },
): Promise<number> {
  const result = await db.insertInto('securityBlocks').values(values).executeTakeFirstOrThrow();
  return Number(result.insertId);
}

export async function findBlock(db: Conn, id: number, forUpdate = false): Promise<BlockRow | undefined> {
  let q = db.selectFrom('securityBlocks').select(COLUMNS).where('id', '=', id);
  if (forUpdate) q = q.forUpdate();
  return (await q.executeTakeFirst()) as BlockRow | undefined;
}

/** Not lifted (an expired one the sweep has not reached yet included). */
export async function activeBlocks(db: Conn): Promise<BlockRow[]> {
  return (await db
    .selectFrom('securityBlocks')
    .select(COLUMNS)
    .where('liftedAt', 'is', null)
    .orderBy('id')
    .execute()) as BlockRow[];
}

export async function expiredBlocks(db: Conn, now: Date, ip?: string): Promise<BlockRow[]> {
  let q = db
    .selectFrom('securityBlocks')
    .select(COLUMNS)
    .where('liftedAt', 'is', null)
    .where('expiresAt', '<=', now);
  if (ip !== undefined) q = q.where('ip', '=', ip);
  return (await q.orderBy('id').execute()) as BlockRow[];
}

export async function liftedSince(db: Conn, since: Date): Promise<BlockRow[]> {
  return (await db
    .selectFrom('securityBlocks')
    .select(COLUMNS)
    .where('liftedAt', '>=', since)
    .orderBy('id')
    .execute()) as BlockRow[];
}

/** Marks a block lifted unless it already is; false when someone else lifted it first. */
export async function markLifted(
  db: Conn,
  id: number,
  values: { liftedAt: Date; liftReason: 'expired' | 'admin'; liftedBy: number | null },
): Promise<boolean> {
  const result = await db
    .updateTable('securityBlocks')
    .set(values)
    .where('id', '=', id)
    .where('liftedAt', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function nextExpiry(db: Conn): Promise<Date | undefined> {
  const row = await db
    .selectFrom('securityBlocks')
    .select((eb) => eb.fn.min('expiresAt').as('next'))
    .where('liftedAt', 'is', null)
    .executeTakeFirst();
  return row?.next ? new Date(row.next as Date) : undefined;
}

export interface BlockFilters {
  active?: boolean;
  ip?: string;
}

export async function listBlocks(
  db: Conn,
  query: ListQuery & BlockFilters,
): Promise<Page<BlockRow>> {
  let q = db.selectFrom('securityBlocks').select(COLUMNS);
  if (query.active !== undefined) q = q.where('liftedAt', query.active ? 'is' : 'is not', null);
  if (query.ip !== undefined) q = q.where('ip', '=', query.ip);
  // Ids grow with time: newest first is `-id`, the cheapest cursor.
  return (await paginate(
    q,
    { ...query, sort: query.sort ?? '-id' },
    { id: 'id', blockedAt: 'blockedAt', expiresAt: 'expiresAt' },
    'securityBlocks',
  )) as Page<BlockRow>;
}
