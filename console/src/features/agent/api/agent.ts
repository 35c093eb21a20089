import { queryOptions, useQuery } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api.ts';

export interface Agent {
  userId: number;
  displayName: string;
  extension: string | null;
  hasPhone: boolean;
  status: string;
  reason: string | null;
  since: string;
  callId: string | null;
  wrapUpUntil: string | null;
  callsAnswered: number;
}

export interface LiveCall {
  callId: string;
  status: string;
  from: string;
  to: string;
  queueId: number | null;
  agentUserId: number | null;
  startedAt: string;
  answeredAt: string | null;
  onHold: boolean;
  agentMuted: boolean;
}

export interface CdrRow {
  id: number;
  linkedid: string;
  direction: string;
  channelKind: string;
  state: string;
  fromNumber: string | null;
  toNumber: string | null;
  didId: number | null;
  queueId: number | null;
  agentUserId: number | null;
  startedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  waitMs: number;
  talkMs: number;
  holdMs: number;
  hangupCause: string | null;
  hangupSide: string | null;
  disposition: string | null;
  notes: string | null;
  recordingPath: string | null;
}

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
