/**
 * SLA clocks: a target of N business minutes, started at an instant, falls due when N minutes of
 * the schedule's open time have passed. Pure, built on the same `isOpen`/`nextChange` the call
 * engine routes with, so "open" means the same thing to a caller and to a ticket.
 */
import { isOpen, nextChange, type HolidayDate, type WeeklyRange } from '../hours/evaluate.ts';

export interface BusinessCalendar {
  schedule: readonly WeeklyRange[];
  holidays: readonly HolidayDate[];
  timezone: string;
}

const MINUTE = 60_000;

/**
 * The instant at which `minutes` of open time after `start` have passed. No calendar means
 * around the clock. Null when the schedule never opens again (no ranges, or only holidays
 * within the horizon): such a target never falls due.
 */
export function addBusinessMinutes(
  calendar: BusinessCalendar | null,
  start: Date | number,
  minutes: number,
): Date | null {
  const from = typeof start === 'number' ? start : start.getTime();
  if (!calendar) return new Date(from + minutes * MINUTE);
  const { schedule, holidays, timezone } = calendar;
  let remaining = minutes * MINUTE;
  let at = from;
  // Each step crosses one open or closed period; a year of weekly periods is far below this.
  for (let step = 0; step < 5_000; step++) {
    const open = isOpen(schedule, holidays, timezone, at);
    const change = nextChange(schedule, holidays, timezone, at);
    if (open) {
      // Open around the clock from here on.
      if (change === null) return new Date(at + remaining);
      const span = change.getTime() - at;
      if (span >= remaining) return new Date(at + remaining);
      remaining -= span;
    } else if (change === null) {
      return null;
    }
    at = change!.getTime();
    if (remaining === 0) return new Date(at);
  }
  return null;
}

export type SlaState = 'none' | 'ok' | 'at_risk' | 'breached';

/** Share of a target's span left at which it is shown as at risk. */
export const AT_RISK_SHARE = 0.25;

export interface SlaClock {
  createdAt: Date;
  firstResponseDueAt: Date | null;
  resolutionDueAt: Date | null;
  firstRespondedAt: Date | null;
  solvedAt: Date | null;
  firstResponseBreachedAt: Date | null;
  resolutionBreachedAt: Date | null;
}

/**
 * A ticket's SLA state now: breached once a target was missed (marked by the job, or already
 * late and not yet marked), at risk when an unmet target has less than a quarter of its span
 * left, ok otherwise; none without targets. The list filter (repository) says the same in SQL.
 */
export function slaState(t: SlaClock, now: Date | number): SlaState {
  const at = typeof now === 'number' ? now : now.getTime();
  if (!t.firstResponseDueAt && !t.resolutionDueAt) return 'none';
  if (t.firstResponseBreachedAt || t.resolutionBreachedAt) return 'breached';
  const targets: Array<[Date | null, Date | null]> = [
    // Solving a ticket without a reply meets its first response too.
    [t.firstResponseDueAt, t.firstRespondedAt ?? t.solvedAt],
    [t.resolutionDueAt, t.solvedAt],
  ];
  let risk = false;
  for (const [due, met] of targets) {
    if (!due) continue;
    if (met) {
      if (met.getTime() > due.getTime()) return 'breached';
      continue;
    }
    if (at > due.getTime()) return 'breached';
    const span = due.getTime() - t.createdAt.getTime();
    if (due.getTime() - at <= span * AT_RISK_SHARE) risk = true;
  }
  return risk ? 'at_risk' : 'ok';
}
