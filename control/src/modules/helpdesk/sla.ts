/**
 * SLA policies (one per priority), the due times they give a ticket, and the breach job.
 *
 * Due times are computed once, when a ticket is created or its priority changes, from the
 * ticket's creation and stored on it; lists read them, so a list never evaluates schedules.
 * The breach job marks missed targets with a guarded UPDATE (`... WHERE breached_at IS NULL AND
 * due < now`): two runs at once, or a run after a restart, find nothing left to mark, and the
 * history row is written only by the run whose UPDATE changed the row, in the same transaction.
 */
import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type { Db, Executor } from '../../db/database.ts';
import { fromJson } from '../../db/json.ts';
import type { Database, SlaPolicyTable, TicketPriority } from '../../db/schema.ts';
import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { translateDbErrors } from '../../lib/db-errors.ts';
import { createError } from '../../lib/errors.ts';
import { FieldErrors } from '../../lib/field-errors.ts';
import type { RealtimeHub } from '../../plugins/realtime.ts';
import type { WeeklyRange } from '../hours/evaluate.ts';
import { findHours, holidaysOf } from '../hours/repository.ts';
import { iso } from '../routing/common.ts';
import type { HelpdeskCtx } from './context.ts';
import type { SlaPolicy, SlaPolicyCreate, SlaPolicyPatch } from './schemas.ts';
import { addBusinessMinutes, type BusinessCalendar } from './sla-clock.ts';

type PolicyRow = Selectable<SlaPolicyTable>;
export const slaPolicyNotFound = createError(
  'SLA_POLICY_NOT_FOUND',
  'SLA policy %s not found',
  404,
);

function toPolicy(row: PolicyRow): SlaPolicy {
  return {
    id: Number(row.id),
    priority: row.priority,
    firstResponseMinutes: row.firstResponseMinutes,
    resolutionMinutes: row.resolutionMinutes,
    businessHoursId: row.businessHoursId === null ? null : Number(row.businessHoursId),
    version: row.version,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export async function listPolicies(db: Executor, tenantId: number): Promise<SlaPolicy[]> {
  const rows = await db
    .selectFrom('slaPolicies')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .orderBy('id')
    .execute();
  return rows.map(toPolicy);
}

async function findPolicy(db: Executor, tenantId: number, id: number, forUpdate = false) {
  let q = db
    .selectFrom('slaPolicies')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', id);
  if (forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function getPolicy(db: Executor, tenantId: number, id: number): Promise<SlaPolicy> {
  const row = await findPolicy(db, tenantId, id);
  if (!row) throw slaPolicyNotFound(id);
  return toPolicy(row);
}

async function checkHours(
  db: Executor,
  tenantId: number,
  id: number | null | undefined,
): Promise<void> {
  if (id === undefined || id === null) return;
  const hours = await db
    .selectFrom('businessHours')
    .select('id')
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .modifyEnd(sql`lock in share mode`)
    .executeTakeFirst();
  if (!hours)
    new FieldErrors().add('businessHoursId', 'is not business hours of this tenant').throwIfAny();
}

const PRIORITY_TAKEN = {
  field: 'priority',
  code: 'SLA_POLICY_EXISTS',
  message: 'This priority has a policy already',
};

export async function createPolicy(ctx: HelpdeskCtx, body: SlaPolicyCreate): Promise<SlaPolicy> {
  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        await checkHours(trx, ctx.tenantId, body.businessHoursId);
        const result = await trx
          .insertInto('slaPolicies')
          .values({
            tenantId: ctx.tenantId,
            priority: body.priority,
            firstResponseMinutes: body.firstResponseMinutes,
            resolutionMinutes: body.resolutionMinutes,
            businessHoursId: body.businessHoursId ?? null,
          })
          .executeTakeFirstOrThrow();
        const after = await getPolicy(trx, ctx.tenantId, Number(result.insertId));
        if (ctx.request)
          await audit(trx, ctx.request, {
            action: 'sla_policy.create',
            entityType: 'sla_policy',
            entityId: after.id,
            after,
          });
        return after;
      }),
    PRIORITY_TAKEN,
  );
}

/** A changed policy applies to tickets created from then on; existing due times stay. */
export async function updatePolicy(
  ctx: HelpdeskCtx,
  id: number,
  version: number,
  patch: SlaPolicyPatch,
): Promise<SlaPolicy> {
  return ctx.db.transaction().execute(async (trx) => {
    const row = await findPolicy(trx, ctx.tenantId, id, true);
    if (!row) throw slaPolicyNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    await checkHours(trx, ctx.tenantId, patch.businessHoursId);
    const { version: _v, ...changes } = patch;
    await trx
      .updateTable('slaPolicies')
      .set({ ...changes, version: sql<number>`version + 1` })
      .where('tenantId', '=', ctx.tenantId)
      .where('id', '=', id)
      .where('version', '=', version)
      .execute();
    const after = await getPolicy(trx, ctx.tenantId, id);
    if (ctx.request) {
      await audit(trx, ctx.request, {
        action: 'sla_policy.update',
        entityType: 'sla_policy',
        entityId: id,
        before: toPolicy(row),
        after,
      });
    }
    return after;
  });
}

export async function deletePolicy(ctx: HelpdeskCtx, id: number, version: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await findPolicy(trx, ctx.tenantId, id, true);
    if (!row) throw slaPolicyNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    await trx
      .deleteFrom('slaPolicies')
      .where('tenantId', '=', ctx.tenantId)
      .where('id', '=', id)
      .execute();
    if (ctx.request)
      await audit(trx, ctx.request, {
        action: 'sla_policy.delete',
        entityType: 'sla_policy',
        entityId: id,
        before: toPolicy(row),
      });
  });
}

/** The schedule a policy counts on; null = around the clock. */
async function calendarOf(
  db: Executor,
  tenantId: number,
  hoursId: number | null,
): Promise<BusinessCalendar | null> {
  if (hoursId === null) return null;
  const hours = await findHours(db, tenantId, hoursId);
  if (!hours) return null;
  const holidays = (await holidaysOf(db, tenantId, [hoursId])).get(hoursId) ?? [];
  return {
    schedule: fromJson<WeeklyRange[]>(hours.weeklySchedule, []),
    holidays: holidays.map((h) => ({ date: h.date })),
    timezone: hours.timezone,
  };
}

export interface DueTimes {
  firstResponseDueAt: Date | null;
  resolutionDueAt: Date | null;
}

/** Due times for a ticket of `priority` whose clock started at `start`. */
export async function dueTimes(
  db: Executor,
  tenantId: number,
  priority: TicketPriority,
  start: Date,
): Promise<DueTimes> {
  const policy = await db
    .selectFrom('slaPolicies')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('priority', '=', priority)
    .executeTakeFirst();
  if (!policy) return { firstResponseDueAt: null, resolutionDueAt: null };
  const calendar = await calendarOf(
    db,
    tenantId,
    policy.businessHoursId === null ? null : Number(policy.businessHoursId),
  );
  return {
    firstResponseDueAt: addBusinessMinutes(calendar, start, policy.firstResponseMinutes),
    resolutionDueAt: addBusinessMinutes(calendar, start, policy.resolutionMinutes),
  };
}

// ------------------------------------------------------------------ the breach job

type Target = 'first_response' | 'resolution';

const TARGETS: Record<
  Target,
  {
    due: 'firstResponseDueAt' | 'resolutionDueAt';
    mark: 'firstResponseBreachedAt' | 'resolutionBreachedAt';
  }
> = {
  first_response: {
    due: 'firstResponseDueAt',
    mark: 'firstResponseBreachedAt',
  },
  resolution: { due: 'resolutionDueAt', mark: 'resolutionBreachedAt' },
};

/** A target is missed when it is past due and was not met in time, and not yet marked. */
function missed(target: Target, now: Date) {
  const t = TARGETS[target];
  return (eb: ExpressionBuilder<Database, 'tickets'>) => {
    const met =
      target === 'first_response'
        ? eb.fn.coalesce('firstRespondedAt', 'solvedAt')
        : eb.ref('solvedAt');
    return eb.and([
      eb(t.mark, 'is', null),
      eb(t.due, 'is not', null),
      eb(t.due, '<', now),
      // First response is met by a reply, or by solving the ticket without one.
      eb.or([eb(met, 'is', null), eb(met, '>', eb.ref(t.due))]),
    ]);
  };
}

export interface BreachRun {
  marked: Array<{ tenantId: number; ticketId: number; target: Target }>;
}

/**
 * Marks every missed target once. Safe to run from several processes at once and again after
 * a restart: the mark is written by a row-guarded UPDATE, and its history row only when that
 * UPDATE changed the row.
 */
export async function runBreachCheck(
  db: Db,
  hub: RealtimeHub | undefined,
  now = new Date(),
): Promise<BreachRun> {
  const marked: BreachRun['marked'] = [];
  for (const target of ['first_response', 'resolution'] as const) {
    const t = TARGETS[target];
    const candidates = await db
      .selectFrom('tickets')
      .select(['id', 'tenantId', t.due])
      .where(missed(target, now))
      .where('mergedIntoTicketId', 'is', null)
      .orderBy('id')
      .limit(1000)
      .execute();
    for (const c of candidates) {
      const done = await db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('tickets')
          .set({ [t.mark]: c[t.due] })
          .where(missed(target, now))
          .where('id', '=', c.id)
          .where('tenantId', '=', c.tenantId)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return false;
        await trx
          .insertInto('ticketHistory')
          .values({
            tenantId: c.tenantId,
            ticketId: c.id,
            actorUserId: null,
            action: 'sla.breached',
            field: target,
            oldValue: null,
            newValue: JSON.stringify({ dueAt: (c[t.due] as Date).toISOString() }),
          })
          .execute();
        return true;
      });
      if (done) {
        marked.push({ tenantId: Number(c.tenantId), ticketId: Number(c.id), target });
        hub?.publish(Number(c.tenantId), 'ticket.sla_breached', { ticketId: Number(c.id), target });
      }
    }
  }
  return { marked };
}
