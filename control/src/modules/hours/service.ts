import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { translateDbErrors } from '../../lib/db-errors.ts';
import { AppError, createError } from '../../lib/errors.ts';
import { FieldErrors } from '../../lib/field-errors.ts';
import { fromJson, toJson } from '../../db/json.ts';
import type { Page } from '../../lib/pagination.ts';
import { iso, type Ctx } from '../routing/common.ts';
import { inUse, type Executor } from '../routing/targets.ts';
import { isOpen, isValidTimeZone, nextChange, parseClock, type WeeklyRange } from './evaluate.ts';
import * as repo from './repository.ts';
import type { Holiday, Hours, HoursCreate, HoursListQuery, HoursPatch } from './schemas.ts';

export const hoursNotFound = createError('HOURS_NOT_FOUND', 'Business hours %s not found', 404);
const NAME_TAKEN = {
  field: 'name',
  code: 'HOURS_NAME_TAKEN',
  message: 'Business hours with this name exist',
};

const byDayAndOpen = (a: WeeklyRange, b: WeeklyRange) =>
  a.day - b.day || a.open.localeCompare(b.open);

function toHours(row: repo.HoursRow, holidays: readonly repo.HolidayRow[]): Hours {
  return {
    id: Number(row.id),
    name: row.name,
    timezone: row.timezone,
    schedule: fromJson<WeeklyRange[]>(row.weeklySchedule, []),
    holidays: holidays.map((h) => ({ date: h.date, name: h.name })),
    version: row.version,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** Ranges must open before they close and not overlap another range of the same day. */
export function checkSchedule(schedule: readonly WeeklyRange[], errors: FieldErrors): void {
  const seen: Array<{ index: number; day: number; open: number; close: number }> = [];
  schedule.forEach((range, index) => {
    const open = parseClock(range.open);
    const close = parseClock(range.close);
    if (open === undefined || close === undefined) return; // the schema already said so
    if (open === 1440) {
      errors.add(`schedule.${index}.open`, 'must be before 24:00');
      return;
    }
    if (open >= close) {
      errors.add(`schedule.${index}.close`, 'must be after open');
      return;
    }
    const clash = seen.find((s) => s.day === range.day && open < s.close && s.open < close);
    if (clash) errors.add(`schedule.${index}`, `overlaps schedule.${clash.index} on the same day`);
    seen.push({ index, day: range.day, open, close });
  });
}

function checkHolidays(holidays: readonly Holiday[], errors: FieldErrors): void {
  const dates = new Map<string, number>();
  holidays.forEach((h, index) => {
    const parsed = new Date(`${h.date}T00:00:00Z`);
    if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== h.date) {
      errors.add(`holidays.${index}.date`, 'is not a calendar date');
      return;
    }
    const first = dates.get(h.date);
    if (first !== undefined) errors.add(`holidays.${index}.date`, `repeats holidays.${first}.date`);
    else dates.set(h.date, index);
  });
}

function checkTimezone(timezone: string, errors: FieldErrors): void {
  if (!isValidTimeZone(timezone)) {
    errors.add('timezone', 'is not an IANA time zone like Europe/London');
  }
}

async function load(db: Executor, tenantId: number, id: number): Promise<Hours> {
  const row = await repo.findHours(db, tenantId, id);
  if (!row) throw hoursNotFound(id);
  const holidays = await repo.holidaysOf(db, tenantId, [id]);
  return toHours(row, holidays.get(id) ?? []);
}

export function getHours(db: Executor, tenantId: number, id: number): Promise<Hours> {
  return load(db, tenantId, id);
}

export async function listHours(
  db: Executor,
  tenantId: number,
  query: HoursListQuery,
): Promise<Page<Hours>> {
  const page = await repo.listHours(db, tenantId, query);
  const holidays = await repo.holidaysOf(
    db,
    tenantId,
    page.items.map((r) => Number(r.id)),
  );
  return {
    items: page.items.map((row) => toHours(row, holidays.get(Number(row.id)) ?? [])),
    nextCursor: page.nextCursor,
  };
}

export async function createHours(ctx: Ctx, body: HoursCreate): Promise<Hours> {
  const errors = new FieldErrors();
  const timezone = body.timezone ?? (await tenantTimezone(ctx));
  checkTimezone(timezone, errors);
  checkSchedule(body.schedule, errors);
  checkHolidays(body.holidays ?? [], errors);
  errors.throwIfAny();

  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        const id = await repo.insertHours(trx, ctx.tenantId, {
          name: body.name,
          timezone,
          weeklySchedule: toJson([...body.schedule].sort(byDayAndOpen)),
        });
        await repo.replaceHolidays(trx, ctx.tenantId, id, body.holidays ?? []);
        const after = await load(trx, ctx.tenantId, id);
        await audit(trx, ctx.request, {
          action: 'hours.create',
          entityType: 'business_hours',
          entityId: id,
          after,
        });
        return after;
      }),
    NAME_TAKEN,
  );
}

async function tenantTimezone(ctx: Ctx): Promise<string> {
  const tenant = await ctx.db
    .selectFrom('tenants')
    .select('timezone')
    .where('id', '=', ctx.tenantId)
    .executeTakeFirst();
  return tenant?.timezone ?? 'UTC';
}

export async function updateHours(
  ctx: Ctx,
  id: number,
  version: number,
  patch: HoursPatch,
): Promise<Hours> {
  const errors = new FieldErrors();
  if (patch.timezone !== undefined) checkTimezone(patch.timezone, errors);
  if (patch.schedule) checkSchedule(patch.schedule, errors);
  if (patch.holidays) checkHolidays(patch.holidays, errors);

  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        const row = await repo.findHours(trx, ctx.tenantId, id, { forUpdate: true });
        if (!row) throw hoursNotFound(id);
        if (row.version !== version) throw versionConflict(row.version);
        errors.throwIfAny();
        const before = await load(trx, ctx.tenantId, id);
        await repo.updateHours(trx, ctx.tenantId, id, version, {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.timezone !== undefined ? { timezone: patch.timezone } : {}),
          ...(patch.schedule
            ? { weeklySchedule: toJson([...patch.schedule].sort(byDayAndOpen)) }
            : {}),
        });
        if (patch.holidays) await repo.replaceHolidays(trx, ctx.tenantId, id, patch.holidays);
        const after = await load(trx, ctx.tenantId, id);
        await audit(trx, ctx.request, {
          action: 'hours.update',
          entityType: 'business_hours',
          entityId: id,
          before,
          after,
        });
        return after;
      }),
    NAME_TAKEN,
  );
}

export async function deleteHours(ctx: Ctx, id: number, version: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await repo.findHours(trx, ctx.tenantId, id, { forUpdate: true });
    if (!row) throw hoursNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    // The foreign key would quietly set the DIDs' hours to NULL: refuse instead.
    const refs = await repo.didsUsingHours(trx, ctx.tenantId, id);
    if (refs.length > 0) throw inUse(`Business hours ${row.name}`, refs);
    // SLA policies count their minutes on it: deleting it would quietly make them 24/7.
    const policies = await trx
      .selectFrom('slaPolicies')
      .select(['id', 'priority'])
      .where('tenantId', '=', ctx.tenantId)
      .where('businessHoursId', '=', id)
      .forUpdate()
      .execute();
    if (policies.length > 0) {
      throw new AppError(
        'IN_USE',
        `Business hours ${row.name} is the schedule of the SLA policies for ${policies.map((p) => p.priority).join(', ')}`,
        409,
        { referencedBy: policies.map((p) => ({ type: 'sla_policy', id: Number(p.id), name: p.priority, field: 'businessHoursId' })) },
      );
    }
    const before = await load(trx, ctx.tenantId, id);
    await repo.deleteHours(trx, ctx.tenantId, id);
    await audit(trx, ctx.request, {
      action: 'hours.delete',
      entityType: 'business_hours',
      entityId: id,
      before,
    });
  });
}

export async function hoursStatus(db: Executor, tenantId: number, id: number, at: Date) {
  const hours = await load(db, tenantId, id);
  const open = isOpen(hours.schedule, hours.holidays, hours.timezone, at);
  const change = nextChange(hours.schedule, hours.holidays, hours.timezone, at);
  return {
    open,
    at: at.toISOString(),
    nextChange: change?.toISOString() ?? null,
    timezone: hours.timezone,
  };
}
