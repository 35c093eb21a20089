/** Charts for a chosen range (recharts, its own chunk) and CSV export of the same figures. */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { duration, saveBlob, toCsv } from '../../../lib/format.ts';
import { summaryQuery, type Summary } from '../api/reports.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);

export function summaryCsv(s: Summary): string {
  const hours = toCsv(
    ['hour', 'offered', 'answered', 'abandoned', 'answered_within_sl'],
    s.hours.map((h) => [h.hour, h.offered, h.answered, h.abandoned, h.answeredWithinSl]),
  );
  const agents = toCsv(
    ['agent', 'answered', 'talk_ms', 'aht_ms'],
    s.agents.map((a) => [a.displayName, a.answered, a.talkMs, a.ahtMs]),
  );
  const t = s.totals;
  const totals = toCsv(
    ['offered', 'answered', 'abandoned', 'asa_ms', 'aht_ms', 'service_level_pct'],
    [[t.offered, t.answered, t.abandoned, t.asaMs, t.ahtMs, t.serviceLevelPct]],
  );
  return `${totals}\r\n${hours}\r\n${agents}`;
}

export default function ReportsPage() {
  const [from, setFrom] = useState(day(new Date()));
  const [to, setTo] = useState(day(new Date(Date.now() + 86_400_000)));
  // A half-typed date is no range yet: ask nothing until both parse.
  const iso = (d: string) => (Number.isNaN(Date.parse(d)) ? '' : new Date(d).toISOString());
  const range = { from: iso(from), to: iso(to) };
  const q = useQuery({
    ...summaryQuery(range.from, range.to),
    enabled: Boolean(range.from && range.to),
  });
  const s = q.data;
  return (
    <div className="grid">
      <section className="card wide">
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
            disabled={!s}
            onClick={() =>
              s &&
              saveBlob(
                new Blob([summaryCsv(s)], { type: 'text/csv' }),
                `calldock-report-${from}.csv`,
              )
            }
          >
            Export CSV
          </button>
        </form>
        {q.error && <p className="error">{(q.error as Error).message}</p>}
        {s && (
          <div className="tiles">
            <div className="tile">
              <span className="num">{s.totals.offered}</span>offered
            </div>
            <div className="tile">
              <span className="num">{s.totals.answered}</span>answered
            </div>
            <div className="tile">
              <span className="num">{s.totals.abandoned}</span>abandoned
            </div>
            <div className="tile">
              <span className="num">{duration(s.totals.asaMs)}</span>ASA
            </div>
            <div className="tile">
              <span className="num">{duration(s.totals.ahtMs)}</span>AHT
            </div>
            <div className="tile">
              <span className="num">{s.totals.serviceLevelPct ?? '—'}%</span>SL (
              {s.serviceLevelSeconds} s)
            </div>
          </div>
        )}
      </section>
      {s && (
        <section className="card wide" aria-label="Calls per hour">
          <h2>Calls per hour</h2>
          <ResponsiveContainer width="100%" height={280}>
            <BarChart
              data={s.hours.map((h) => ({ ...h, hour: h.hour.slice(5, 13).replace('T', ' ') }))}
            >
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="hour" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="offered" fill="#6b8cae" />
              <Bar dataKey="answered" fill="#2e8b57" />
              <Bar dataKey="abandoned" fill="#c0392b" />
            </BarChart>
          </ResponsiveContainer>
        </section>
      )}
      {s && (
        <section className="card wide" aria-label="Agents">
          <h2>Agents</h2>
          <table>
            <thead>
              <tr>
                <th>Agent</th>
                <th>Answered</th>
                <th>Talk</th>
                <th>AHT</th>
              </tr>
            </thead>
            <tbody>
              {s.agents.map((a) => (
                <tr key={a.userId}>
                  <td>{a.displayName}</td>
                  <td>{a.answered}</td>
                  <td>{duration(a.talkMs)}</td>
                  <td>{duration(a.ahtMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
