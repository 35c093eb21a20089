/**
 * Business-hours evaluation: is a schedule open at an instant, and when does that next change.
 * Pure (no I/O), because the call engine asks it on every inbound call.
 *
 * A schedule is read on the wall clock of its time zone: "Mon 09:00–17:00 Europe/London" means
 * 09:00 London time whatever the UTC offset that day. So on a DST change the open period is an hour
 * shorter or longer in real time, a range that starts inside the skipped hour opens when the clock
 * jumps past its start, and wall-clock minutes that happen twice (autumn) are evaluated twice.
 * Ranges are half-open, [open, close): open at 09:00:00, closed at 17:00:00. `close` may be
 * "24:00" for a range that runs to midnight. A holiday closes its whole local calendar day.
 */

export interface WeeklyRange {
  /** 0 = Sunday … 6 = Saturday, on the local calendar. */
  day: number;
  /** "HH:MM", 00:00–23:59. */
  open: string;
  /** "HH:MM", after `open`; 24:00 allowed. */
  close: string;
}

export interface HolidayDate {
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
}

const MINUTE = 60_000;
const DAY_MINUTES = 1440;
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** "HH:MM" → minutes after midnight; undefined when malformed (24:00 is 1440). */
export function parseClock(value: string): number | undefined {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(value);
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return minutes > DAY_MINUTES ? undefined : minutes;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** True when `timezone` is a zone name the runtime knows (IANA names and their aliases). */
export function isValidTimeZone(timezone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(timezone)) return false;
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

interface WallClock {
  /** YYYY-MM-DD */
  date: string;
  weekday: number;
  /** Minutes after local midnight. */
  minute: number;
  /** The wall-clock reading as if it were UTC, in ms: differences give wall-clock durations. */
  wallMs: number;
}

function wallClock(timezone: string, instantMs: number): WallClock {
  const parts: Record<string, string> = {};
  for (const p of formatter(timezone).formatToParts(instantMs)) parts[p.type] = p.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  const hour = Number(parts.hour);
  const minute = Number(parts.minute);
  const second = Number(parts.second);
  const ms = ((instantMs % 1000) + 1000) % 1000;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
    minute: hour * 60 + minute,
    wallMs: Date.UTC(year, month - 1, day, hour, minute, second, ms),
  };
}

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(timezone: string, instantMs: number): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  return wallClock(timezone, whole).wallMs - whole;
}

/** Ranges by weekday as [open, close) minute pairs. */
type DayRanges = Array<Array<[number, number]>>;

function byDay(schedule: readonly WeeklyRange[]): DayRanges {
  const days: DayRanges = [[], [], [], [], [], [], []];
  for (const range of schedule) {
    const open = parseClock(range.open);
    const close = parseClock(range.close);
    if (open === undefined || close === undefined || open >= close) continue;
    days[range.day]?.push([open, close]);
  }
  return days;
}

function openAt(days: DayRanges, holidays: ReadonlySet<string>, wall: WallClock): boolean {
  if (holidays.has(wall.date)) return false;
  return (days[wall.weekday] ?? []).some(
    ([open, close]) => wall.minute >= open && wall.minute < close,
  );
}

function toInstant(instant: Date | number): number {
  return typeof instant === 'number' ? instant : instant.getTime();
}

/** Whether the schedule is open at `instant`, read on `timezone`'s wall clock. */
export function isOpen(
  schedule: readonly WeeklyRange[],
  holidays: readonly HolidayDate[],
  timezone: string,
  instant: Date | number,
): boolean {
  return openAt(
    byDay(schedule),
    new Set(holidays.map((h) => h.date)),
    wallClock(timezone, toInstant(instant)),
  );
}

/**
 * The first instant after `instant` at which `isOpen` gives the other answer, or null when it
 * never changes within `horizonDays` (no ranges at all, or open around the clock).
 *
 * Walks from boundary to boundary: the next wall-clock range edge or local midnight (a holiday
 * starts or ends there), or a UTC-offset change on the way, whichever comes first.
 */
export function nextChange(
  schedule: readonly WeeklyRange[],
  holidays: readonly HolidayDate[],
  timezone: string,
  instant: Date | number,
  horizonDays = 400,
): Date | null {
  const days = byDay(schedule);
  const closedDates = new Set(holidays.map((h) => h.date));
  const start = toInstant(instant);
  const initial = openAt(days, closedDates, wallClock(timezone, start));
  const limit = start + horizonDays * DAY_MINUTES * MINUTE;

  let current = start;
  while (current < limit) {
    const wall = wallClock(timezone, current);
    const msIntoDay = wall.wallMs - Date.UTC(...ymd(wall.date));
    const edges = (days[wall.weekday] ?? []).flat().concat(DAY_MINUTES);
    const nextEdge = Math.min(...edges.filter((m) => m * MINUTE > msIntoDay));
    let candidate = current + (nextEdge * MINUTE - msIntoDay);
    const offset = offsetAt(timezone, current);
    if (offsetAt(timezone, candidate) !== offset) {
      candidate = offsetChange(timezone, current, candidate, offset);
    }
    if (openAt(days, closedDates, wallClock(timezone, candidate)) !== initial) {
      return new Date(candidate);
    }
    current = candidate;
  }
  return null;
}

function ymd(date: string): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number);
  return [y ?? 1970, (m ?? 1) - 1, d ?? 1];
}

/** The first whole second in (from, to] whose offset differs from `offset` (binary search). */
function offsetChange(timezone: string, from: number, to: number, offset: number): number {
  let lo = Math.floor(from / 1000);
  let hi = Math.ceil(to / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(timezone, mid * 1000) === offset) lo = mid;
    else hi = mid;
  }
  return hi * 1000;
}
