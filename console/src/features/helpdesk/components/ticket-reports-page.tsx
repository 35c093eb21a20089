/**
 * Ticket reports for a range: created, solved and backlog per day, first-response and
 * resolution times, SLA achievement, a per-assignee table and the API's CSV export.
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { saveBlob } from '../../../lib/format.ts';
import { assigneesQuery } from '../api/tickets.ts';
import {
  exportTicketReport,
  ticketReportQuery,
  ticketSeriesQuery,
  type Metrics,
} from '../api/ticket-reports.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);
const iso = (d: string) => (Number.isNaN(Date.parse(d)) ? '' : new Date(d).toISOString());
const mins = (m: number | null) => (m === null ? '—' : `${Math.round(m)} min`);
const pct = (p: number | null) => (p === null ? '—' : `${Math.round(p)}%`);

function Row({ name, m }: { name: string; m: Metrics }) {
  return (
    <tr>
      <td>{name}</td>
      <td>{m.created}</td>
      <td>{m.solved}</td>
      <td>{m.backlog}</td>
      <td>{mins(m.firstResponse.medianMinutes)}</td>
      <td>{mins(m.resolution.medianMinutes)}</td>
      <td>{pct(m.slaAchievementPercent)}</td>
    </tr>
  );
}

export default function TicketReportsPage() {
  const [from, setFrom] = useState(day(new Date(Date.now() - 6 * 86_400_000)));
  const [to, setTo] = useState(day(new Date(Date.now() + 86_400_000)));
  const range = { from: iso(from), to: iso(to) };
  const ready = Boolean(range.from && range.to && range.from < range.to);
  const total = useQuery({ ...ticketReportQuery(range.from, range.to), enabled: ready });
  const series = useQuery({ ...ticketSeriesQuery(range.from, range.to), enabled: ready });
  const people = useQuery(assigneesQuery);
  const names = new Map((people.data?.items ?? []).map((p) => [p.userId, p.displayName]));
  const [exportError, setExportError] = useState<string>();
  const r = total.data;
  const points = (series.data ?? []).map((d) => ({
    day: d.day.slice(5),
    created: d.created,
    solved: d.solved,
    backlog: d.backlog,
    firstResponse: d.firstResponse.medianMinutes,
    resolution: d.resolution.medianMinutes,
    sla: d.slaAchievementPercent,
  }));

  return (
    <div className="grid">
      <section className="card wide" aria-label="Ticket report range">
        <form className="row" onSubmit={(e) => e.preventDefault()}>
          <label>
            From <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label>
            To <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
          <button
            type="button"
            className="secondary"
            disabled={!ready}
            onClick={() => {
              setExportError(undefined);
              exportTicketReport(range.from, range.to)
                .then((b) => saveBlob(b, `ticket-report-${from}.csv`))
                .catch((err: Error) => setExportError(err.message));
            }}
          >
            Export CSV
          </button>
        </form>
        {(total.error ?? exportError) && (
          <p className="error">{total.error?.message ?? exportError}</p>
        )}
        {r && (
          <div className="tiles">
            <div className="tile">
              <span className="num">{r.created}</span>created
            </div>
            <div className="tile">
              <span className="num">{r.solved}</span>solved
            </div>
            <div className="tile">
              <span className="num">{r.backlog}</span>backlog
            </div>
            <div className="tile">
              <span className="num">{mins(r.firstResponse.medianMinutes)}</span>first response
              (median)
            </div>
            <div className="tile">
              <span className="num">{mins(r.resolution.medianMinutes)}</span>resolution (median)
            </div>
            <div className="tile">
              <span className="num">{pct(r.slaAchievementPercent)}</span>SLA achieved
            </div>
          </div>
        )}
      </section>
      {points.length > 0 && (
        <section className="card wide" aria-label="Tickets per day">
          <h2>Tickets per day</h2>
          <ResponsiveContainer width="100%" height={260}>
            <BarChart data={points}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="created" fill="#6b8cae" />
              <Bar dataKey="solved" fill="#2e8b57" />
              <Bar dataKey="backlog" fill="#c98a2b" />
            </BarChart>
          </ResponsiveContainer>
        </section>
      )}
      {points.length > 0 && (
        <section className="card wide" aria-label="Times and SLA">
          <h2>Median times (min) and SLA achievement (%)</h2>
          <ResponsiveContainer width="100%" height={260}>
            <LineChart data={points}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" />
              <YAxis />
              <Tooltip />
              <Legend />
              <Line dataKey="firstResponse" name="first response" stroke="#6b8cae" connectNulls />
              <Line dataKey="resolution" stroke="#2e8b57" connectNulls />
              <Line dataKey="sla" name="SLA %" stroke="#b03a2e" connectNulls />
            </LineChart>
          </ResponsiveContainer>
        </section>
      )}
      {r && (
        <section className="card wide" aria-label="Per assignee">
          <h2>Per assignee</h2>
          <table>
            <thead>
              <tr>
                <th>Assignee</th>
                <th>Created</th>
                <th>Solved</th>
                <th>Backlog</th>
                <th>First response</th>
                <th>Resolution</th>
                <th>SLA</th>
              </tr>
            </thead>
            <tbody>
              {r.perAssignee.map((a) => (
                <Row
                  key={a.assigneeUserId ?? 0}
                  name={
                    a.assigneeUserId === null
                      ? 'unassigned'
                      : (names.get(a.assigneeUserId) ?? `#${a.assigneeUserId}`)
                  }
                  m={a}
                />
              ))}
              <Row name="All" m={r} />
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
