/**
 * Tickets: create (by hand, or from a call, voicemail, chat or offline form), change, reply,
 * merge, bulk changes. Every change writes one history row per field in the same transaction,
 * and is published to the tenant's consoles (`ticket.*`) after it commits.
 */
import { sql, type Selectable, type Updateable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { fromJson, toJson } from '../../db/json.ts';
import type { Role, TicketPriority, TicketStatus, TicketTable } from '../../db/schema.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { AppError, createError } from '../../lib/errors.ts';
import { FieldErrors } from '../../lib/field-errors.ts';
import { paginate, type Page } from '../../lib/pagination.ts';
import { likeContains } from '../../lib/search.ts';
import { forbidden } from '../../plugins/auth.ts';
import { iso } from '../routing/common.ts';
import { findOrCreateContact } from './contacts.ts';
import type { HelpdeskCtx } from './context.ts';
import { checkCustomValues } from './settings.ts';
import type {
  BulkBody,
  CustomValues,
  FromCallBody,
  FromChatBody,
  FromVoicemailBody,
  Message,
  MessageCreate,
  OfflineFormBody,
  Ticket,
  TicketCreate,
  TicketDetail,
  TicketFilters,
  TicketListQuery,
  TicketPatch,
} from './schemas.ts';
import { dueTimes } from './sla.ts';
import { AT_RISK_SHARE, slaState } from './sla-clock.ts';

export type TicketRow = Selectable<TicketTable>;
export const ticketNotFound = createError('TICKET_NOT_FOUND', 'Ticket %s not found', 404);
const ticketClosed = (id: number) =>
  new AppError('TICKET_CLOSED', `Ticket ${id} is closed; open a new ticket instead`, 409);

/** Users a ticket may be assigned to. */
const ASSIGNABLE: readonly Role[] = ['tenant_admin', 'supervisor', 'helpdesk', 'agent'];

const num = (v: number | null) => (v === null ? null : Number(v));
const isoOrNull = (d: Date | null) => (d ? iso(d) : null);

export function toTicket(row: TicketRow, now = new Date()): Ticket {
  return {
    id: Number(row.id),
    subject: row.subject,
    requesterContactId: num(row.requesterContactId),
    status: row.status,
    priority: row.priority,
    assigneeUserId: num(row.assigneeUserId),
    groupId: num(row.groupQueueId),
    tags: fromJson<string[]>(row.tags, []),
    customFields: fromJson<CustomValues>(row.customFields, {}),
    source:
      row.sourceKind && row.sourceId ? { kind: row.sourceKind, sourceId: row.sourceId } : null,
    mergedIntoTicketId: num(row.mergedIntoTicketId),
    createdByUserId: num(row.createdByUserId),
    firstResponseDueAt: isoOrNull(row.firstResponseDueAt),
    resolutionDueAt: isoOrNull(row.resolutionDueAt),
    firstRespondedAt: isoOrNull(row.firstRespondedAt),
    solvedAt: isoOrNull(row.solvedAt),
    closedAt: isoOrNull(row.closedAt),
    firstResponseBreachedAt: isoOrNull(row.firstResponseBreachedAt),
    resolutionBreachedAt: isoOrNull(row.resolutionBreachedAt),
    slaState: slaState(row, now),
    version: row.version,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export async function findTicketRow(
  db: Executor,
  tenantId: number,
  id: number,
  options: { forUpdate?: boolean } = {},
): Promise<TicketRow | undefined> {
  let q = db
    .selectFrom('tickets')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', id);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function getTicket(db: Executor, tenantId: number, id: number): Promise<TicketDetail> {
  const row = await findTicketRow(db, tenantId, id);
  if (!row) throw ticketNotFound(id);
  const links = await db
    .selectFrom('ticketLinks')
    .select(['kind', 'sourceId'])
    .where('tenantId', '=', tenantId)
    .where('ticketId', '=', id)
    .orderBy('id')
    .execute();
  return { ...toTicket(row), links };
}

// ------------------------------------------------------------------ lists

/** SQL for the SLA states, saying what `slaState` says, over the stored columns. */
function slaCondition(state: TicketFilters['slaState'], now: Date) {
  // First response counts as met by a solve too: a ticket solved without a reply is done.
  const FR_MET = sql`COALESCE(tickets.first_responded_at, tickets.solved_at)`;
  const RES_MET = sql`tickets.solved_at`;
  const FR_DUE = sql`tickets.first_response_due_at`;
  const RES_DUE = sql`tickets.resolution_due_at`;
  const late = (due: typeof FR_DUE, met: typeof FR_MET) =>
    sql`(${due} IS NOT NULL AND (${met} > ${due} OR (${met} IS NULL AND ${due} < ${now})))`;
  const breached = sql`(tickets.first_response_breached_at IS NOT NULL OR tickets.resolution_breached_at IS NOT NULL OR ${late(FR_DUE, FR_MET)} OR ${late(RES_DUE, RES_MET)})`;
  const none = sql`(tickets.first_response_due_at IS NULL AND tickets.resolution_due_at IS NULL)`;
  const near = (due: typeof FR_DUE, met: typeof FR_MET) =>
    sql`(${due} IS NOT NULL AND ${met} IS NULL AND TIMESTAMPDIFF(SECOND, ${now}, ${due}) <= TIMESTAMPDIFF(SECOND, tickets.created_at, ${due}) * ${AT_RISK_SHARE})`;
  const atRisk = sql`(${near(FR_DUE, FR_MET)} OR ${near(RES_DUE, RES_MET)})`;
  switch (state) {
    case 'none':
      return none;
    case 'breached':
      return breached;
    case 'at_risk':
      return sql`(NOT ${none} AND NOT ${breached} AND ${atRisk})`;
    default:
      return sql`(NOT ${none} AND NOT ${breached} AND NOT ${atRisk})`;
  }
}

export async function listTickets(
  db: Executor,
  tenantId: number,
  userId: number,
  query: TicketListQuery,
): Promise<Page<Ticket>> {
  let filters: TicketFilters = {};
  if (query.viewId !== undefined) {
    const view = await db
      .selectFrom('ticketViews')
      .select('filters')
      .where('tenantId', '=', tenantId)
      .where('userId', '=', userId)
      .where('id', '=', query.viewId)
      .executeTakeFirst();
    // Like any filter naming an object that is not the caller's: nothing matches.
    if (!view) return { items: [], nextCursor: null };
    filters = fromJson<TicketFilters>(view.filters, {});
  }
  const { limit: _l, cursor: _c, sort: _s, viewId: _v, ...own } = query;
  const f: TicketFilters = {
    ...filters,
    ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined)),
  };
  const now = new Date();
  let q = db.selectFrom('tickets').selectAll('tickets').where('tickets.tenantId', '=', tenantId);
  if (f.status) q = q.where('tickets.status', '=', f.status);
  if (f.priority) q = q.where('tickets.priority', '=', f.priority);
  if (f.assigneeUserId !== undefined) {
    q =
      f.assigneeUserId === 0
        ? q.where('tickets.assigneeUserId', 'is', null)
        : q.where('tickets.assigneeUserId', '=', f.assigneeUserId);
  }
  if (f.groupId !== undefined) q = q.where('tickets.groupQueueId', '=', f.groupId);
  if (f.contactId !== undefined) q = q.where('tickets.requesterContactId', '=', f.contactId);
  if (f.tag) q = q.where(sql<boolean>`JSON_CONTAINS(tickets.tags, JSON_QUOTE(${f.tag}))`);
  if (f.slaState) q = q.where(sql<boolean>`${slaCondition(f.slaState, now)}`);
  if (f.q) {
    const like = likeContains(f.q);
    q = q.where(
      sql<boolean>`(tickets.subject LIKE ${like} OR EXISTS (SELECT 1 FROM ticket_messages m WHERE m.ticket_id = tickets.id AND m.tenant_id = ${tenantId} AND m.body LIKE ${like}))`,
    );
  }
  if (f.sourceKind || f.sourceId) {
    const kind = f.sourceKind;
    const sourceId = f.sourceId;
    q = q.where((eb) => {
      let sub = eb
        .selectFrom('ticketLinks')
        .select('ticketLinks.id')
        .whereRef('ticketLinks.ticketId', '=', 'tickets.id')
        .where('ticketLinks.tenantId', '=', tenantId);
      if (kind) sub = sub.where('ticketLinks.kind', '=', kind);
      if (sourceId) sub = sub.where('ticketLinks.sourceId', '=', sourceId);
      return eb.exists(sub);
    });
  }
  const page = await paginate(
    q,
    query,
    // Keyset pagination needs non-null sort columns: due times (nullable) are filters, not sorts.
    { updatedAt: 'updatedAt', createdAt: 'createdAt', id: 'id' },
    'tickets',
  );
  return { items: page.items.map((r) => toTicket(r, now)), nextCursor: page.nextCursor };
}

// ------------------------------------------------------------------ history and live updates

export async function history(
  db: Executor,
  tenantId: number,
  ticketId: number,
  actorUserId: number | null,
  action: string,
  field: string | null = null,
  oldValue: unknown = undefined,
  newValue: unknown = undefined,
): Promise<void> {
  await db
    .insertInto('ticketHistory')
    .values({
      tenantId,
      ticketId,
      actorUserId,
      action,
      field,
      oldValue: oldValue === undefined ? null : toJson(oldValue),
      newValue: newValue === undefined ? null : toJson(newValue),
    })
    .execute();
}

function publish(ctx: HelpdeskCtx, topic: string, data: unknown): void {
  ctx.hub?.publish(ctx.tenantId, topic, data);
}

// ------------------------------------------------------------------ references

interface Refs {
  requesterContactId?: number | null | undefined;
  assigneeUserId?: number | null | undefined;
  groupId?: number | null | undefined;
}

/** Each id must be the tenant's; all problems are named at once. Shared locks hold them. */
async function checkRefs(
  trx: Executor,
  tenantId: number,
  refs: Refs,
  errors: FieldErrors,
): Promise<void> {
  const lock = sql`lock in share mode`;
  if (refs.requesterContactId) {
    const c = await trx
      .selectFrom('contacts')
      .select('id')
      .where('tenantId', '=', tenantId)
      .where('id', '=', refs.requesterContactId)
      .modifyEnd(lock)
      .executeTakeFirst();
    if (!c) errors.add('requesterContactId', 'is not a contact of this tenant');
  }
  if (refs.assigneeUserId) {
    const u = await trx
      .selectFrom('users')
      .select('id')
      .where('tenantId', '=', tenantId)
      .where('id', '=', refs.assigneeUserId)
      .where('role', 'in', [...ASSIGNABLE])
      .where('status', '=', 'active')
      .modifyEnd(lock)
      .executeTakeFirst();
    if (!u) errors.add('assigneeUserId', 'is not an active user of this tenant');
  }
  if (refs.groupId) {
    const g = await trx
      .selectFrom('queues')
      .select('id')
      .where('tenantId', '=', tenantId)
      .where('id', '=', refs.groupId)
      .modifyEnd(lock)
      .executeTakeFirst();
    if (!g) errors.add('groupId', 'is not a queue of this tenant');
  }
}

// ------------------------------------------------------------------ create

export interface NewTicket {
  subject: string;
  requesterContactId?: number | null | undefined;
  status?: TicketStatus | undefined;
  priority?: TicketPriority | undefined;
  assigneeUserId?: number | null | undefined;
  groupId?: number | null | undefined;
  tags?: string[] | undefined;
  customFields?: Record<string, unknown> | undefined;
  message?:
    | {
        kind: 'public' | 'internal';
        body: string;
        channel?: 'web' | 'phone' | 'voicemail' | 'chat' | 'form';
        fromContact?: boolean;
      }
    | undefined;
  source?: { kind: string; sourceId: string } | undefined;
}

/** Creates a ticket inside the caller's transaction; returns its id. */
async function insertTicket(trx: Executor, ctx: HelpdeskCtx, t: NewTicket): Promise<number> {
  const errors = new FieldErrors();
  await checkRefs(trx, ctx.tenantId, t, errors);
  const customFields = await checkCustomValues(trx, ctx.tenantId, t.customFields ?? {}, errors, {
    creating: true,
  });
  errors.throwIfAny();
  const now = new Date();
  const priority = t.priority ?? 'normal';
  const due = await dueTimes(trx, ctx.tenantId, priority, now);
  const status = t.status ?? 'new';
  const result = await trx
    .insertInto('tickets')
    .values({
      tenantId: ctx.tenantId,
      subject: t.subject,
      requesterContactId: t.requesterContactId ?? null,
      status,
      priority,
      assigneeUserId: t.assigneeUserId ?? null,
      groupQueueId: t.groupId ?? null,
      tags: toJson(t.tags ?? []),
      customFields: toJson(customFields),
      sourceKind: t.source?.kind ?? null,
      sourceId: t.source?.sourceId ?? null,
      createdByUserId: ctx.actorUserId,
      ...due,
      solvedAt: status === 'solved' || status === 'closed' ? now : null,
      closedAt: status === 'closed' ? now : null,
      createdAt: now,
    })
    .executeTakeFirstOrThrow();
  const id = Number(result.insertId);
  await history(trx, ctx.tenantId, id, ctx.actorUserId, 'created', null, undefined, {
    subject: t.subject,
    status,
    priority,
    source: t.source ?? null,
  });
  if (t.source) {
    await trx
      .insertInto('ticketLinks')
      .values({
        tenantId: ctx.tenantId,
        ticketId: id,
        kind: t.source.kind,
        sourceId: t.source.sourceId,
      })
      .execute();
  }
  if (t.message) {
    await trx
      .insertInto('ticketMessages')
      .values({
        tenantId: ctx.tenantId,
        ticketId: id,
        kind: t.message.kind,
        channel: t.message.channel ?? 'web',
        authorUserId: t.message.fromContact ? null : ctx.actorUserId,
        authorContactId: t.message.fromContact ? (t.requesterContactId ?? null) : null,
        body: t.message.body,
      })
      .execute();
  }
  return id;
}

async function createWith(ctx: HelpdeskCtx, t: NewTicket): Promise<TicketDetail> {
  const ticket = await ctx.db
    .transaction()
    .execute(async (trx) => getTicket(trx, ctx.tenantId, await insertTicket(trx, ctx, t)));
  publish(ctx, 'ticket.created', ticket);
  return ticket;
}

export async function createTicket(ctx: HelpdeskCtx, body: TicketCreate): Promise<TicketDetail> {
  return createWith(ctx, { ...body, message: body.message });
}

function callParty(call: {
  direction: string;
  fromNumber: string | null;
  toNumber: string | null;
}) {
  return call.direction === 'outbound' ? call.toNumber : call.fromNumber;
}

/**
 * A ticket from a CDR row. Agents may make one from a call they took; staff from any call.
 * The ticket links to the call and the call's tickets are found through the link.
 */
export async function ticketFromCall(ctx: HelpdeskCtx, body: FromCallBody): Promise<TicketDetail> {
  const call = await ctx.db
    .selectFrom('calls')
    .select([
      'id',
      'direction',
      'fromNumber',
      'toNumber',
      'startedAt',
      'talkMs',
      'agentUserId',
      'queueId',
    ])
    .where('tenantId', '=', ctx.tenantId)
    .where('id', '=', body.callId)
    .executeTakeFirst();
  if (!call) new FieldErrors().add('callId', 'is not a call of this tenant').throwIfAny();
  if (ctx.role === 'agent' && num(call!.agentUserId) !== ctx.actorUserId) {
    throw forbidden('Agents make tickets from their own calls only');
  }
  const party = callParty(call!);
  return ctx.db
    .transaction()
    .execute(async (trx) => {
      const requester = party
        ? await findOrCreateContact(trx, ctx.tenantId, { phone: party })
        : null;
      const summary = `${call!.direction} call ${call!.fromNumber ?? '?'} → ${call!.toNumber ?? '?'} at ${iso(call!.startedAt)}, talk ${Math.round(call!.talkMs / 1000)} s`;
      const id = await insertTicket(trx, ctx, {
        subject: body.subject ?? `Call from ${party ?? 'unknown number'}`,
        requesterContactId: requester,
        priority: body.priority,
        assigneeUserId: body.assigneeUserId,
        groupId: body.groupId !== undefined ? body.groupId : num(call!.queueId),
        tags: body.tags,
        source: { kind: 'call', sourceId: String(call!.id) },
        message: {
          kind: 'internal',
          channel: 'phone',
          body: body.note ? `${body.note}\n\n${summary}` : summary,
        },
      });
      return getTicket(trx, ctx.tenantId, id);
    })
    .then((ticket) => {
      publish(ctx, 'ticket.created', ticket);
      return ticket;
    });
}

export async function ticketFromVoicemail(
  ctx: HelpdeskCtx,
  body: FromVoicemailBody,
): Promise<TicketDetail> {
  const vm = await ctx.db
    .selectFrom('voicemails')
    .select(['id', 'fromNumber', 'durationMs', 'createdAt', 'boxName', 'callId'])
    .where('tenantId', '=', ctx.tenantId)
    .where('id', '=', body.voicemailId)
    .executeTakeFirst();
  if (!vm) new FieldErrors().add('voicemailId', 'is not a voicemail of this tenant').throwIfAny();
  const ticket = await ctx.db.transaction().execute(async (trx) => {
    const requester = vm!.fromNumber
      ? await findOrCreateContact(trx, ctx.tenantId, { phone: vm!.fromNumber })
      : null;
    const text = `Voicemail from ${vm!.fromNumber ?? 'unknown number'}, ${Math.round(vm!.durationMs / 1000)} s, left ${iso(vm!.createdAt)} (voicemail ${vm!.id}).`;
    const id = await insertTicket(trx, ctx, {
      subject: body.subject ?? `Voicemail from ${vm!.fromNumber ?? 'unknown number'}`,
      requesterContactId: requester,
      priority: body.priority,
      assigneeUserId: body.assigneeUserId,
      groupId: body.groupId,
      tags: body.tags,
      source: { kind: 'voicemail', sourceId: String(vm!.id) },
      message: {
        kind: 'internal',
        channel: 'voicemail',
        body: body.note ? `${body.note}\n\n${text}` : text,
      },
    });
    // The call that left the voicemail is linked too: its tickets include this one.
    if (vm!.callId !== null) {
      await trx
        .insertInto('ticketLinks')
        .ignore()
        .values({
          tenantId: ctx.tenantId,
          ticketId: id,
          kind: 'call',
          sourceId: String(vm!.callId),
        })
        .execute();
    }
    return getTicket(trx, ctx.tenantId, id);
  });
  publish(ctx, 'ticket.created', ticket);
  return ticket;
}

export async function ticketFromChat(ctx: HelpdeskCtx, body: FromChatBody): Promise<TicketDetail> {
  const ticket = await ctx.db.transaction().execute(async (trx) => {
    const visitor = body.transcript.find((m) => m.from === 'visitor');
    const requester =
      body.requesterContactId ??
      (await findOrCreateContact(trx, ctx.tenantId, {
        name: visitor?.name,
        email: body.email,
        phone: body.phone,
      }));
    const transcript = body.transcript
      .map((m) => `[${m.at ?? ''}] ${m.name ?? m.from}: ${m.text}`.replace(/^\[\] /, ''))
      .join('\n');
    const id = await insertTicket(trx, ctx, {
      subject: body.subject ?? `Chat ${body.chatId}`,
      requesterContactId: requester,
      priority: body.priority,
      assigneeUserId: body.assigneeUserId,
      groupId: body.groupId,
      tags: body.tags,
      source: { kind: 'chat', sourceId: body.chatId },
      message: { kind: 'public', channel: 'chat', body: transcript, fromContact: true },
    });
    if (body.note) {
      await trx
        .insertInto('ticketMessages')
        .values({
          tenantId: ctx.tenantId,
          ticketId: id,
          kind: 'internal',
          channel: 'chat',
          authorUserId: ctx.actorUserId,
          body: body.note,
        })
        .execute();
    }
    return getTicket(trx, ctx.tenantId, id);
  });
  publish(ctx, 'ticket.created', ticket);
  return ticket;
}

/**
 * The widget's offline form (its public endpoint belongs to the widget module): the visitor
 * becomes (or is matched to) a contact and their message opens the thread.
 */
export async function ticketFromOfflineForm(
  ctx: HelpdeskCtx,
  form: OfflineFormBody,
): Promise<TicketDetail> {
  const ticket = await ctx.db.transaction().execute(async (trx) => {
    const requester = await findOrCreateContact(trx, ctx.tenantId, {
      name: form.name,
      email: form.email,
      phone: form.phone,
    });
    const id = await insertTicket(trx, ctx, {
      subject: form.subject ?? `Message from ${form.name}`,
      requesterContactId: requester,
      source: form.submissionId ? { kind: 'offline_form', sourceId: form.submissionId } : undefined,
      message: { kind: 'public', channel: 'form', body: form.message, fromContact: true },
    });
    return getTicket(trx, ctx.tenantId, id);
  });
  publish(ctx, 'ticket.created', ticket);
  return ticket;
}

// ------------------------------------------------------------------ change

type Changes = Omit<Updateable<TicketTable>, 'version' | 'id' | 'tenantId'>;

function statusEffects(row: TicketRow, status: TicketStatus, now: Date): Changes {
  if (status === row.status) return {};
  if (status === 'solved') return { status, solvedAt: row.solvedAt ?? now };
  if (status === 'closed') return { status, solvedAt: row.solvedAt ?? now, closedAt: now };
  return { status, solvedAt: null, closedAt: null };
}

export async function updateTicket(
  ctx: HelpdeskCtx,
  id: number,
  version: number,
  patch: TicketPatch,
): Promise<TicketDetail> {
  const ticket = await ctx.db.transaction().execute(async (trx) => {
    const row = await findTicketRow(trx, ctx.tenantId, id, { forUpdate: true });
    if (!row) throw ticketNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    if (row.status === 'closed') throw ticketClosed(id);
    const errors = new FieldErrors();
    await checkRefs(trx, ctx.tenantId, patch, errors);
    const before = toTicket(row);
    let custom: CustomValues | undefined;
    if (patch.customFields !== undefined) {
      custom = await checkCustomValues(
        trx,
        ctx.tenantId,
        { ...before.customFields, ...patch.customFields },
        errors,
        { creating: false },
      );
    }
    errors.throwIfAny();
    const now = new Date();
    const changes: Changes = {};
    const logged: Array<[string, unknown, unknown]> = [];
    const set = <K extends keyof Ticket>(
      field: K,
      value: Ticket[K] | undefined,
      apply: (v: Ticket[K]) => void,
    ) => {
      if (value === undefined || JSON.stringify(value) === JSON.stringify(before[field])) return;
      apply(value);
      logged.push([field, before[field], value]);
    };
    set('subject', patch.subject, (v) => (changes.subject = v));
    set('requesterContactId', patch.requesterContactId, (v) => (changes.requesterContactId = v));
    set('assigneeUserId', patch.assigneeUserId, (v) => (changes.assigneeUserId = v));
    set('groupId', patch.groupId, (v) => (changes.groupQueueId = v));
    set('tags', patch.tags, (v) => (changes.tags = toJson(v)));
    set('customFields', custom, (v) => (changes.customFields = toJson(v)));
    set('status', patch.status, (v) =>
      Object.assign(changes, statusEffects(row, v as TicketStatus, now)),
    );
    set('priority', patch.priority, (v) => (changes.priority = v as TicketPriority));
    if (patch.priority !== undefined && patch.priority !== row.priority) {
      // A new priority restarts nothing: its targets are counted from the ticket's creation.
      Object.assign(changes, await dueTimes(trx, ctx.tenantId, patch.priority, row.createdAt));
    }
    if (logged.length === 0) return getTicket(trx, ctx.tenantId, id);
    await trx
      .updateTable('tickets')
      .set({ ...changes, version: sql<number>`version + 1` })
      .where('tenantId', '=', ctx.tenantId)
      .where('id', '=', id)
      .where('version', '=', version)
      .execute();
    for (const [field, from, to] of logged)
      await history(trx, ctx.tenantId, id, ctx.actorUserId, 'changed', field, from, to);
    return getTicket(trx, ctx.tenantId, id);
  });
  publish(ctx, 'ticket.updated', ticket);
  return ticket;
}

// ------------------------------------------------------------------ thread

async function attachmentIdsOf(
  db: Executor,
  tenantId: number,
  messageIds: number[],
): Promise<Map<number, number[]>> {
  const map = new Map<number, number[]>();
  if (messageIds.length === 0) return map;
  const rows = await db
    .selectFrom('ticketAttachments')
    .select(['id', 'messageId'])
    .where('tenantId', '=', tenantId)
    .where('messageId', 'in', messageIds)
    .orderBy('id')
    .execute();
  for (const r of rows)
    map.set(Number(r.messageId), [...(map.get(Number(r.messageId)) ?? []), Number(r.id)]);
  return map;
}

export async function listMessages(
  db: Executor,
  tenantId: number,
  ticketId: number,
  query: { limit?: number; cursor?: string; sort?: string },
): Promise<Page<Message>> {
  if (!(await findTicketRow(db, tenantId, ticketId))) throw ticketNotFound(ticketId);
  const q = db
    .selectFrom('ticketMessages')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('ticketId', '=', ticketId);
  const page = await paginate(q, query, { createdAt: 'createdAt', id: 'id' }, 'ticketMessages');
  const attachments = await attachmentIdsOf(
    db,
    tenantId,
    page.items.map((m) => Number(m.id)),
  );
  return {
    items: page.items.map((m) => ({
      id: Number(m.id),
      ticketId: Number(m.ticketId),
      kind: m.kind,
      channel: m.channel,
      authorUserId: num(m.authorUserId),
      authorContactId: num(m.authorContactId),
      body: m.body,
      movedFromTicketId: num(m.movedFromTicketId),
      attachmentIds: attachments.get(Number(m.id)) ?? [],
      createdAt: iso(m.createdAt),
    })),
    nextCursor: page.nextCursor,
  };
}

/**
 * A public reply or an internal note. The first public reply by staff is the first response
 * (and moves a new ticket to open). Attachments uploaded to the ticket can be put on it.
 */
export async function addMessage(
  ctx: HelpdeskCtx,
  ticketId: number,
  body: MessageCreate,
): Promise<Message> {
  const { message, ticket } = await ctx.db.transaction().execute(async (trx) => {
    const row = await findTicketRow(trx, ctx.tenantId, ticketId, { forUpdate: true });
    if (!row) throw ticketNotFound(ticketId);
    if (row.status === 'closed') throw ticketClosed(ticketId);
    const attachmentIds = body.attachmentIds ?? [];
    if (attachmentIds.length > 0) {
      const free = await trx
        .selectFrom('ticketAttachments')
        .select('id')
        .where('tenantId', '=', ctx.tenantId)
        .where('ticketId', '=', ticketId)
        .where('messageId', 'is', null)
        .where('id', 'in', attachmentIds)
        .execute();
      const ok = new Set(free.map((f) => Number(f.id)));
      const errors = new FieldErrors();
      attachmentIds.forEach((a, i) => {
        if (!ok.has(a))
          errors.add(`attachmentIds.${i}`, 'is not an unused attachment of this ticket');
      });
      errors.throwIfAny();
    }
    const result = await trx
      .insertInto('ticketMessages')
      .values({
        tenantId: ctx.tenantId,
        ticketId,
        kind: body.kind,
        channel: 'web',
        authorUserId: ctx.actorUserId,
        body: body.body,
      })
      .executeTakeFirstOrThrow();
    const messageId = Number(result.insertId);
    if (attachmentIds.length > 0) {
      await trx
        .updateTable('ticketAttachments')
        .set({ messageId })
        .where('tenantId', '=', ctx.tenantId)
        .where('id', 'in', attachmentIds)
        .execute();
    }
    const changes: { firstRespondedAt?: Date; status?: TicketStatus } = {};
    if (body.kind === 'public' && row.firstRespondedAt === null)
      changes.firstRespondedAt = new Date();
    if (body.kind === 'public' && row.status === 'new') changes.status = 'open';
    await trx
      .updateTable('tickets')
      .set({ ...changes, version: sql<number>`version + 1` })
      .where('tenantId', '=', ctx.tenantId)
      .where('id', '=', ticketId)
      .execute();
    await history(
      trx,
      ctx.tenantId,
      ticketId,
      ctx.actorUserId,
      body.kind === 'public' ? 'replied' : 'noted',
      null,
      undefined,
      { messageId },
    );
    if (changes.status)
      await history(
        trx,
        ctx.tenantId,
        ticketId,
        ctx.actorUserId,
        'changed',
        'status',
        row.status,
        changes.status,
      );
    if (changes.firstRespondedAt)
      await history(
        trx,
        ctx.tenantId,
        ticketId,
        ctx.actorUserId,
        'first_response',
        null,
        undefined,
        { at: changes.firstRespondedAt.toISOString() },
      );
    const page = await listMessages(trx, ctx.tenantId, ticketId, { sort: '-id', limit: 1 });
    return { message: page.items[0]!, ticket: await getTicket(trx, ctx.tenantId, ticketId) };
  });
  publish(ctx, 'ticket.message', { ticketId, message });
  publish(ctx, 'ticket.updated', ticket);
  return message;
}

export async function listHistory(
  db: Executor,
  tenantId: number,
  ticketId: number,
  query: { limit?: number; cursor?: string; sort?: string },
) {
  if (!(await findTicketRow(db, tenantId, ticketId))) throw ticketNotFound(ticketId);
  const q = db
    .selectFrom('ticketHistory')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('ticketId', '=', ticketId);
  const page = await paginate(q, query, { id: 'id' }, 'ticketHistory');
  return {
    items: page.items.map((h) => ({
      id: Number(h.id),
      actorUserId: num(h.actorUserId),
      action: h.action,
      field: h.field,
      oldValue: historyValue(h.oldValue),
      newValue: historyValue(h.newValue),
      createdAt: iso(h.createdAt),
    })),
    nextCursor: page.nextCursor,
  };
}

/**
 * A history value as stored. Some drivers hand JSON columns back already parsed: a JSON string
 * such as "solved" then arrives as the bare text, which is not JSON itself and must not turn null.
 */
function historyValue(value: unknown): unknown {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value ?? null;
}

// ------------------------------------------------------------------ merge and bulk

/**
 * Merges ticket `id` into `targetId`: its messages and attachments move to the target, its
 * links are copied there (a call linked to either finds the target), each ticket links the
 * other, and the source is closed and marked merged. Both are locked in id order.
 */
export async function mergeTickets(
  ctx: HelpdeskCtx,
  id: number,
  targetId: number,
): Promise<TicketDetail> {
  const result = await ctx.db.transaction().execute(async (trx) => {
    if (!(await findTicketRow(trx, ctx.tenantId, id))) throw ticketNotFound(id);
    if (targetId === id) new FieldErrors().add('targetTicketId', 'is this ticket').throwIfAny();
    const rows = await trx
      .selectFrom('tickets')
      .selectAll()
      .where('tenantId', '=', ctx.tenantId)
      .where('id', 'in', [id, targetId])
      .orderBy('id')
      .forUpdate()
      .execute();
    const source = rows.find((r) => Number(r.id) === id);
    const target = rows.find((r) => Number(r.id) === targetId);
    if (!source) throw ticketNotFound(id);
    if (!target)
      new FieldErrors().add('targetTicketId', 'is not a ticket of this tenant').throwIfAny();
    if (source.status === 'closed') throw ticketClosed(id);
    if (target!.status === 'closed')
      throw new AppError(
        'TICKET_CLOSED',
        `Ticket ${targetId} is closed; it cannot take a merge`,
        409,
        [{ field: 'targetTicketId', message: 'is closed' }],
      );
    const t = ctx.tenantId;
    await trx
      .updateTable('ticketMessages')
      .set({
        ticketId: targetId,
        movedFromTicketId: sql<number>`coalesce(moved_from_ticket_id, ${id})`,
      })
      .where('tenantId', '=', t)
      .where('ticketId', '=', id)
      .execute();
    await trx
      .updateTable('ticketAttachments')
      .set({ ticketId: targetId })
      .where('tenantId', '=', t)
      .where('ticketId', '=', id)
      .execute();
    const links = await trx
      .selectFrom('ticketLinks')
      .select(['kind', 'sourceId'])
      .where('tenantId', '=', t)
      .where('ticketId', '=', id)
      .execute();
    const copies = [...links, { kind: 'ticket', sourceId: String(id) }];
    await trx
      .insertInto('ticketLinks')
      .ignore()
      .values(copies.map((l) => ({ tenantId: t, ticketId: targetId, ...l })))
      .execute();
    await trx
      .insertInto('ticketLinks')
      .ignore()
      .values({ tenantId: t, ticketId: id, kind: 'ticket', sourceId: String(targetId) })
      .execute();
    const now = new Date();
    await trx
      .updateTable('tickets')
      .set({
        status: 'closed',
        closedAt: now,
        solvedAt: source.solvedAt ?? now,
        mergedIntoTicketId: targetId,
        version: sql<number>`version + 1`,
      })
      .where('tenantId', '=', t)
      .where('id', '=', id)
      .execute();
    const tags = [
      ...new Set([...fromJson<string[]>(target!.tags, []), ...fromJson<string[]>(source.tags, [])]),
    ].slice(0, 30);
    await trx
      .updateTable('tickets')
      .set({
        tags: toJson(tags),
        requesterContactId: target!.requesterContactId ?? source.requesterContactId,
        version: sql<number>`version + 1`,
      })
      .where('tenantId', '=', t)
      .where('id', '=', targetId)
      .execute();
    await history(trx, t, id, ctx.actorUserId, 'merged_into', 'mergedIntoTicketId', null, targetId);
    await history(trx, t, targetId, ctx.actorUserId, 'merged_from', null, undefined, {
      ticketId: id,
    });
    return { source: await getTicket(trx, t, id), target: await getTicket(trx, t, targetId) };
  });
  publish(ctx, 'ticket.merged', { sourceTicketId: id, targetTicketId: targetId });
  publish(ctx, 'ticket.updated', result.source);
  publish(ctx, 'ticket.updated', result.target);
  return result.target;
}

/** Assigns or closes many tickets at once: all of them or none. */
export async function bulkChange(ctx: HelpdeskCtx, body: BulkBody): Promise<Ticket[]> {
  const tickets = await ctx.db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('tickets')
      .selectAll()
      .where('tenantId', '=', ctx.tenantId)
      .where('id', 'in', body.ticketIds)
      .orderBy('id')
      .forUpdate()
      .execute();
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    const errors = new FieldErrors();
    body.ticketIds.forEach((id, i) => {
      const row = byId.get(id);
      if (!row) errors.add(`ticketIds.${i}`, 'is not a ticket of this tenant');
      else if (row.status === 'closed' && body.action === 'assign')
        errors.add(`ticketIds.${i}`, 'is closed');
    });
    if (body.action === 'assign') {
      if (body.assigneeUserId === undefined) errors.add('assigneeUserId', 'is required to assign');
      else await checkRefs(trx, ctx.tenantId, { assigneeUserId: body.assigneeUserId }, errors);
    }
    errors.throwIfAny();
    const now = new Date();
    for (const row of rows) {
      const id = Number(row.id);
      if (body.action === 'assign') {
        const to = body.assigneeUserId ?? null;
        if (num(row.assigneeUserId) === to) continue;
        await trx
          .updateTable('tickets')
          .set({ assigneeUserId: to, version: sql<number>`version + 1` })
          .where('tenantId', '=', ctx.tenantId)
          .where('id', '=', id)
          .execute();
        await history(
          trx,
          ctx.tenantId,
          id,
          ctx.actorUserId,
          'changed',
          'assigneeUserId',
          num(row.assigneeUserId),
          to,
        );
      } else {
        if (row.status === 'closed') continue;
        await trx
          .updateTable('tickets')
          .set({ ...statusEffects(row, 'closed', now), version: sql<number>`version + 1` })
          .where('tenantId', '=', ctx.tenantId)
          .where('id', '=', id)
          .execute();
        await history(
          trx,
          ctx.tenantId,
          id,
          ctx.actorUserId,
          'changed',
          'status',
          row.status,
          'closed',
        );
      }
    }
    const after = await trx
      .selectFrom('tickets')
      .selectAll()
      .where('tenantId', '=', ctx.tenantId)
      .where('id', 'in', body.ticketIds)
      .orderBy('id')
      .execute();
    return after.map((r) => toTicket(r, now));
  });
  for (const t of tickets) publish(ctx, 'ticket.updated', t);
  return tickets;
}
