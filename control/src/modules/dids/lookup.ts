/**
 * The routing snapshot the call engine takes for an inbound call: which tenant a dialled number
 * belongs to, where it routes, and the business hours that switch it. Read from the database on
 * every call, never cached, so a DID change applies to the next call without a restart.
 */
import type { Db } from '../../db/database.ts';
import { fromJson } from '../../db/json.ts';
import { isOpen, type WeeklyRange } from '../hours/evaluate.ts';
import { findHours, holidaysOf } from '../hours/repository.ts';
import type { Target } from '../routing/targets.ts';
import { findDidByNumber } from './repository.ts';
import { toDid } from './service.ts';
import type { Did } from './schemas.ts';

export interface DidHours {
  id: number;
  name: string;
  timezone: string;
  schedule: WeeklyRange[];
  holidays: Array<{ date: string; name: string }>;
}

export interface DidRoute {
  tenantId: number;
  did: Did;
  target: Target | null;
  afterHoursTarget: Target | null;
  /** Undefined when the DID routes the same way around the clock. */
  hours: DidHours | undefined;
}

/**
 * The route for a dialled number, or undefined when no tenant has it. Carriers often send the
 * number without its `+`; digits alone are read as E.164.
 */
export async function resolveDid(db: Db, number: string): Promise<DidRoute | undefined> {
  const dialled = number.trim();
  const e164 = /^\d+$/.test(dialled) ? `+${dialled}` : dialled;
  // Most numbers have no hours: one read, no transaction (a call's routing is the hottest path).
  const first = await findDidByNumber(db, e164);
  if (!first) return undefined;
  if (first.businessHoursId === null) {
    const did = toDid(first);
    return { tenantId: Number(first.tenantId), did, target: did.target, afterHoursTarget: did.afterHoursTarget, hours: undefined };
  }
  // With hours: one snapshot, the DID and its hours from the same point in time.
  return db.transaction().execute(async (trx) => {
    const row = await findDidByNumber(trx, e164);
    if (!row) return undefined;
    const tenantId = Number(row.tenantId);
    const did = toDid(row);
    let hours: DidHours | undefined;
    if (did.businessHoursId !== null) {
      const h = await findHours(trx, tenantId, did.businessHoursId);
      if (h) {
        const holidays =
          (await holidaysOf(trx, tenantId, [did.businessHoursId])).get(did.businessHoursId) ?? [];
        hours = {
          id: Number(h.id),
          name: h.name,
          timezone: h.timezone,
          schedule: fromJson<WeeklyRange[]>(h.weeklySchedule, []),
          holidays: holidays.map(({ date, name }) => ({ date, name })),
        };
      }
    }
    return { tenantId, did, target: did.target, afterHoursTarget: did.afterHoursTarget, hours };
  });
}

/** Where a call that arrives at `at` goes: the target in hours, the after-hours one outside. */
export function targetAt(route: DidRoute, at: Date | number = Date.now()): Target | null {
  if (!route.hours) return route.target;
  const { schedule, holidays, timezone } = route.hours;
  return isOpen(schedule, holidays, timezone, at)
    ? route.target
    : (route.afterHoursTarget ?? route.target);
}
