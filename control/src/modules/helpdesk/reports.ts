/**
 * Ticket metrics for a date range [from, to): created, solved, backlog at the end, first-response
 * and resolution times (wall-clock minutes from creation), SLA achievement, per assignee.
 */
import type { Executor } from '../../db/database.ts';
import { AppError } from '../../lib/errors.ts';
import { toCsv } from './csv.ts';
import type { Report } from './schemas.ts';

interface Row {
  assigneeUserId: number | null;
  createdAt: Date;
  firstRespondedAt: Date | null;
  solvedAt: Date | null;
  firstResponseDueAt: Date | null;
  resolutionDueAt: Date | null;
  firstResponseBreachedAt: Date | null;
  resolutionBreachedAt: Date | null;
}

const minutes = (a: Date, b: Date) => (b.getTime() - a.getTime()) / 60_000;
const round = (n: number) => Math.round(n * 100) / 100;

function durations(values: number[]) {
  if (values.length === 0) return { count: 0, medianMinutes: null, avgMinutes: null };
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    count: values.length,
    medianMinutes: round(median),
    avgMinutes: round(values.reduce((s, v) => s + v, 0) / values.length),
  };
}

function metrics(rows: Row[], from: Date, to: Date) {
  const inRange = (d: Date | null) => d !== null && d >= from && d < to;
  const created = rows.filter((r) => inRange(r.createdAt));
  const solved = rows.filter((r) => inRange(r.solvedAt));
  const backlog = rows.filter(
    (r) => r.createdAt < to && (r.solvedAt === null || r.solvedAt >= to),
  ).length;
  const withTargets = solved.filter((r) => r.firstResponseDueAt || r.resolutionDueAt);
  const met = withTargets.filter(
    (r) =>
      !r.firstResponseBreachedAt &&
      !r.resolutionBreachedAt &&
      (!r.resolutionDueAt || r.solvedAt! <= r.resolutionDueAt) &&
      (!r.firstResponseDueAt || (r.firstRespondedAt ?? r.solvedAt)! <= r.firstResponseDueAt),
  );
  return {
    created: created.length,
    solved: solved.length,
    backlog,
    firstResponse: durations(
      created
        .filter((r) => r.firstRespondedAt)
        .map((r) => minutes(r.createdAt, r.firstRespondedAt!)),
    ),
    resolution: durations(solved.map((r) => minutes(r.createdAt, r.solvedAt!))),
    slaAchievementPercent: withTargets.length
      ? round((met.length / withTargets.length) * 100)
      : null,
  };
}

const MAX_RANGE_MS = 400 * 86_400_000;

export async function ticketReport(
  db: Executor,
  tenantId: number,
  fromIso: string,
  toIso: string,
): Promise<Report> {
  const from = new Date(fromIso);
  const to = new Date(toIso);
  if (!(to > from))
    throw new AppError('VALIDATION_FAILED', 'Invalid query', 400, [
      { field: 'to', message: 'must be after from' },
    ]);
  if (to.getTime() - from.getTime() > MAX_RANGE_MS)
    throw new AppError('VALIDATION_FAILED', 'Invalid query', 400, [
      { field: 'to', message: 'a range is at most 400 days' },
    ]);
  // Tickets that matter to the range: created before its end and not solved before its start.
  const rows = (await db
    .selectFrom('tickets')
    .select([
      'assigneeUserId',
      'createdAt',
      'firstRespondedAt',
      'solvedAt',
      'firstResponseDueAt',
      'resolutionDueAt',
      'firstResponseBreachedAt',
      'resolutionBreachedAt',
    ])
    .where('tenantId', '=', tenantId)
    .where('mergedIntoTicketId', 'is', null)
    .where('createdAt', '<', to)
    .where((eb) => eb.or([eb('solvedAt', 'is', null), eb('solvedAt', '>=', from)]))
    .execute()) as Row[];
  const assignees = [
    ...new Set(rows.map((r) => (r.assigneeUserId === null ? null : Number(r.assigneeUserId)))),
  ].sort((a, b) => (a ?? 0) - (b ?? 0));
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    ...metrics(rows, from, to),
    perAssignee: assignees.map((id) => ({
      assigneeUserId: id,
      ...metrics(
        rows.filter((r) => (r.assigneeUserId === null ? null : Number(r.assigneeUserId)) === id),
        from,
        to,
      ),
    })),
  };
}

export function reportCsv(report: Report): string {
  const header = [
    'assignee_user_id',
    'created',
    'solved',
    'backlog',
    'first_response_median_min',
    'first_response_avg_min',
    'resolution_median_min',
    'resolution_avg_min',
    'sla_achievement_percent',
  ];
  const line = (who: string, m: Omit<Report, 'from' | 'to' | 'perAssignee'>) => [
    who,
    m.created,
    m.solved,
    m.backlog,
    m.firstResponse.medianMinutes,
    m.firstResponse.avgMinutes,
    m.resolution.medianMinutes,
    m.resolution.avgMinutes,
    m.slaAchievementPercent,
  ];
  return toCsv([
    header,
    line('all', report),
    ...report.perAssignee.map((a) =>
      line(a.assigneeUserId === null ? 'unassigned' : String(a.assigneeUserId), a),
    ),
  ]);
}
