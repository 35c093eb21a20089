/**
 * Tickets over the helpdesk API: list with filters and saved views, one ticket with its thread,
 * history and attachments, changes, replies, uploads, and tickets made from voicemails. Every
 * query key starts with 'tickets', so one invalidation (a `ticket.*` event) refreshes them all.
 */
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api.ts';

export const STATUSES = ['new', 'open', 'pending', 'solved', 'closed'] as const;
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export const SLA_STATES = ['none', 'ok', 'at_risk', 'breached'] as const;
export type SlaState = (typeof SLA_STATES)[number];

export interface Link {
  kind: string;
  sourceId: string;
}

export interface Ticket {
  id: number;
  subject: string;
  requesterContactId: number | null;
  status: string;
  priority: string;
  assigneeUserId: number | null;
  groupId: number | null;
  tags: string[];
  source: Link | null;
  firstResponseDueAt: string | null;
  resolutionDueAt: string | null;
  solvedAt: string | null;
  slaState: SlaState;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface TicketDetail extends Ticket {
  links: Link[];
}

export interface Message {
  id: number;
  ticketId: number;
  kind: 'public' | 'internal' | string;
  channel: string;
  authorUserId: number | null;
  authorContactId: number | null;
  body: string;
  attachmentIds: number[];
  createdAt: string;
}

export interface HistoryEntry {
  id: number;
  actorUserId: number | null;
  action: string;
  field: string | null;
  oldValue: unknown;
  newValue: unknown;
  createdAt: string;
}

export interface Attachment {
  id: number;
  ticketId: number;
  messageId: number | null;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  createdAt: string;
}

export interface TicketFilters {
  status?: string;
  priority?: string;
  /** '0' is unassigned. */
  assigneeUserId?: string;
  slaState?: string;
  q?: string;
}

export interface View {
  id: number;
  name: string;
  filters: Record<string, string | number>;
  version: number;
}

/** The filters as the API takes them: empty ones left out, numbers as numbers. Pure. */
export function filterParams(f: TicketFilters): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(f) as Array<[keyof TicketFilters, string | undefined]>) {
    const t = v?.trim();
    if (!t) continue;
    out[k] = k === 'assigneeUserId' ? Number(t) : t;
  }
  return out;
}

/** A saved view's filters back into the form's strings. Pure. */
export function viewToFilters(view: View): TicketFilters {
  const f: TicketFilters = {};
  for (const k of ['status', 'priority', 'assigneeUserId', 'slaState', 'q'] as const) {
    const v = view.filters[k];
    if (v !== undefined && v !== null) f[k] = String(v);
  }
  return f;
}

/** The badge a list shows for a ticket's SLA, if any. Pure. */
export function slaBadge(state: SlaState): { text: string; tone: 'hot' | 'warn' } | null {
  if (state === 'breached') return { text: 'SLA breached', tone: 'hot' };
  if (state === 'at_risk') return { text: 'SLA at risk', tone: 'warn' };
  return null;
}

export const getTickets = (f: TicketFilters) =>
  api.request<Page<Ticket>>('GET', `/tickets${qs({ ...filterParams(f), limit: 100 })}`);
export const ticketsQuery = (f: TicketFilters) =>
  queryOptions({ queryKey: ['tickets', 'list', filterParams(f)], queryFn: () => getTickets(f) });
export const useTickets = (f: TicketFilters) => useQuery(ticketsQuery(f));

export const ticketQuery = (id: number) =>
  queryOptions({
    queryKey: ['tickets', id],
    queryFn: () => api.request<TicketDetail>('GET', `/tickets/${id}`),
  });
export const messagesQuery = (id: number) =>
  queryOptions({
    queryKey: ['tickets', id, 'messages'],
    queryFn: () => api.request<Page<Message>>('GET', `/tickets/${id}/messages?limit=200`),
  });
export const historyQuery = (id: number) =>
  queryOptions({
    queryKey: ['tickets', id, 'history'],
    queryFn: () => api.request<Page<HistoryEntry>>('GET', `/tickets/${id}/history?limit=200`),
  });
export const attachmentsQuery = (id: number) =>
  queryOptions({
    queryKey: ['tickets', id, 'attachments'],
    queryFn: () => api.request<Page<Attachment>>('GET', `/tickets/${id}/attachments`),
  });

export const viewsQuery = queryOptions({
  queryKey: ['tickets', 'views'],
  queryFn: () => api.request<Page<View>>('GET', '/ticket-views'),
});

export interface Assignee {
  userId: number;
  displayName: string;
}
export const assigneesQuery = queryOptions({
  queryKey: ['agents'],
  queryFn: () => api.request<{ items: Assignee[] }>('GET', '/agents'),
});

/** Mutations of the helpdesk: each invalidates every 'tickets' key when it succeeds. */
export function useTicketMutation<A, R>(fn: (args: A) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tickets'] }),
  });
}

export const patchTicket = (
  id: number,
  version: number,
  change: Partial<Pick<Ticket, 'status' | 'priority' | 'assigneeUserId'>>,
) => api.request<TicketDetail>('PATCH', `/tickets/${id}`, { ...change, version });

export const addMessage = (id: number, kind: 'public' | 'internal', body: string) =>
  api.request<Message>('POST', `/tickets/${id}/messages`, { kind, body });

export function uploadAttachment(id: number, file: File): Promise<Attachment> {
  const form = new FormData();
  form.append('file', file, file.name);
  return api.request<Attachment>('POST', `/tickets/${id}/attachments`, form);
}

export const downloadAttachment = (ticketId: number, attachmentId: number) =>
  api.download(`/tickets/${ticketId}/attachments/${attachmentId}`);

export const saveView = (name: string, filters: TicketFilters) =>
  api.request<View>('POST', '/ticket-views', { name, filters: filterParams(filters) });

export const ticketFromVoicemail = (voicemailId: number) =>
  api.request<TicketDetail>('POST', '/tickets/from-voicemail', { voicemailId });
