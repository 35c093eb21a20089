import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { translateDbErrors } from '../../lib/db-errors.ts';
import { AppError, createError } from '../../lib/errors.ts';
import { FieldErrors } from '../../lib/field-errors.ts';
import type { Page } from '../../lib/pagination.ts';
import { fromJson, toJson } from '../../db/json.ts';
import { iso, type Ctx } from '../routing/common.ts';
import {
  checkTargets,
  findReferences,
  fromColumns,
  inUse,
  toColumns,
  type Executor,
  type Target,
} from '../routing/targets.ts';
import * as repo from './repository.ts';
import type {
  Member,
  MemberBody,
  MemberListQuery,
  MemberPatch,
  Queue,
  QueueCreate,
  QueueListQuery,
  QueuePatch,
  Skills,
} from './schemas.ts';

export const queueNotFound = createError('QUEUE_NOT_FOUND', 'Queue %s not found', 404);
const memberNotFound = createError(
  'MEMBER_NOT_FOUND',
  'User %s is not a member of this queue',
  404,
);
const NAME_TAKEN = {
  field: 'name',
  code: 'QUEUE_NAME_TAKEN',
  message: 'A queue with this name exists',
};
const NOT_A_MEMBER_ROLE = 'is not an agent, supervisor or helpdesk user of this tenant';

export function toQueue(row: repo.QueueRow): Queue {
  return {
    id: Number(row.id),
    name: row.name,
    strategy: row.strategy,
    ringTimeoutSeconds: row.ringTimeoutSeconds,
    maxWaitSeconds: row.maxWaitSeconds,
    wrapupSeconds: row.wrapupSeconds,
    announcePositionSeconds: row.announcePositionSeconds,
    serviceLevelSeconds: row.serviceLevelSeconds,
    penaltyRelaxSeconds: row.penaltyRelaxSeconds,
    requiredSkills: fromJson<Skills>(row.requiredSkills, {}),
    mohClass: row.mohClass,
    recordingEnabled: Boolean(row.recordingEnabled),
    callbackEnabled: Boolean(row.callbackEnabled),
    callbackDigit: row.callbackDigit,
    abandonCallbackSeconds: row.abandonCallbackSeconds,
    overflowTarget: fromColumns(
      row.overflowTargetType,
      row.overflowTargetId,
      row.overflowTargetValue,
    ),
    version: row.version,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

function toMember(row: repo.MemberRow): Member {
  return {
    userId: Number(row.userId),
    displayName: row.displayName,
    role: row.role,
    penalty: row.penalty,
    skills: fromJson<Skills>(row.skills, {}),
    createdAt: iso(row.createdAt),
  };
}

/** Body fields → columns; only those present. */
function queueColumns(body: Omit<QueuePatch, 'version'>): repo.QueueChanges {
  const { overflowTarget, requiredSkills, recordingEnabled, callbackEnabled, ...plain } = body;
  const columns: repo.QueueChanges = { ...plain };
  if (requiredSkills !== undefined) columns.requiredSkills = toJson(requiredSkills);
  if (recordingEnabled !== undefined) columns.recordingEnabled = recordingEnabled ? 1 : 0;
  if (callbackEnabled !== undefined) columns.callbackEnabled = callbackEnabled ? 1 : 0;
  if (overflowTarget !== undefined) {
    const c = toColumns(overflowTarget);
    Object.assign(columns, {
      overflowTargetType: c.type,
      overflowTargetId: c.id,
      overflowTargetValue: c.value,
    });
  }
  return columns;
}

async function checkOverflow(
  db: Executor,
  tenantId: number,
  target: Target | null | undefined,
  self: number | undefined,
): Promise<void> {
  const errors = new FieldErrors();
  await checkTargets(db, tenantId, [{ field: 'overflowTarget', target }], errors, {
    type: 'queue',
    id: self,
  });
  errors.throwIfAny();
}

export async function getQueue(db: Executor, tenantId: number, id: number): Promise<Queue> {
  const row = await repo.findQueue(db, tenantId, id);
  if (!row) throw queueNotFound(id);
  return toQueue(row);
}

export async function listQueues(
  db: Executor,
  tenantId: number,
  query: QueueListQuery,
): Promise<Page<Queue>> {
  const page = await repo.listQueues(db, tenantId, query);
  return { items: page.items.map(toQueue), nextCursor: page.nextCursor };
}

export async function createQueue(ctx: Ctx, body: QueueCreate): Promise<Queue> {
  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        await checkOverflow(trx, ctx.tenantId, body.overflowTarget, undefined);
        const id = await repo.insertQueue(trx, ctx.tenantId, {
          requiredSkills: toJson({}),
          ...queueColumns(body),
          name: body.name,
        } as repo.QueueValues);
        const after = await getQueue(trx, ctx.tenantId, id);
        await audit(trx, ctx.request, {
          action: 'queue.create',
          entityType: 'queue',
          entityId: id,
          after,
        });
        return after;
      }),
    NAME_TAKEN,
  );
}

/** Locks the queue row and checks the caller's version: every change to a queue starts here. */
async function lockQueue(trx: Executor, tenantId: number, id: number, version: number | undefined) {
  const row = await repo.findQueue(trx, tenantId, id, { forUpdate: true });
  if (!row) throw queueNotFound(id);
  if (version !== undefined && row.version !== version) throw versionConflict(row.version);
  return row;
}

export async function updateQueue(
  ctx: Ctx,
  id: number,
  version: number,
  patch: QueuePatch,
): Promise<Queue> {
  const { version: _ignored, ...changes } = patch;
  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        const before = toQueue(await lockQueue(trx, ctx.tenantId, id, version));
        await checkOverflow(trx, ctx.tenantId, changes.overflowTarget, id);
        await repo.updateQueue(trx, ctx.tenantId, id, version, queueColumns(changes));
        const after = await getQueue(trx, ctx.tenantId, id);
        await audit(trx, ctx.request, {
          action: 'queue.update',
          entityType: 'queue',
          entityId: id,
          before,
          after,
        });
        return after;
      }),
    NAME_TAKEN,
  );
}

export async function deleteQueue(ctx: Ctx, id: number, version: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await lockQueue(trx, ctx.tenantId, id, version);
    const refs = await findReferences(trx, ctx.tenantId, 'queue', id);
    if (refs.length > 0) throw inUse(`Queue ${row.name}`, refs);
    const members = (await repo.allMembers(trx, ctx.tenantId, id)).map(toMember);
    await repo.deleteQueue(trx, ctx.tenantId, id);
    await audit(trx, ctx.request, {
      action: 'queue.delete',
      entityType: 'queue',
      entityId: id,
      before: { ...toQueue(row), members },
    });
  });
}

export async function listMembers(
  db: Executor,
  tenantId: number,
  queueId: number,
  query: MemberListQuery,
): Promise<{ page: Page<Member>; version: number }> {
  const queue = await getQueue(db, tenantId, queueId);
  const page = await repo.listMembers(db, tenantId, queueId, query);
  return {
    page: { items: page.items.map(toMember), nextCursor: page.nextCursor },
    version: queue.version,
  };
}

function memberValues(m: MemberBody) {
  return { userId: m.userId, penalty: m.penalty ?? 0, skills: toJson(m.skills ?? {}) };
}

/**
 * Runs a membership change under the queue's lock and version, moves the queue to the next
 * version and audits it. `version` undefined (adding a member) skips the version check only.
 */
async function changeMembers<T>(
  ctx: Ctx,
  queueId: number,
  version: number | undefined,
  action: string,
  change: (trx: Executor) => Promise<T>,
): Promise<{ result: T; version: number }> {
  return ctx.db.transaction().execute(async (trx) => {
    const row = await lockQueue(trx, ctx.tenantId, queueId, version);
    const before = (await repo.allMembers(trx, ctx.tenantId, queueId)).map(toMember);
    const result = await change(trx);
    await repo.updateQueue(trx, ctx.tenantId, queueId, row.version);
    const after = (await repo.allMembers(trx, ctx.tenantId, queueId)).map(toMember);
    await audit(trx, ctx.request, {
      action,
      entityType: 'queue',
      entityId: queueId,
      before: { members: before },
      after: { members: after },
    });
    return { result, version: row.version + 1 };
  });
}

export async function addMember(ctx: Ctx, queueId: number, body: MemberBody) {
  return changeMembers(ctx, queueId, undefined, 'queue.member.add', async (trx) => {
    const eligible = await repo.eligibleUsers(trx, ctx.tenantId, [body.userId]);
    if (!eligible.has(body.userId)) {
      throw new AppError('VALIDATION_FAILED', 'Invalid body', 400, [
        { field: 'userId', message: NOT_A_MEMBER_ROLE },
      ]);
    }
    if (await repo.findMember(trx, ctx.tenantId, queueId, body.userId)) {
      throw new AppError('MEMBER_EXISTS', 'This user is already a member of the queue', 409, [
        { field: 'userId', message: 'is already a member' },
      ]);
    }
    await repo.insertMembers(trx, ctx.tenantId, queueId, [memberValues(body)]);
    return toMember((await repo.findMember(trx, ctx.tenantId, queueId, body.userId))!);
  });
}

export async function updateMember(
  ctx: Ctx,
  queueId: number,
  userId: number,
  version: number,
  patch: MemberPatch,
) {
  return changeMembers(ctx, queueId, version, 'queue.member.update', async (trx) => {
    if (!(await repo.findMember(trx, ctx.tenantId, queueId, userId))) throw memberNotFound(userId);
    await repo.updateMember(trx, ctx.tenantId, queueId, userId, {
      ...(patch.penalty !== undefined ? { penalty: patch.penalty } : {}),
      ...(patch.skills !== undefined ? { skills: toJson(patch.skills) } : {}),
    });
    return toMember((await repo.findMember(trx, ctx.tenantId, queueId, userId))!);
  });
}

export async function removeMember(ctx: Ctx, queueId: number, userId: number, version: number) {
  await changeMembers(ctx, queueId, version, 'queue.member.remove', async (trx) => {
    if (!(await repo.findMember(trx, ctx.tenantId, queueId, userId))) throw memberNotFound(userId);
    await repo.deleteMembers(trx, ctx.tenantId, queueId, userId);
  });
}

/** Replaces the whole membership; one invalid user and nothing changes. */
export async function replaceMembers(
  ctx: Ctx,
  queueId: number,
  version: number,
  members: MemberBody[],
) {
  return changeMembers(ctx, queueId, version, 'queue.members.replace', async (trx) => {
    const errors = new FieldErrors();
    const eligible = await repo.eligibleUsers(
      trx,
      ctx.tenantId,
      members.map((m) => m.userId),
    );
    const seen = new Map<number, number>();
    members.forEach((m, index) => {
      const first = seen.get(m.userId);
      if (first !== undefined)
        errors.add(`members.${index}.userId`, `repeats members.${first}.userId`);
      else if (!eligible.has(m.userId)) errors.add(`members.${index}.userId`, NOT_A_MEMBER_ROLE);
      seen.set(m.userId, first ?? index);
    });
    errors.throwIfAny();
    await repo.deleteMembers(trx, ctx.tenantId, queueId);
    await repo.insertMembers(trx, ctx.tenantId, queueId, members.map(memberValues));
    return (await repo.allMembers(trx, ctx.tenantId, queueId)).map(toMember);
  });
}
