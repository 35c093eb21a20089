/**
 * The supervisor's wallboard, live over the WebSocket: agent state changes are applied as they
 * arrive; call events trigger one coalesced refetch of the live calls (at most every 300 ms) and
 * of today's figures (at most every 5 s), so a burst of events costs one render.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useRealtime } from '../../../lib/realtime.ts';
import { expectCall } from '../../../lib/dial.ts';
import { duration } from '../../../lib/format.ts';
import type { Agent } from '../../../lib/types.ts';
import {
  agentsByState,
  getAgentsList,
  getLiveCalls,
  getQuality,
  getQueues,
  getSummary,
  monitor,
  queueRows,
  type Quality,
} from '../api/wallboard.ts';

function useThrottled(fn: () => void, ms: number): () => void {
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => () => clearTimeout(timer.current), []);
  return () => {
    if (timer.current) return;
    const wait = Math.max(0, last.current + ms - Date.now());
    timer.current = setTimeout(() => {
      timer.current = undefined;
      last.current = Date.now();
      ref.current();
    }, wait);
  };
}

export default function WallboardPage() {
  const qc = useQueryClient();
  const queues = useQuery({ queryKey: ['queues', 'wallboard'], queryFn: getQueues });
  const calls = useQuery({
    queryKey: ['live-calls'],
    queryFn: getLiveCalls,
    refetchInterval: 15_000,
  });
  const today = useQuery({
    queryKey: ['reports', 'today'],
    queryFn: () => getSummary(),
    refetchInterval: 60_000,
  });
  const agentsQ = useQuery({ queryKey: ['agents'], queryFn: getAgentsList });
  const qualityQ = useQuery({
    queryKey: ['call-quality'],
    queryFn: getQuality,
    refetchInterval: 10_000,
  });
  const [quality, setQuality] = useState<Record<string, Quality>>({});
  const [message, setMessage] = useState<string>();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    if (qualityQ.data)
      setQuality(Object.fromEntries(qualityQ.data.items.map((q) => [q.callId, q])));
  }, [qualityQ.data]);

  const refetchCalls = useThrottled(
    () => void qc.invalidateQueries({ queryKey: ['live-calls'] }),
    300,
  );
  const refetchToday = useThrottled(
    () => void qc.invalidateQueries({ queryKey: ['reports', 'today'] }),
    5_000,
  );
  useRealtime('call.*', (e) => {
    if (e.topic === 'call.quality') {
      const q = e.data as unknown as Quality;
      setQuality((prev) => ({ ...prev, [q.callId]: q }));
      return;
    }
    refetchCalls();
    if (e.topic === 'call.ended' || e.topic === 'call.answered') refetchToday();
  });
  useRealtime('agent.state', (e) => {
    const d = e.data as {
      userId: number;
      status: string;
      reason: string | null;
      since: string;
      callId: string | null;
    };
    qc.setQueryData<{ items: Agent[] }>(
      ['agents'],
      (old) =>
        old && {
          items: old.items.map((a) =>
            a.userId === d.userId
              ? { ...a, status: d.status, reason: d.reason, since: d.since, callId: d.callId }
              : a,
          ),
        },
    );
  });

  const rows = useMemo(
    () =>
      queueRows(queues.data?.items ?? [], calls.data?.items ?? [], today.data?.queues ?? [], now),
    [queues.data, calls.data, today.data, now],
  );
  const agents = agentsQ.data?.items ?? [];
  const states = agentsByState(agents);
  const names = new Map(agents.map((a) => [a.userId, a.displayName]));

  return (
    <div className="wallboard">
      <section className="tiles" aria-label="Agents by state">
        {['available', 'on_call', 'ringing', 'wrap_up', 'away', 'offline'].map((s) => (
          <div key={s} className={`tile state-${s}`}>
            <span className="num" data-testid={`agents-${s}`}>
              {states[s] ?? 0}
            </span>
            <span>{s.replace('_', ' ')}</span>
          </div>
        ))}
      </section>
      <section className="card wide" aria-label="Queues">
        <h2>Queues today</h2>
        <table>
          <thead>
            <tr>
              <th>Queue</th>
              <th>Waiting</th>
              <th>Longest wait</th>
              <th>Answered</th>
              <th>Abandoned</th>
              <th>Service level</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-testid={`queue-${r.name}`}>
                <td>{r.name}</td>
                <td className={r.waiting ? 'hot' : ''}>{r.waiting}</td>
                <td>{r.waiting ? duration(r.longestWaitMs) : '—'}</td>
                <td>{r.answered}</td>
                <td>{r.abandoned}</td>
                <td>{r.serviceLevelPct === null ? '—' : `${r.serviceLevelPct} %`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card wide" aria-label="Live calls">
        <h2>Live calls</h2>
        {message && <p role="status">{message}</p>}
        <table>
          <thead>
            <tr>
              <th>From</th>
              <th>To</th>
              <th>Status</th>
              <th>Agent</th>
              <th>Duration</th>
              <th>Jitter</th>
              <th>Loss</th>
              <th>RTT</th>
              <th>Audio</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(calls.data?.items ?? []).map((c) => {
              const q = quality[c.callId];
              return (
                <tr key={c.callId} data-testid="live-call">
                  <td>{c.from}</td>
                  <td>{c.to}</td>
                  <td>{c.onHold ? 'on hold' : c.status}</td>
                  <td>{c.agentUserId ? (names.get(c.agentUserId) ?? c.agentUserId) : '—'}</td>
                  <td>{duration(now - Date.parse(c.answeredAt ?? c.startedAt))}</td>
                  <td>{q?.jitterMs ?? '—'} ms</td>
                  <td>{q?.packetLossPct ?? '—'} %</td>
                  <td>{q?.rttMs ?? '—'} ms</td>
                  <td>
                    {q ? (
                      q.oneWayAudio ? (
                        <strong className="error">one-way audio</strong>
                      ) : (
                        'ok'
                      )
                    ) : (
                      '—'
                    )}
                  </td>
                  <td className="row">
                    {(['listen', 'whisper', 'barge'] as const).map((m) => (
                      <button
                        key={m}
                        className="secondary"
                        disabled={!c.agentUserId}
                        onClick={() => {
                          // My phone rings for it: the softphone answers that call by itself.
                          expectCall();
                          void monitor(c.callId, m)
                            .then(() => setMessage(`${m}: your phone rings`))
                            .catch((err: Error) => setMessage(err.message));
                        }}
                      >
                        {m}
                      </button>
                    ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </div>
  );
}
