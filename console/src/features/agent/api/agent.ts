import { queryOptions, useQuery } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api.ts';
import type { Agent, CdrRow, LiveCall } from '../../../lib/types.ts';

export type { Agent, CdrRow, LiveCall };

export const getAgents = () => api.request<{ items: Agent[] }>('GET', '/agents');
export const agentsQuery = () => queryOptions({ queryKey: ['agents'], queryFn: getAgents });
export const useAgents = () => useQuery(agentsQuery());

export const setMyState = (status: 'available' | 'away' | 'offline', reason?: string) =>
  api.request<Agent>('PUT', '/agents/me/state', reason ? { status, reason } : { status });

export const softphoneSession = () =>
  api.request<{
    endpointId: number;
    username: string;
    password: string;
    uri: string;
    wsUrl: string;
  }>('POST', '/softphone/session');

export const callAction = (callId: string, action: string, body?: unknown) =>
  api.request<LiveCall>('POST', `/live-calls/${encodeURIComponent(callId)}/${action}`, body);

export const myCallsQuery = () =>
  queryOptions({
    queryKey: ['calls', 'mine'],
    queryFn: () => api.request<Page<CdrRow>>('GET', `/calls${qs({ limit: 20 })}`),
  });

/** The CDR row of a live call id, once the control plane has written it. */
export async function cdrOf(callId: string): Promise<CdrRow | undefined> {
  const page = await api.request<Page<CdrRow>>(
    'GET',
    `/calls${qs({ linkedid: callId, limit: 1 })}`,
  );
  return page.items[0];
}

export async function saveWrapUp(
  callId: string,
  notes: string,
  disposition: string | null,
): Promise<void> {
  const row = await cdrOf(callId);
  if (!row) throw new Error('The call record is not written yet');
  await api.request('PATCH', `/calls/${row.id}`, { notes, disposition });
}

export const dial = (number: string) =>
  api.request<{ number: string; kind: string }>('POST', '/calls/dial', { number });

/** A call made or taken outside Calldock, as typed by the agent (kept offline until sent). */
export interface ManualLog {
  id: string;
  /** The outbox key: the log's own id (each log is its own entry). */
  callId: string;
  createdAt: string;
  direction: 'inbound' | 'outbound';
  number: string;
  startedAt: string;
  durationSeconds: number;
  notes: string;
  disposition: string;
}

/** Sends a log; sending the same one again (same client id) stores nothing new. */
export const sendManualLog = (log: ManualLog) =>
  api.request<CdrRow>('POST', '/calls/manual', {
    clientId: log.id,
    direction: log.direction,
    number: log.number,
    startedAt: log.startedAt,
    durationSeconds: log.durationSeconds,
    notes: log.notes || null,
    disposition: log.disposition,
  });
