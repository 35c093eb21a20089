import { api } from '../../../lib/api.ts';
import type { Agent, LiveCall, QueueFigures, Summary } from '../../../lib/types.ts';

export interface Quality {
  callId: string;
  userId: number;
  jitterMs: number | null;
  packetLossPct: number | null;
  rttMs: number | null;
  inboundBytes: number;
  oneWayAudio: boolean;
}

export const getSummary = (from?: string, to?: string) =>
  api.request<Summary>(
    'GET',
    `/reports/summary${from && to ? `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}` : ''}`,
  );

export const getLiveCalls = () => api.request<{ items: LiveCall[] }>('GET', '/live-calls');
export const getQuality = () => api.request<{ items: Quality[] }>('GET', '/call-quality');
export const getAgentsList = () => api.request<{ items: Agent[] }>('GET', '/agents');
export const getQueues = () =>
  api.request<{ items: Array<{ id: number; name: string; serviceLevelSeconds: number }> }>(
    'GET',
    '/queues?limit=200',
  );
export const monitor = (callId: string, mode: 'listen' | 'whisper' | 'barge') =>
  api.request('POST', `/live-calls/${encodeURIComponent(callId)}/monitor`, { mode });

/** Per-queue wallboard rows from the live calls, agent list and today's figures. Pure. */
export function queueRows(
  queues: Array<{ id: number; name: string }>,
  calls: LiveCall[],
  today: QueueFigures[],
  now: number,
) {
  const byQueue = new Map(today.map((q) => [q.queueId, q]));
  return queues.map((q) => {
    const waiting = calls.filter(
      (c) => c.queueId === q.id && (c.status === 'queued' || c.status === 'offered'),
    );
    const longest = waiting.reduce((m, c) => Math.max(m, now - Date.parse(c.startedAt)), 0);
    const t = byQueue.get(q.id);
    return {
      id: q.id,
      name: q.name,
      waiting: waiting.length,
      longestWaitMs: longest,
      answered: t?.answered ?? 0,
      abandoned: t?.abandoned ?? 0,
      serviceLevelPct:
        t && t.offered ? Math.round((1000 * t.answeredWithinSl) / t.offered) / 10 : null,
    };
  });
}

export function agentsByState(agents: Array<{ status: string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of agents) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}
