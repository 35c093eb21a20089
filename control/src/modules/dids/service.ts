import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { translateDbErrors } from '../../lib/db-errors.ts';
import { createError } from '../../lib/errors.ts';
import { FieldErrors } from '../../lib/field-errors.ts';
import type { Page } from '../../lib/pagination.ts';
import { iso, type Ctx } from '../routing/common.ts';
import {
  checkTargets,
  fromColumns,
  toColumns,
  type Executor,
  type Target,
} from '../routing/targets.ts';
import * as repo from './repository.ts';
import type { Did, DidCreate, DidListQuery, DidPatch } from './schemas.ts';

export const didNotFound = createError('DID_NOT_FOUND', 'DID %s not found', 404);

/** The same answer whichever tenant holds the number: it must not tell who. */
const NUMBER_TAKEN = {
  field: 'number',
  code: 'DID_TAKEN',
  message: 'This number is already taken',
};

export function toDid(row: repo.DidRow): Did {
  return {
    id: Number(row.id),
    number: row.number,
    description: row.description,
    trunkId: row.trunkId === null ? null : Number(row.trunkId),
    target: fromColumns(row.targetType, row.targetId, row.targetValue),
    businessHoursId: row.businessHoursId === null ? null : Number(row.businessHoursId),
    afterHoursTarget: fromColumns(
      row.afterHoursTargetType,
      row.afterHoursTargetId,
      row.afterHoursTargetValue,
    ),
    callerPriority: row.callerPriority,
    version: row.version,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

function targetValues(target: Target) {
  const c = toColumns(target);
  return { targetType: c.type, targetId: c.id, targetValue: c.value };
}

function afterHoursValues(target: Target | null) {
  const c = toColumns(target);
  return { afterHoursTargetType: c.type, afterHoursTargetId: c.id, afterHoursTargetValue: c.value };
}

/**
 * Checks what a create or change sets (`changes`) against the DID it would become (`next`):
 * objects it names belong to the tenant, and after-hours routing comes with hours.
 */
async function check(
  db: Executor,
  tenantId: number,
  changes: Partial<DidCreate>,
  next: { businessHoursId: number | null; afterHoursTarget: Target | null },
): Promise<void> {
  const errors = new FieldErrors();
  if (changes.trunkId != null && !(await repo.isTenantTrunk(db, tenantId, changes.trunkId))) {
    errors.add('trunkId', 'is not a SIP trunk of this tenant');
  }
  if (
    changes.businessHoursId != null &&
    !(await repo.isTenantHours(db, tenantId, changes.businessHoursId))
  ) {
    errors.add('businessHoursId', 'is not a set of business hours of this tenant');
  }
  if (next.businessHoursId !== null && next.afterHoursTarget === null) {
    errors.add('afterHoursTarget', 'is required when businessHoursId is set');
  }
  if (next.businessHoursId === null && next.afterHoursTarget !== null) {
    errors.add('afterHoursTarget', 'needs businessHoursId: without hours it is never used');
  }
  await checkTargets(
    db,
    tenantId,
    [
      { field: 'target', target: changes.target },
      { field: 'afterHoursTarget', target: changes.afterHoursTarget },
    ],
    errors,
  );
  errors.throwIfAny();
}

export async function getDid(db: Executor, tenantId: number, id: number): Promise<Did> {
  const row = await repo.findDid(db, tenantId, id);
  if (!row) throw didNotFound(id);
  return toDid(row);
}

export async function listDids(
  db: Executor,
  tenantId: number,
  query: DidListQuery,
): Promise<Page<Did>> {
  const page = await repo.listDids(db, tenantId, query);
  return { items: page.items.map(toDid), nextCursor: page.nextCursor };
}

export async function createDid(ctx: Ctx, body: DidCreate): Promise<Did> {
  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        const next = {
          businessHoursId: body.businessHoursId ?? null,
          afterHoursTarget: body.afterHoursTarget ?? null,
        };
        await check(trx, ctx.tenantId, body, next);
        const id = await repo.insertDid(trx, ctx.tenantId, {
          number: body.number,
          description: body.description ?? null,
          trunkId: body.trunkId ?? null,
          ...targetValues(body.target),
          businessHoursId: next.businessHoursId,
          ...afterHoursValues(next.afterHoursTarget),
          callerPriority: body.callerPriority ?? 0,
        });
        const after = await getDid(trx, ctx.tenantId, id);
        await audit(trx, ctx.request, {
          action: 'did.create',
          entityType: 'did',
          entityId: id,
          after,
        });
        return after;
      }),
    NUMBER_TAKEN,
  );
}

export async function updateDid(
  ctx: Ctx,
  id: number,
  version: number,
  patch: DidPatch,
): Promise<Did> {
  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        const row = await repo.findDid(trx, ctx.tenantId, id, { forUpdate: true });
        if (!row) throw didNotFound(id);
        if (row.version !== version) throw versionConflict(row.version);
        const before = toDid(row);
        const businessHoursId =
          patch.businessHoursId !== undefined ? patch.businessHoursId : before.businessHoursId;
        // Taking the hours away takes the after-hours route with them, unless one is sent.
        const afterHoursTarget =
          patch.afterHoursTarget !== undefined
            ? patch.afterHoursTarget
            : businessHoursId === null
              ? null
              : before.afterHoursTarget;
        await check(trx, ctx.tenantId, patch, { businessHoursId, afterHoursTarget });
        await repo.updateDid(trx, ctx.tenantId, id, version, {
          ...(patch.number !== undefined ? { number: patch.number } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.trunkId !== undefined ? { trunkId: patch.trunkId } : {}),
          ...(patch.target !== undefined ? targetValues(patch.target) : {}),
          businessHoursId,
          ...afterHoursValues(afterHoursTarget),
          ...(patch.callerPriority !== undefined ? { callerPriority: patch.callerPriority } : {}),
        });
        const after = await getDid(trx, ctx.tenantId, id);
        await audit(trx, ctx.request, {
          action: 'did.update',
          entityType: 'did',
          entityId: id,
          before,
          after,
        });
        return after;
      }),
    NUMBER_TAKEN,
  );
}

export async function deleteDid(ctx: Ctx, id: number, version: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await repo.findDid(trx, ctx.tenantId, id, { forUpdate: true });
    if (!row) throw didNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    await repo.deleteDid(trx, ctx.tenantId, id);
    await audit(trx, ctx.request, {
      action: 'did.delete',
      entityType: 'did',
      entityId: id,
      before: toDid(row),
    });
  });
}
