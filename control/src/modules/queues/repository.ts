import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { QueueTable, Role } from '../../db/schema.ts';
import { paginate, type Page } from '../../lib/pagination.ts';
import { likePrefix } from '../routing/common.ts';
import type { Executor } from '../routing/targets.ts';
import type { MemberListQuery, QueueListQuery } from './schemas.ts';

export type QueueRow = Selectable<QueueTable>;
export type QueueValues = Omit<Insertable<QueueTable>, 'tenantId'>;
export type QueueChanges = Omit<Updateable<QueueTable>, 'tenantId' | 'id' | 'version'>;

/** Roles that can answer queue calls. */
export const MEMBER_ROLES: readonly Role[] = ['agent', 'supervisor', 'helpdesk'];

export async function findQueue(
  db: Executor,
  tenantId: number,
  id: number,
  options: { forUpdate?: boolean } = {},
): Promise<QueueRow | undefined> {
  let q = db.selectFrom('queues').selectAll().where('tenantId', '=', tenantId).where('id', '=', id);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function listQueues(
  db: Executor,
  tenantId: number,
  query: QueueListQuery,
): Promise<Page<QueueRow>> {
  let q = db.selectFrom('queues').selectAll().where('tenantId', '=', tenantId);
  if (query.name) q = q.where('name', 'like', likePrefix(query.name));
  if (query.strategy) q = q.where('strategy', '=', query.strategy);
  return paginate(q, query, { name: 'name', createdAt: 'createdAt', id: 'id' }, 'queues');
}

export async function insertQueue(
  db: Executor,
  tenantId: number,
  values: QueueValues,
): Promise<number> {
  const result = await db
    .insertInto('queues')
    .values({ ...values, tenantId })
    .executeTakeFirstOrThrow();
  return Number(result.insertId);
}

/**
 * Writes `changes` and moves the queue to the next version, only from `version`. Membership is
 * part of the queue: member changes call this with no other changes, so one ETag guards both.
 */
export async function updateQueue(
  db: Executor,
  tenantId: number,
  id: number,
  version: number,
  changes: QueueChanges = {},
): Promise<boolean> {
  const result = await db
    .updateTable('queues')
    .set({ ...changes, version: sql<number>`version + 1` })
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteQueue(db: Executor, tenantId: number, id: number): Promise<void> {
  await db.deleteFrom('queues').where('tenantId', '=', tenantId).where('id', '=', id).execute();
}

function membersQuery(db: Executor, tenantId: number, queueId: number) {
  return db
    .selectFrom('queueMembers')
    .innerJoin('users', 'users.id', 'queueMembers.userId')
    .select([
      'queueMembers.id',
      'queueMembers.userId',
      'queueMembers.penalty',
      'queueMembers.skills',
      'queueMembers.createdAt',
      'users.displayName',
      'users.role',
    ])
    .where('queueMembers.tenantId', '=', tenantId)
    .where('queueMembers.queueId', '=', queueId);
}

export type MemberRow = Awaited<
  ReturnType<ReturnType<typeof membersQuery>['executeTakeFirstOrThrow']>
>;

export async function listMembers(
  db: Executor,
  tenantId: number,
  queueId: number,
  query: MemberListQuery,
): Promise<Page<MemberRow>> {
  let q = membersQuery(db, tenantId, queueId);
  if (query.userId !== undefined) q = q.where('queueMembers.userId', '=', query.userId);
  return paginate(
    q,
    query,
    { createdAt: 'createdAt', userId: 'userId', penalty: 'penalty', id: 'id' },
    'queueMembers',
  );
}

export async function allMembers(
  db: Executor,
  tenantId: number,
  queueId: number,
): Promise<MemberRow[]> {
  return membersQuery(db, tenantId, queueId).orderBy('queueMembers.id').execute();
}

export async function findMember(
  db: Executor,
  tenantId: number,
  queueId: number,
  userId: number,
): Promise<MemberRow | undefined> {
  return membersQuery(db, tenantId, queueId)
    .where('queueMembers.userId', '=', userId)
    .executeTakeFirst();
}

export async function insertMembers(
  db: Executor,
  tenantId: number,
  queueId: number,
  members: ReadonlyArray<{ userId: number; penalty: number; skills: string }>,
): Promise<void> {
  if (members.length === 0) return;
  await db
    .insertInto('queueMembers')
    .values(members.map((m) => ({ tenantId, queueId, ...m })))
    .execute();
}

export async function updateMember(
  db: Executor,
  tenantId: number,
  queueId: number,
  userId: number,
  changes: { penalty?: number; skills?: string },
): Promise<void> {
  await db
    .updateTable('queueMembers')
    .set(changes)
    .where('tenantId', '=', tenantId)
    .where('queueId', '=', queueId)
    .where('userId', '=', userId)
    .execute();
}

export async function deleteMembers(
  db: Executor,
  tenantId: number,
  queueId: number,
  userId?: number,
): Promise<void> {
  let q = db
    .deleteFrom('queueMembers')
    .where('tenantId', '=', tenantId)
    .where('queueId', '=', queueId);
  if (userId !== undefined) q = q.where('userId', '=', userId);
  await q.execute();
}

/** Which of `userIds` may be members: users of the tenant whose role answers calls. */
export async function eligibleUsers(
  db: Executor,
  tenantId: number,
  userIds: readonly number[],
): Promise<Set<number>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('tenantId', '=', tenantId)
    .where('id', 'in', [...userIds])
    .where('role', 'in', [...MEMBER_ROLES])
    .modifyEnd(sql`lock in share mode`)
    .execute();
  return new Set(rows.map((r) => Number(r.id)));
}
