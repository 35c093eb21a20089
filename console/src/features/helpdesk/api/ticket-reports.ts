/**
 * Ticket reports: the API gives figures for one range; the charts ask for each day of the
 * range (at most a few weeks) to draw the series, and once for the whole range for the totals.
 */
import { queryOptions } from '@tanstack/react-query';
import { api, qs } from '../../../lib/api.ts';

interface Durations {
  count: number;
  medianMinutes: number | null;
  avgMinutes: number | null;
}
export interface Metrics {
  created: number;
  solved: number;
  backlog: number;
  firstResponse: Durations;
  resolution: Durations;
  slaAchievementPercent: number | null;
}
export interface TicketReport extends Metrics {
  from: string;
  to: string;
  perAssignee: Array<Metrics & { assigneeUserId: number | null }>;
}

/** Longest range drawn day by day; a longer one is cut to its last days. */
export const MAX_DAYS = 31;

/** The days [from, to) as [start, end) ISO pairs, at most MAX_DAYS of them. Pure. */
export function dayBuckets(fromIso: string, toIso: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const end = Date.parse(toIso);
  let t = Date.parse(fromIso);
  if (Number.isNaN(t) || Number.isNaN(end)) return out;
  t = Math.max(t, end - MAX_DAYS * 86_400_000);
  while (t < end) {
    const next = Math.min(end, t + 86_400_000);
    out.push([new Date(t).toISOString(), new Date(next).toISOString()]);
    t = next;
  }
  return out;
}

export const getTicketReport = (from: string, to: string) =>
  api.request<TicketReport>('GET', `/reports/tickets${qs({ from, to })}`);

export const ticketReportQuery = (from: string, to: string) =>
  queryOptions({
    queryKey: ['tickets', 'report', from, to],
    queryFn: () => getTicketReport(from, to),
  });

export const ticketSeriesQuery = (from: string, to: string) =>
  queryOptions({
    queryKey: ['tickets', 'report-series', from, to],
    queryFn: () =>
      Promise.all(
        dayBuckets(from, to).map(async ([f, t]) => ({
          day: f.slice(0, 10),
          ...(await getTicketReport(f, t)),
        })),
      ),
  });

export const exportTicketReport = (from: string, to: string) =>
  api.download(`/reports/tickets/export${qs({ from, to })}`);
