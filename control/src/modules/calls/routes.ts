/**
 * Calls over REST: the live calls of a tenant and in-call control (hold, mute, DTMF, hang-up),
 * and the CDR. An agent controls and reads only their own calls; supervisors and admins any
 * call of their tenant.
 */
import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireAuth, tenantOf } from '../../plugins/auth.ts';
import { AppError } from '../../lib/errors.ts';
import { listQuery, listResponse, paginate } from '../../lib/pagination.ts';
import { fromJson } from '../../db/json.ts';
import type { Role } from '../../db/schema.ts';
import { StringEnum } from '../routing/common.ts';
import type { ActiveCall } from './call.ts';

export const CONTROL_ROLES: readonly Role[] = ['tenant_admin', 'supervisor', 'agent', 'helpdesk'];
export const SUPERVISING: readonly Role[] = ['tenant_admin', 'supervisor'];

export const callNotFound = (id: string | number) => new AppError('CALL_NOT_FOUND', `Call ${id} not found`, 404);

export const LiveCall = Type.Object({
  callId: Type.String(),
  status: Type.String(),
  from: Type.String(),
  to: Type.String(),
  queueId: Type.Union([Type.Integer(), Type.Null()]),
  agentUserId: Type.Union([Type.Integer(), Type.Null()]),
  startedAt: Type.String({ format: 'date-time' }),
  answeredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  onHold: Type.Boolean(),
  agentMuted: Type.Boolean(),
  /** 1 for the caller at the head of their queue; null when not waiting in a queue. */
  queuePosition: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  /** Agents whose phones ring for this call right now. */
  offeredTo: Type.Array(Type.Integer()),
});

export function presentLive(call: ActiveCall, queuePosition: number | null = null) {
  return {
    callId: call.id,
    status: call.status,
    from: call.from,
    to: call.to,
    queueId: call.queueId ?? null,
    agentUserId: call.agent?.userId ?? null,
    startedAt: new Date(call.startedAt).toISOString(),
    answeredAt: call.answeredAt ? new Date(call.answeredAt).toISOString() : null,
    onHold: call.holdStartedAt !== undefined,
    agentMuted: call.agentMuted,
    queuePosition,
    offeredTo: [...call.offers.values()].map((leg) => leg.userId),
  };
}

const nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const CdrRow = Type.Object({
  id: Type.Integer(),
  linkedid: Type.String(),
  direction: Type.String(),
  channelKind: Type.String(),
  state: Type.String(),
  fromNumber: nullable(Type.String()),
  toNumber: nullable(Type.String()),
  didId: Type.Union([Type.Integer(), Type.Null()]),
  queueId: Type.Union([Type.Integer(), Type.Null()]),
  agentUserId: Type.Union([Type.Integer(), Type.Null()]),
  startedAt: Type.String({ format: 'date-time' }),
  answeredAt: nullable(Type.String({ format: 'date-time' })),
  endedAt: nullable(Type.String({ format: 'date-time' })),
  waitMs: Type.Integer(),
  talkMs: Type.Integer(),
  holdMs: Type.Integer(),
  hangupCause: nullable(Type.String()),
  hangupSide: nullable(Type.String()),
  disposition: nullable(Type.String()),
  notes: nullable(Type.String()),
  recordingPath: nullable(Type.String()),
  /** Web calls (channelKind 'web'): the widget, the page and the visitor's pre-call form. */
  widgetId: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  pageUrl: Type.Optional(nullable(Type.String())),
  visitorName: Type.Optional(nullable(Type.String())),
  visitorEmail: Type.Optional(nullable(Type.String())),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

const CSV_COLUMNS = [
  'id', 'linkedid', 'direction', 'state', 'fromNumber', 'toNumber', 'didId', 'queueId', 'agentUserId',
  'startedAt', 'answeredAt', 'endedAt', 'waitMs', 'talkMs', 'holdMs', 'hangupCause', 'hangupSide',
  'disposition', 'notes',
] as const;

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  // Quote what needs it; a leading = + - @ is defused so a spreadsheet never runs it as a formula.
  const safe = /^[=+\-@]/.test(text) && !/^[+-]?\d/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

async function* csvLines(rows: AsyncIterable<Record<string, unknown>>): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  let batch = '';
  let n = 0;
  for await (const row of rows) {
    batch += `${CSV_COLUMNS.map((c) => csvCell(row[c])).join(',')}\r\n`;
    if (++n % 200 === 0) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
}

export const callRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** The live call, if this caller may control it. */
  const liveCall = (request: FastifyRequest, callId: string): ActiveCall => {
    const auth = requireAuth(request);
    const call = app.calls.getCall(tenantOf(request), callId);
    if (!call) throw callNotFound(callId);
    if (!SUPERVISING.includes(auth.role) && call.agent?.userId !== auth.userId) throw callNotFound(callId);
    return call;
  };
  const connected = (call: ActiveCall) => {
    if (!call.agent) throw new AppError('CALL_NOT_CONNECTED', 'The call is not connected to an agent yet', 409);
    return call;
  };
  const CallParams = Type.Object({ callId: Type.String({ minLength: 1, maxLength: 128 }) });
  const control = { config: { auth: CONTROL_ROLES }, tags: ['calls'] };

  app.get(
    '/live-calls',
    {
      config: control.config,
      schema: { tags: control.tags, summary: 'Calls in progress', response: { 200: Type.Object({ items: Type.Array(LiveCall) }) } },
    },
    async (request) => {
      const auth = requireAuth(request);
      const tenantId = tenantOf(request);
      const calls = app.calls
        .activeCalls()
        .filter((c) => c.tenantId === tenantId && (SUPERVISING.includes(auth.role) || c.agent?.userId === auth.userId));
      return { items: calls.map((c) => presentLive(c, app.calls.queuePosition(c.tenantId, c.id) ?? null)) };
    },
  );

  app.get(
    '/live-calls/:callId',
    { config: control.config, schema: { tags: control.tags, params: CallParams, response: { 200: LiveCall } } },
    async (request) => {
      const call = liveCall(request, request.params.callId);
      return presentLive(call, app.calls.queuePosition(call.tenantId, call.id) ?? null);
    },
  );

  const action = (
    path: string,
    summary: string,
    run: (call: ActiveCall, body: Record<string, unknown>) => Promise<void>,
    body?: ReturnType<typeof Type.Object>,
  ) =>
    app.post(
      `/live-calls/:callId/${path}`,
      {
        config: control.config,
        schema: { tags: control.tags, summary, params: CallParams, ...(body ? { body } : {}), response: { 200: LiveCall } },
      },
      async (request) => {
        const call = liveCall(request, request.params.callId);
        await run(call, (request.body ?? {}) as Record<string, unknown>);
        return presentLive(call, app.calls.queuePosition(call.tenantId, call.id) ?? null);
      },
    );

  action('hold', 'Put the customer on hold (music for them, silence for the agent)', (c) => app.calls.hold(connected(c)));
  action('unhold', 'Take the customer off hold', (c) => app.calls.unhold(connected(c)));
  action('mute', "Mute the agent's microphone", (c) => app.calls.muteAgent(connected(c), true));
  action('unmute', "Unmute the agent's microphone", (c) => app.calls.muteAgent(connected(c), false));
  action('hangup', 'Hang the call up', (c) => app.calls.hangupCall(c));
  action(
    'dtmf',
    'Send keypad digits to the customer side',
    (c, body) => app.calls.sendDtmf(connected(c), String(body.digits)),
    Type.Object({ digits: Type.String({ pattern: '^[0-9*#A-D]{1,32}$' }) }, { additionalProperties: false }),
  );

  const CdrFilters = {
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    queueId: Type.Optional(Type.Integer({ minimum: 1 })),
    agentUserId: Type.Optional(Type.Integer({ minimum: 1 })),
    didId: Type.Optional(Type.Integer({ minimum: 1 })),
    direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('internal')])),
    state: Type.Optional(Type.String({ maxLength: 16 })),
    disposition: Type.Optional(Type.String({ maxLength: 64 })),
    linkedid: Type.Optional(Type.String({ maxLength: 128, description: 'The live call id the record belongs to' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Text in the numbers or notes' })),
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('csv')], {
        description: 'csv: every matching record (no pagination), streamed as text/csv',
      }),
    ),
  };
  type CdrQuery = { [K in keyof typeof CdrFilters]?: Static<(typeof CdrFilters)[K]> };
  const cdrQuery = (request: FastifyRequest, q: CdrQuery) => {
    const auth = requireAuth(request);
    let query = app.db.selectFrom('calls').selectAll().where('calls.tenantId', '=', tenantOf(request));
    if (!SUPERVISING.includes(auth.role)) query = query.where('calls.agentUserId', '=', auth.userId);
    if (q.from) query = query.where('calls.startedAt', '>=', new Date(q.from));
    if (q.to) query = query.where('calls.startedAt', '<', new Date(q.to));
    if (q.queueId) query = query.where('calls.queueId', '=', q.queueId);
    if (q.agentUserId) query = query.where('calls.agentUserId', '=', q.agentUserId);
    if (q.didId) query = query.where('calls.didId', '=', q.didId);
    if (q.direction) query = query.where('calls.direction', '=', q.direction);
    if (q.state) query = query.where('calls.state', '=', q.state as never);
    if (q.disposition) query = query.where('calls.disposition', '=', q.disposition);
    if (q.linkedid) query = query.where('calls.linkedid', '=', q.linkedid);
    if (q.q) {
      const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where((eb) =>
        eb.or([eb('calls.fromNumber', 'like', like), eb('calls.toNumber', 'like', like), eb('calls.notes', 'like', like)]),
      );
    }
    return query;
  };

  app.get(
    '/calls',
    {
      config: { auth: CONTROL_ROLES },
      schema: {
        tags: ['calls'],
        summary: 'Call detail records',
        description: 'Agents see only their own calls. `format=csv` streams every matching record as CSV.',
        querystring: listQuery(CdrFilters),
        response: { 200: listResponse(CdrRow) },
        produces: ['application/json', 'text/csv'],
      },
    },
    async (request, reply) => {
      const q = request.query;
      const query = cdrQuery(request, q);
      if (q.format === 'csv') {
        // Rows come from MySQL one by one (a server-side cursor): a million rows never sit in memory.
        const rows = query.orderBy('calls.startedAt', 'desc').orderBy('calls.id', 'desc').stream(500);
        reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="calls.csv"');
        // A stream skips the JSON response schema; the type provider cannot know that.
        return reply.send(Readable.from(csvLines(rows)) as never);
      }
      const page = await paginate(query, { ...q, sort: q.sort ?? '-startedAt' }, { startedAt: 'startedAt', id: 'id' }, 'calls');
      return {
        nextCursor: page.nextCursor,
        items: page.items.map((r) => ({
          ...r,
          startedAt: r.startedAt.toISOString(),
          answeredAt: iso(r.answeredAt),
          endedAt: iso(r.endedAt),
        })),
      };
    },
  );

  app.post(
    '/calls/manual',
    {
      config: { auth: CONTROL_ROLES },
      schema: {
        tags: ['calls'],
        summary: 'Log a call made or taken outside Calldock (a mobile, a desk phone elsewhere)',
        description:
          'The console makes `clientId` when the call is typed, so a log typed offline and sent ' +
          'again once online is stored once: the first request answers 201, any repeat 200 with ' +
          'the same record. The call is the caller\'s own (agentUserId).',
        body: Type.Object(
          {
            clientId: Type.String({ format: 'uuid', description: 'Made by the client; the same id is the same log' }),
            direction: StringEnum(['inbound', 'outbound']),
            number: Type.String({ pattern: '^\\+?[0-9]{3,20}$', description: 'The other party' }),
            startedAt: Type.String({ format: 'date-time' }),
            durationSeconds: Type.Integer({ minimum: 0, maximum: 86_400 }),
            notes: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
            disposition: Type.Optional(
              Type.Union([Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_-]+$' }), Type.Null()]),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: CdrRow, 201: CdrRow },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const tenantId = tenantOf(request);
      const body = request.body;
      const linkedid = `manual-${body.clientId}`;
      const startedAt = new Date(body.startedAt);
      if (startedAt.getTime() > Date.now() + 60_000) {
        throw new AppError('VALIDATION_FAILED', 'Invalid body', 400, [{ field: 'startedAt', message: 'is in the future' }]);
      }
      const endedAt = new Date(startedAt.getTime() + body.durationSeconds * 1000);
      const created = await app.db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('calls').select(['id', 'tenantId']).where('linkedid', '=', linkedid).executeTakeFirst();
        if (existing) {
          if (existing.tenantId !== tenantId) throw new AppError('CONFLICT', 'This clientId is taken', 409, [{ field: 'clientId', message: 'is used already' }]);
          return false;
        }
        const result = await trx
          .insertInto('calls')
          .values({
            tenantId,
            linkedid,
            direction: body.direction,
            channelKind: 'pstn',
            fromNumber: body.direction === 'inbound' ? body.number : null,
            toNumber: body.direction === 'outbound' ? body.number : null,
            didId: null,
            startedAt,
            answeredAt: startedAt,
            endedAt,
            talkMs: body.durationSeconds * 1000,
            state: 'ended',
            agentUserId: auth.userId,
            hangupSide: null,
            notes: body.notes ?? null,
            disposition: body.disposition ?? 'logged_manually',
          })
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('callEvents')
          .values({ tenantId, callId: Number(result.insertId), seq: 1, type: 'logged_manually', occurredAt: new Date(), data: JSON.stringify({ userId: auth.userId }) })
          .execute();
        return true;
      });
      const row = await app.db.selectFrom('calls').selectAll().where('tenantId', '=', tenantId).where('linkedid', '=', linkedid).executeTakeFirstOrThrow();
      return reply
        .status(created ? 201 : 200)
        .send({ ...row, startedAt: row.startedAt.toISOString(), answeredAt: iso(row.answeredAt), endedAt: iso(row.endedAt) });
    },
  );

  app.patch(
    '/calls/:id',
    {
      config: { auth: CONTROL_ROLES },
      schema: {
        tags: ['calls'],
        summary: 'Set the wrap-up notes and disposition of a call record',
        description:
          'Setting the same values again changes nothing: a console that retries (or syncs notes typed ' +
          'offline) never duplicates them. Agents change only their own calls.',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        body: Type.Object(
          {
            notes: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
            disposition: Type.Optional(
              Type.Union([Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_-]+$' }), Type.Null()]),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: CdrRow },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const tenantId = tenantOf(request);
      const find = () =>
        app.db.selectFrom('calls').selectAll().where('tenantId', '=', tenantId).where('id', '=', request.params.id).executeTakeFirst();
      const before = await find();
      if (!before || (!SUPERVISING.includes(auth.role) && before.agentUserId !== auth.userId)) {
        throw callNotFound(request.params.id);
      }
      const set: { notes?: string | null; disposition?: string | null } = {};
      if (request.body.notes !== undefined) set.notes = request.body.notes;
      if (request.body.disposition !== undefined) set.disposition = request.body.disposition;
      if (Object.keys(set).length > 0) {
        await app.db.updateTable('calls').set(set).where('tenantId', '=', tenantId).where('id', '=', before.id).execute();
      }
      const row = (await find())!;
      return { ...row, startedAt: row.startedAt.toISOString(), answeredAt: iso(row.answeredAt), endedAt: iso(row.endedAt) };
    },
  );

  app.get(
    '/calls/:id',
    {
      config: { auth: CONTROL_ROLES },
      schema: {
        tags: ['calls'],
        summary: 'One call detail record with its events',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: {
          200: Type.Composite([
            CdrRow,
            Type.Object({
              events: Type.Array(
                Type.Object({ seq: Type.Integer(), type: Type.String(), occurredAt: Type.String(), data: Type.Unknown() }),
              ),
            }),
          ]),
        },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const row = await app.db
        .selectFrom('calls')
        .selectAll()
        .where('tenantId', '=', tenantOf(request))
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (!row || (!SUPERVISING.includes(auth.role) && row.agentUserId !== auth.userId)) throw callNotFound(request.params.id);
      const events = await app.db
        .selectFrom('callEvents')
        .select(['seq', 'type', 'occurredAt', 'data'])
        .where('callId', '=', row.id)
        .orderBy('seq')
        .execute();
      return {
        ...row,
        startedAt: row.startedAt.toISOString(),
        answeredAt: iso(row.answeredAt),
        endedAt: iso(row.endedAt),
        events: events.map((e) => ({ seq: e.seq, type: e.type, occurredAt: e.occurredAt.toISOString(), data: fromJson(e.data, {}) })),
      };
    },
  );
};
