/**
 * Tenant isolation, proven by walking every route of the API.
 *
 * Tenant B gets one object of every kind through the API (users, an invite, an agent endpoint
 * and a trunk in Asterisk, business hours with a holiday, a DID, a queue with a member, an IVR
 * menu, agent state, a live call waiting in the queue with its CDR, audit rows, sessions,
 * idempotency keys), each carrying a marker. Then tenant A's admin, supervisor, agent and
 * helpdesk call every registered /api route, with B's ids in the path, in filters and in
 * bodies. The walk proves that:
 *   (a) every request that names one of B's objects in its path answers 404 (403 where the
 *       role may not call the route), never 2xx; a body or filter naming B's objects is refused
 *       or finds nothing;
 *   (b) no answer, list or error, carries B's marker or any other trace of B;
 *   (c) every row of B in every tenant-scoped table, B's objects in Asterisk and B's live call
 *       are exactly as they were.
 * The set of walked routes must equal the set of registered routes: a new route fails this test
 * until it is walked (or allow-listed below as public).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { LightMyRequestResponse, RouteOptions } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Role } from '../../control/src/db/schema.ts';
import type { RouteAuth } from '../../control/src/plugins/auth.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { callDid, ensureTestTrunk } from '../support/carrier.ts';
import { bearer, createUser, login, tokenFor, type TestUser } from '../support/fixtures.ts';
import { freshNumber } from '../support/routing-api.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;
type Json = Record<string, unknown>;

/** Routes anyone may call. Reviewed one by one: none takes a tenant's object id. */
const PUBLIC_ROUTES = [
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/refresh',
  'GET /api/v1/auth/jwks',
  'POST /api/v1/invites/accept',
  // The WebSocket upgrade; the token goes in the query. Its tenant scoping (a console hears its
  // own tenant's topics only) is proven in realtime.test.ts.
  'GET /api/v1/ws',
  // The website widget's side on customers' pages: addressed by a widget's random public id or a
  // call ticket's random handle (never a numeric id), and checked against the widget's allowed
  // origins; proven in widget-calls.test.ts and tests/e2e/widget.test.ts.
  'GET /api/v1/widgets/:id/config',
  'OPTIONS /api/v1/widgets/:id/calls',
  'POST /api/v1/widgets/:id/calls',
  'OPTIONS /api/v1/widgets/:id/offline-messages',
  'POST /api/v1/widgets/:id/offline-messages',
  'GET /api/v1/widget-calls/:ticket',
  'OPTIONS /api/v1/widget-calls/:ticket/callback',
  'POST /api/v1/widget-calls/:ticket/callback',
  // A visitor starts a chat from an allowed origin and gets a token for that one chat; the
  // socket takes only that token (chat-visitor tests in widget-chat.test.ts).
  'OPTIONS /api/v1/widgets/:id/chats',
  'POST /api/v1/widgets/:id/chats',
  'GET /api/v1/widgets/:id/chat',
];

const TENANT_ROLES = ['tenant_admin', 'supervisor', 'agent', 'helpdesk'] as const;
type TenantRole = (typeof TENANT_ROLES)[number];

/** Query filters that hold no object reference; every other filter gets a value of B's. */
const PLAIN_FILTERS = new Set([
  'limit',
  'cursor',
  'sort',
  'status',
  'role',
  'kind',
  'enabled',
  'strategy',
  'targetType',
  'direction',
  'state',
  'from',
  'to',
  'entityType',
  'action',
  'at',
  'listened',
  'active',
  'handled',
  'priority',
  'slaState',
  'sourceKind',
  'disposition',
  'format',
  'serviceLevelSeconds',
]);

interface Route {
  method: string;
  url: string;
  auth: RouteAuth;
  params: string[];
  query: string[];
  hasBody: boolean;
}

/** One of a tenant's objects as a route addresses it: its id and the ETag a change needs. */
interface Obj {
  owner: 'A' | 'B';
  id: number | string;
  etag?: string;
}

interface Walked {
  role: TenantRole;
  method: string;
  url: string;
  route: string;
  /** The request body, as JSON. */
  sent: string;
  status: number;
  body: string;
}

/** Bodies of routes without an id in the path that name B's objects, and the fields that do. */
const B_FIELDS: Record<string, string[]> = {
  'POST /api/v1/dids': ['trunkId', 'target.id', 'businessHoursId', 'afterHoursTarget.id'],
  'POST /api/v1/queues': ['overflowTarget.id'],
  'POST /api/v1/ivr-menus': ['options.0.target.id', 'failoverTarget.id'],
  'POST /api/v1/endpoints/agents': ['userId'],
  'POST /api/v1/widgets': ['callQueueId', 'chatQueueId', 'businessHoursId'],
  'POST /api/v1/tickets': ['requesterContactId', 'assigneeUserId', 'groupId'],
  'POST /api/v1/tickets/from-call': ['callId'],
  'POST /api/v1/tickets/from-voicemail': ['voicemailId'],
  'POST /api/v1/tickets/from-chat': ['requesterContactId', 'assigneeUserId', 'groupId'],
  'POST /api/v1/tickets/bulk': ['ticketIds.0', 'assigneeUserId'],
  'POST /api/v1/sla-policies': ['businessHoursId'],
};

describe('tenant isolation: every route, with tenant A’s tokens, against tenant B', () => {
  const marker = `Zq${randomBytes(5).toString('hex')}`;
  const routes: Route[] = [];
  const carrier = new AriPeer(inject('asteriskCarrier'), 'carrier');
  const main = new AriPeer(inject('asteriskMain'), 'isolation-test');
  let app: App;

  // Tenant B: what A must never see or change.
  const B = {} as {
    tenantId: number;
    tenant: Obj;
    admin: TestUser;
    agent: TestUser;
    adminToken: string;
    invite: Obj;
    agentEndpoint: Obj & { asteriskId: string };
    trunk: Obj & { asteriskId: string };
    hours: Obj;
    queue: Obj;
    ivr: Obj;
    did: Obj & { number: string };
    user: Obj;
    member: Obj;
    liveCall: Obj;
    cdr: Obj;
    voicemail: Obj;
    callback: Obj;
    widget: Obj;
    chat: Obj;
    callerNumber: string;
    carrierChannel: string;
    contact: Obj & { email: string };
    ticket: Obj;
    callTicket: Obj;
    attachment: Obj;
    slaPolicy: Obj;
    field: Obj;
    view: Obj;
  };
  // Tenant A: the callers, and a few objects of their own for mixed requests.
  const A = {} as {
    tenantId: number;
    users: Record<TenantRole, TestUser>;
    queue: Obj;
    did: Obj;
    ticket: Obj;
  };

  const api = async (
    token: string,
    method: string,
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> =>
    app.inject({
      method: method as 'GET',
      url: url.startsWith('/api') ? url : `/api/v1${url}`,
      headers: { ...bearer(token), ...headers },
      ...(payload !== undefined ? { payload: payload as Json } : {}),
    });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed JSON bodies
  const ok = (res: LightMyRequestResponse, status: number): any => {
    if (res.statusCode !== status) {
      throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
    }
    return res.body ? res.json() : undefined;
  };
  const etagOf = (res: LightMyRequestResponse) => String(res.headers.etag);
  const obj = (owner: 'A' | 'B', res: LightMyRequestResponse, id?: number | string): Obj => ({
    owner,
    id: id ?? (res.json() as { id: number }).id,
    etag: etagOf(res),
  });

  /** Creates a tenant with an admin, through the API: the admin's invite is accepted, then login. */
  async function tenantThroughApi(platform: string, name: string, maxAgents: number) {
    const slug = `iso-${randomBytes(4).toString('hex')}`;
    const email = `${name.toLowerCase().replace(/\W+/g, '-')}-admin-${slug}@example.test`;
    const tenant = ok(
      await api(platform, 'POST', '/tenants', {
        name,
        slug,
        timezone: 'UTC',
        limits: { maxAgents },
        admin: { email, displayName: `${name} Admin` },
      }),
      201,
    );
    const admin = await accept(tenant.adminInvite.inviteUrl);
    return { tenant, admin: { ...admin, email } };
  }

  async function accept(inviteUrl: string): Promise<TestUser> {
    const token = inviteUrl.split('/').pop()!;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/invites/accept',
      payload: { token, password: 'isolation-password-1' },
    });
    const { user } = ok(res, 201);
    return {
      id: user.id,
      tenantId: user.tenantId,
      role: user.role,
      email: user.email,
      extension: null,
    };
  }

  async function invited(adminToken: string, role: TenantRole, name: string): Promise<TestUser> {
    const email = `${name.toLowerCase().replace(/\W+/g, '-')}-${randomBytes(4).toString('hex')}@example.test`;
    const invite = ok(
      await api(adminToken, 'POST', '/invites', { email, displayName: name, role }),
      201,
    );
    return accept(invite.inviteUrl);
  }

  beforeAll(async () => {
    app = await buildTestApp(
      {},
      {
        telephony: true,
        onRoute: (route: RouteOptions) => {
          for (const method of [route.method].flat()) {
            // HEAD routes are Fastify's automatic twins of GET routes: same handler.
            if (method === 'HEAD' || !route.url.startsWith('/api/')) continue;
            const schema = (route.schema ?? {}) as {
              params?: { properties?: Json };
              querystring?: { properties?: Json };
              body?: unknown;
            };
            routes.push({
              method,
              url: route.url,
              auth: route.config?.auth as RouteAuth,
              params: Object.keys(schema.params?.properties ?? {}),
              query: Object.keys(schema.querystring?.properties ?? {}),
              hasBody: schema.body !== undefined,
            });
          }
        },
      },
    );
    await app.ari.waitUntilConnected(15_000);
    await carrier.connect();
    await ensureTestTrunk(main);
    const platform = await tokenFor(app, await createUser(app.db, null, 'platform_admin'));

    // --- Tenant B, through the API, every name carrying the marker.
    const b = await tenantThroughApi(platform, `${marker} Tenant B`, 10);
    B.tenantId = b.tenant.id;
    B.tenant = { owner: 'B', id: b.tenant.id, etag: `"v${b.tenant.version}"` };
    B.admin = b.admin;
    B.adminToken = (await login(app, b.admin.email, 'isolation-password-1')).accessToken;
    const t = B.adminToken;
    B.agent = await invited(t, 'agent', `${marker} Bo Agent`);
    await login(app, B.agent.email, 'isolation-password-1');
    const pending = ok(
      await api(t, 'POST', '/invites', {
        email: `${marker.toLowerCase()}-pending@example.test`,
        displayName: `${marker} Pending`,
        role: 'supervisor',
      }),
      201,
    );
    B.invite = { owner: 'B', id: pending.id };

    const agentEndpoint = await api(t, 'POST', '/endpoints/agents', { userId: B.agent.id });
    B.agentEndpoint = { ...obj('B', agentEndpoint), asteriskId: ok(agentEndpoint, 201).asteriskId };
    const trunk = await api(t, 'POST', '/endpoints/trunks', {
      name: `${marker} Carrier`,
      auth: 'register',
      host: '192.0.2.77',
      port: 5062,
      username: `acct-${marker}`,
      password: 'carrier-secret-1',
    });
    B.trunk = { ...obj('B', trunk), asteriskId: ok(trunk, 201).asteriskId };

    const hours = await api(t, 'POST', '/hours', {
      name: `${marker} Always open`,
      timezone: 'UTC',
      schedule: [0, 1, 2, 3, 4, 5, 6].map((day) => ({ day, open: '00:00', close: '24:00' })),
      holidays: [{ date: '2099-12-25', name: `${marker} Holiday` }],
    });
    B.hours = obj('B', hours);
    ok(hours, 201);

    const queue = await api(
      t,
      'POST',
      '/queues',
      { name: `${marker} Sales`, maxWaitSeconds: 3_600, announcePositionSeconds: 0 },
      { 'idempotency-key': `iso-${marker}` },
    );
    ok(queue, 201);
    const member = await api(t, 'POST', `/queues/${queue.json().id}/members`, {
      userId: B.agent.id,
      penalty: 1,
    });
    ok(member, 201);
    B.queue = { owner: 'B', id: queue.json().id, etag: etagOf(member) };
    B.member = { owner: 'B', id: B.agent.id };

    const ivr = await api(t, 'POST', '/ivr-menus', {
      name: `${marker} Main menu`,
      prompt: 'sound:hello-world',
      options: [
        { digit: '1', target: { type: 'queue', id: B.queue.id } },
        { digit: '2', target: { type: 'user', id: B.agent.id } },
      ],
      failoverTarget: { type: 'hangup', value: 'sound:vm-goodbye' },
    });
    ok(ivr, 201);
    B.ivr = obj('B', ivr);

    const number = freshNumber('+4420');
    const did = await api(t, 'POST', '/dids', {
      number,
      description: `${marker} Main line`,
      trunkId: B.trunk.id,
      target: { type: 'queue', id: B.queue.id },
      businessHoursId: B.hours.id,
      afterHoursTarget: { type: 'ivr', id: B.ivr.id },
    });
    ok(did, 201);
    B.did = { ...obj('B', did), number };
    B.user = {
      owner: 'B',
      id: B.agent.id,
      etag: etagOf(await api(t, 'GET', `/users/${B.agent.id}`)),
    };

    // B's agent is away (not offline), so a caller waits in the queue instead of overflowing.
    const agentToken = (await login(app, B.agent.email, 'isolation-password-1')).accessToken;
    ok(await api(agentToken, 'PUT', '/agents/me/state', { status: 'away', reason: 'lunch' }), 200);

    // --- Tenant A: an admin and one user of each other role, and objects of its own.
    const a = await tenantThroughApi(platform, 'Walker Tenant A', 10);
    A.tenantId = a.tenant.id;
    const aAdmin = await tokenFor(app, a.admin);
    A.users = {
      tenant_admin: a.admin,
      supervisor: await invited(aAdmin, 'supervisor', 'Walker Supervisor'),
      agent: await invited(aAdmin, 'agent', 'Walker Agent'),
      helpdesk: await invited(aAdmin, 'helpdesk', 'Walker Helpdesk'),
    };
    const aQueue = await api(aAdmin, 'POST', '/queues', { name: 'Walker queue' });
    A.queue = obj('A', aQueue);
    ok(aQueue, 201);
    const aDid = await api(aAdmin, 'POST', '/dids', {
      number: freshNumber('+4420'),
      target: { type: 'queue', id: A.queue.id },
    });
    A.did = obj('A', aDid);
    ok(aDid, 201);

    // --- B's live call: from the carrier to B's DID, waiting in B's queue.
    B.callerNumber = freshNumber('+44207946', 4);
    B.carrierChannel = await callDid(carrier, number, { from: B.callerNumber, name: marker });
    const live = await until('B’s call to wait in its queue', async () =>
      app.calls.activeCalls().find((c) => c.to === number && c.status === 'queued'),
    );
    await app.calls.flush();
    const cdr = await app.db
      .selectFrom('calls')
      .select('id')
      .where('linkedid', '=', live.id)
      .executeTakeFirstOrThrow();
    B.liveCall = { owner: 'B', id: live.id };
    B.cdr = { owner: 'B', id: cdr.id };
    // A voicemail in B's agent's box (voicemails are left by callers, not made through the API).
    const voicemail = await app.db
      .insertInto('voicemails')
      .values({
        tenantId: B.tenantId,
        callId: cdr.id,
        callLinkedid: live.id,
        boxUserId: B.agent.id,
        boxName: null,
        fromNumber: B.callerNumber,
        durationMs: 1000,
        recordingName: `walker-${marker}`,
      })
      .executeTakeFirstOrThrow();
    B.voicemail = { owner: 'B', id: Number(voicemail.insertId) };
    // A callback task of B's queue (done, so no control plane ever dials it).
    const callback = await app.db
      .insertInto('callbacks')
      .values({
        tenantId: B.tenantId,
        queueId: Number(B.queue.id),
        number: B.callerNumber,
        reason: 'requested',
        status: 'failed',
        originLinkedid: live.id,
        queuedAt: new Date(),
      })
      .executeTakeFirstOrThrow();
    B.callback = { owner: 'B', id: Number(callback.insertId) };

    // B's website widget, a call ticket (straight in the table: nothing is pushed to Asterisk),
    // an offline message, and a chat with a message.
    const widget = await api(t, 'POST', '/widgets', {
      name: `${marker} Website`,
      callQueueId: B.queue.id,
      chatQueueId: B.queue.id,
      businessHoursId: B.hours.id,
      allowedOrigins: ['https://b.example.test'],
    });
    ok(widget, 201);
    B.widget = obj('B', widget);
    await app.db
      .insertInto('widgetCallTickets')
      .values({
        tenantId: B.tenantId,
        widgetId: Number(B.widget.id),
        ticket: randomBytes(16).toString('hex'),
        endpointId: `t${B.tenantId}-web-${randomBytes(8).toString('hex')}`,
        extension: 'walker',
        visitorName: `${marker} Visitor`,
        expiresAt: new Date(Date.now() + 24 * 3600_000),
      })
      .execute();
    await app.db
      .insertInto('offlineMessages')
      .values({ tenantId: B.tenantId, widgetId: Number(B.widget.id), name: `${marker} Visitor`, message: `${marker} call me` })
      .execute();
    const chat = await app.db
      .insertInto('chats')
      .values({ tenantId: B.tenantId, widgetId: Number(B.widget.id), queueId: Number(B.queue.id), visitorKey: `v${marker}`, visitorName: `${marker} Visitor` })
      .executeTakeFirstOrThrow();
    B.chat = { owner: 'B', id: Number(chat.insertId) };
    await app.db
      .insertInto('chatMessages')
      .values({ tenantId: B.tenantId, chatId: Number(B.chat.id), sender: 'visitor', body: `${marker} hello` })
      .execute();

    // --- B's helpdesk: a contact (the caller), a custom field, an SLA policy, a ticket with a
    // thread and an attachment, a ticket made from the live call's CDR, a saved view.
    const email = `${marker.toLowerCase()}-contact@example.test`;
    const contact = await api(t, 'POST', '/contacts', {
      firstName: `${marker} Carla`,
      lastName: 'Caller',
      company: `${marker} Co`,
      phones: [{ number: B.callerNumber }],
      emails: [email],
    });
    B.contact = { ...obj('B', contact), email };
    ok(contact, 201);
    const field = await api(t, 'POST', '/ticket-fields', { key: 'contract', label: `${marker} Contract`, type: 'text' });
    B.field = obj('B', field);
    ok(field, 201);
    // Urgent only, and a year long: B's tickets never fall due while the walk runs.
    const policy = await api(t, 'POST', '/sla-policies', {
      priority: 'urgent',
      firstResponseMinutes: 525_600,
      resolutionMinutes: 525_600,
      businessHoursId: B.hours.id,
    });
    B.slaPolicy = obj('B', policy);
    ok(policy, 201);
    const ticket = await api(t, 'POST', '/tickets', {
      subject: `${marker} Broken`,
      requesterContactId: B.contact.id,
      assigneeUserId: B.agent.id,
      groupId: B.queue.id,
      tags: [marker],
      customFields: { contract: marker },
      message: { kind: 'public', body: `${marker} it broke` },
    });
    ok(ticket, 201);
    const file = Buffer.concat([Buffer.from(`${marker} attached text\n`)]);
    const boundary = `----walker${marker}`;
    const upload = await app.inject({
      method: 'POST',
      url: `/api/v1/tickets/${ticket.json().id}/attachments`,
      headers: { ...bearer(t), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${marker}.txt"\r\nContent-Type: text/plain\r\n\r\n`),
        file,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]),
    });
    B.attachment = { owner: 'B', id: ok(upload, 201).id };
    B.ticket = obj('B', await api(t, 'GET', `/tickets/${ticket.json().id}`));
    const callTicket = await api(t, 'POST', '/tickets/from-call', { callId: B.cdr.id, note: marker });
    B.callTicket = obj('B', callTicket);
    ok(callTicket, 201);
    const view = await api(t, 'POST', '/ticket-views', { name: `${marker} Mine`, filters: { tag: marker } });
    B.view = obj('B', view);
    ok(view, 201);
    const aTicket = await api(aAdmin, 'POST', '/tickets', { subject: 'Walker ticket' });
    A.ticket = obj('A', aTicket);
    ok(aTicket, 201);
  });

  afterAll(async () => {
    if (B.carrierChannel) {
      await carrier.request('DELETE', `/channels/${B.carrierChannel}`).catch(() => undefined);
      await until('B’s call to end', async () =>
        app.calls.activeCalls().some((c) => c.id === B.liveCall?.id) ? undefined : true,
      ).catch(() => undefined);
    }
    carrier.close();
    await app?.close();
  });

  async function until<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    ms = 15_000,
  ): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // ---------------------------------------------------------------- what is compared

  /** Every row of B in every table, by table; fails on a table nobody said how to scope. */
  async function tenantRows(): Promise<Record<string, unknown[]>> {
    const { rows: columns } = await sql<{ table: string; column: string }>`
      SELECT table_name AS \`table\`, column_name AS \`column\`
      FROM information_schema.columns WHERE table_schema = DATABASE()`.execute(
      app.db.withoutPlugins(),
    );
    const byTable = new Map<string, Set<string>>();
    for (const { table, column } of columns) {
      byTable.set(table, (byTable.get(table) ?? new Set()).add(column));
    }
    const users = await app.db
      .selectFrom('users')
      .select('id')
      .where('tenantId', '=', B.tenantId)
      .execute();
    const userIds = users.map((u) => u.id);
    const notTenantData = ['signing_keys', 'kysely_migration', 'kysely_migration_lock', 'security_blocks', 'rate_limit_hits'];
    const snapshot: Record<string, unknown[]> = {};
    for (const [table, cols] of [...byTable].sort(([x], [y]) => x.localeCompare(y))) {
      if (notTenantData.includes(table)) continue;
      const where = cols.has('tenant_id')
        ? sql`tenant_id = ${B.tenantId}`
        : table === 'tenants'
          ? sql`id = ${B.tenantId}`
          : cols.has('user_id')
            ? sql`user_id IN (${sql.join(userIds)})`
            : undefined;
      if (!where) throw new Error(`table ${table}: neither tenant_id nor user_id; scope it here`);
      const { rows } =
        await sql`SELECT * FROM ${sql.table(table)} WHERE ${where} ORDER BY id`.execute(
          app.db.withoutPlugins(),
        );
      snapshot[table] = rows;
    }
    return snapshot;
  }

  /** B's PJSIP objects as Asterisk holds them (registration state aside: it moves on its own). */
  async function asteriskObjects(): Promise<Json> {
    const objects: Json = {};
    for (const id of [B.agentEndpoint.asteriskId, B.trunk.asteriskId]) {
      for (const type of ['auth', 'aor', 'endpoint', 'identify', 'registration']) {
        objects[`${type}/${id}`] = await main
          .request('GET', `/asterisk/config/dynamic/res_pjsip/${type}/${id}`)
          .catch((err: Error) => (/→ 404 /.test(err.message) ? null : Promise.reject(err)));
      }
    }
    const endpoints = await main.request<Array<{ resource: string }>>('GET', '/endpoints/PJSIP');
    objects.endpoints = endpoints
      .map((e) => e.resource)
      .filter((r) => r.startsWith(`t${B.tenantId}-`))
      .sort();
    return objects;
  }

  function liveCallState() {
    const call = app.calls.getCall(B.tenantId, String(B.liveCall.id));
    return (
      call && {
        status: call.status,
        onHold: call.holdStartedAt !== undefined,
        muted: call.agentMuted,
      }
    );
  }

  // ---------------------------------------------------------------- the walk plan

  const resourceOf = (url: string) => url.replace('/api/v1/', '').split('/')[0]!;

  /** Candidates for a path parameter: B's object(s), and A's where a mixed request tells more. */
  function candidates(route: Route, param: string): Obj[] {
    const key = `${resourceOf(route.url)}:${param}`;
    const table: Record<string, Obj[]> = {
      'tenants:id': [B.tenant],
      'users:id': [B.user],
      'invites:id': [B.invite],
      'endpoints:id': [B.agentEndpoint, B.trunk],
      'hours:id': [B.hours],
      'dids:id': [B.did],
      // A's own queue with B's member: the member must be looked up in A, not just the queue.
      'queues:id': [B.queue, A.queue],
      'queues:userId': [B.member],
      'ivr-menus:id': [B.ivr],
      'agents:userId': [B.user],
      'live-calls:callId': [B.liveCall],
      'calls:id': [B.cdr],
      'voicemails:id': [B.voicemail],
      'callbacks:id': [B.callback],
      // Blocks belong to the platform, not a tenant: any id; tenant roles must get 403.
      'security:id': [{ owner: 'B', id: 1 }],
      'widgets:id': [B.widget],
      'chats:id': [B.chat],
      'contacts:id': [B.contact],
      // A's own ticket with B's attachment: the attachment must be looked up in A too.
      'tickets:id': [B.ticket, A.ticket],
      'tickets:attachmentId': [B.attachment],
      'sla-policies:id': [B.slaPolicy],
      'ticket-fields:id': [B.field],
      'ticket-views:id': [B.view],
    };
    const found = table[key];
    if (!found) throw new Error(`${route.method} ${route.url}: no object of B for :${param}`);
    return found;
  }

  /**
   * A valid body for each route that takes one, so a request reaches the handler (an invalid
   * body would be refused before any tenant check and prove nothing). Where a body refers to
   * other objects, it names B's.
   */
  function bodyFor(route: Route): Json | undefined {
    const fresh = randomBytes(4).toString('hex');
    const bodies: Record<string, () => Json> = {
      'POST /api/v1/tenants': () => ({ name: 'Walker', slug: `walker-${fresh}` }),
      'PATCH /api/v1/tenants/:id': () => ({ name: 'Taken over' }),
      'PATCH /api/v1/users/:id': () => ({ displayName: 'Taken over', status: 'disabled' }),
      'POST /api/v1/invites': () => ({
        email: `walker-${fresh}@example.test`,
        displayName: 'Walker Invitee',
        role: 'agent',
      }),
      'POST /api/v1/endpoints/agents': () => ({ userId: B.agent.id }),
      'POST /api/v1/endpoints/trunks': () => ({
        name: 'Walker trunk',
        auth: 'register',
        host: '192.0.2.78',
        username: `walker-${fresh}`,
        password: 'walker-secret-1',
      }),
      'PATCH /api/v1/endpoints/:id': () => ({ enabled: false }),
      'POST /api/v1/hours': () => ({ name: 'Walker hours', schedule: [] }),
      'PATCH /api/v1/hours/:id': () => ({ name: 'Taken over', schedule: [] }),
      'POST /api/v1/dids': () => ({
        number: freshNumber('+4420'),
        trunkId: B.trunk.id,
        target: { type: 'queue', id: B.queue.id },
        businessHoursId: B.hours.id,
        afterHoursTarget: { type: 'ivr', id: B.ivr.id },
      }),
      'PATCH /api/v1/dids/:id': () => ({ target: { type: 'hangup' } }),
      'POST /api/v1/queues': () => ({
        name: 'Walker queue',
        overflowTarget: { type: 'ivr', id: B.ivr.id },
      }),
      'PATCH /api/v1/queues/:id': () => ({ overflowTarget: { type: 'queue', id: B.queue.id } }),
      'POST /api/v1/queues/:id/members': () => ({ userId: B.agent.id }),
      'PUT /api/v1/queues/:id/members': () => ({ members: [{ userId: B.agent.id }] }),
      'PATCH /api/v1/queues/:id/members/:userId': () => ({ penalty: 99 }),
      'POST /api/v1/ivr-menus': () => ({
        name: 'Walker menu',
        prompt: 'sound:hello-world',
        options: [{ digit: '1', target: { type: 'user', id: B.agent.id } }],
        failoverTarget: { type: 'voicemail', id: B.agent.id },
      }),
      'PATCH /api/v1/ivr-menus/:id': () => ({ name: 'Taken over', options: [] }),
      'PUT /api/v1/agents/me/state': () => ({ status: 'away', reason: 'walking' }),
      'PUT /api/v1/agents/:userId/state': () => ({ status: 'available' }),
      'POST /api/v1/live-calls/:callId/dtmf': () => ({ digits: '1' }),
      'POST /api/v1/live-calls/:callId/transfer': () => ({ queueId: B.queue.id }),
      'POST /api/v1/live-calls/:callId/consult': () => ({ userId: B.agent.id }),
      'POST /api/v1/live-calls/:callId/monitor': () => ({ mode: 'listen', supervisorUserId: B.admin.id }),
      'POST /api/v1/callbacks': () => ({ queueId: B.queue.id, number: '+15550001234' }),
      // A's users have no phone: refused before anything dials; B's DID must not ring.
      'POST /api/v1/calls/dial': () => ({ number: B.did.number }),
      'POST /api/v1/widgets': () => ({
        name: 'Walker widget',
        callQueueId: B.queue.id,
        chatQueueId: B.queue.id,
        businessHoursId: B.hours.id,
      }),
      'PATCH /api/v1/widgets/:id': () => ({ greeting: 'Taken over', callQueueId: null }),
      'POST /api/v1/chats/:id/messages': () => ({ body: 'Taken over' }),
      'POST /api/v1/chats/:id/typing': () => ({ typing: true }),
      'POST /api/v1/chats/:id/read': () => ({ upTo: 999_999 }),
      'POST /api/v1/chats/:id/transfer': () => ({ userId: B.agent.id }),
      'PUT /api/v1/chat-settings': () => ({ maxChatsPerAgent: 2 }),
      'POST /api/v1/contacts': () => ({ firstName: 'Walker', phones: [{ number: '+442079460000' }] }),
      'PATCH /api/v1/contacts/:id': () => ({ company: 'Taken over', phones: [] }),
      'POST /api/v1/contacts/import': () => ({ csv: 'first_name,phones\nWalker,+442079460001\n' }),
      'POST /api/v1/tickets': () => ({
        subject: 'Walker',
        requesterContactId: B.contact.id,
        assigneeUserId: B.agent.id,
        groupId: B.queue.id,
      }),
      'PATCH /api/v1/tickets/:id': () => ({ subject: 'Taken over', status: 'closed' }),
      'POST /api/v1/tickets/from-call': () => ({ callId: B.cdr.id }),
      'POST /api/v1/tickets/from-voicemail': () => ({ voicemailId: B.voicemail.id }),
      'POST /api/v1/tickets/from-chat': () => ({
        chatId: `walker-${fresh}`,
        transcript: [{ from: 'visitor', text: 'hello' }],
        requesterContactId: B.contact.id,
        assigneeUserId: B.agent.id,
        groupId: B.queue.id,
      }),
      'POST /api/v1/tickets/from-offline-form': () => ({ name: 'Walker Visitor', message: 'hello' }),
      'POST /api/v1/tickets/bulk': () => ({
        ticketIds: [B.ticket.id],
        action: 'assign',
        assigneeUserId: B.agent.id,
      }),
      'POST /api/v1/tickets/:id/messages': () => ({ kind: 'public', body: 'Taken over' }),
      'POST /api/v1/tickets/:id/merge': () => ({ targetTicketId: A.ticket.id }),
      'POST /api/v1/sla-policies': () => ({
        priority: 'low',
        firstResponseMinutes: 5,
        resolutionMinutes: 10,
        businessHoursId: B.hours.id,
      }),
      'PATCH /api/v1/sla-policies/:id': () => ({ firstResponseMinutes: 1 }),
      'POST /api/v1/ticket-fields': () => ({ key: `walker_${fresh}`, label: 'Walker', type: 'text' }),
      'PATCH /api/v1/ticket-fields/:id': () => ({ label: 'Taken over', required: true }),
      'POST /api/v1/ticket-views': () => ({ name: `Walker ${fresh}`, filters: { status: 'open' } }),
      'PATCH /api/v1/ticket-views/:id': () => ({ name: 'Taken over' }),
      'PATCH /api/v1/calls/:id': () => ({ notes: 'Taken over', disposition: 'sale' }),
      // Logged in A's own tenant, whatever the caller: nothing of B is named.
      'POST /api/v1/calls/manual': () => ({
        clientId: randomUUID(),
        direction: 'outbound',
        number: '+15550001234',
        startedAt: new Date(Date.now() - 60_000).toISOString(),
        durationSeconds: 30,
      }),
      'POST /api/v1/live-calls/:callId/quality': () => ({
        jitterMs: 1,
        packetLossPct: 0,
        rttMs: 10,
        inboundBytes: 1,
        outboundBytes: 1,
        audioLevelIn: 0,
        audioLevelOut: 0,
      }),
    };
    const make = bodies[`${route.method} ${route.url}`];
    if (route.hasBody && !make)
      throw new Error(`${route.method} ${route.url}: no body to walk it with`);
    return make?.();
  }

  /** What a filter is set to so that it names B's objects. */
  function filterValue(route: Route, name: string): string {
    const values: Record<string, string | number> = {
      tenantId: B.tenantId,
      queueId: B.queue.id,
      agentUserId: B.agent.id,
      didId: B.did.id,
      businessHoursId: B.hours.id,
      userId: B.agent.id,
      actorUserId: B.admin.id,
      supervisorUserId: B.admin.id,
      entityId: String(B.queue.id),
      number: B.did.number.slice(1),
      q: marker,
      name: marker,
      boxUserId: B.agent.id,
      boxName: marker,
      ip: '192.0.2.1',
      widgetId: B.widget.id,
      assignedUserId: B.agent.id,
      contactId: B.contact.id,
      assigneeUserId: B.agent.id,
      groupId: B.queue.id,
      tag: marker,
      sourceId: String(B.cdr.id),
      viewId: B.view.id,
      phone: B.callerNumber,
      email: B.contact.email,
      linkedid: String(B.liveCall.id),
    };
    if (values[name] === undefined) {
      throw new Error(`${route.method} ${route.url}: no value of B for the filter ${name}`);
    }
    return String(values[name]);
  }

  /** Everything in B's objects that must never appear in an answer to A. */
  const traces = () => [
    marker,
    marker.toLowerCase(),
    B.did.number,
    B.callerNumber,
    String(B.liveCall.id),
    B.agentEndpoint.asteriskId,
    B.trunk.asteriskId,
    B.agent.email,
    B.admin.email,
  ];

  const allowed = (route: Route, role: Role) =>
    route.auth !== 'public' && route.auth.includes(role);

  it('has a plan for every registered /api route, and only reviewed ones are public', () => {
    const registered = routes.map((r) => `${r.method} ${r.url}`).sort();
    const publicOnes = routes.filter((r) => r.auth === 'public').map((r) => `${r.method} ${r.url}`);
    // A new public route must be reviewed and added to the allow-list by hand.
    expect(publicOnes.sort()).toEqual([...PUBLIC_ROUTES].sort());
    expect(new Set(registered).size).toBe(registered.length);
    // Every other route is walked: plans are made for all of them (a route whose parameter,
    // filter or body the walker does not know throws here).
    for (const route of routes.filter((r) => r.auth !== 'public')) {
      for (const param of route.params) candidates(route, param);
      for (const name of route.query.filter((q) => !PLAIN_FILTERS.has(q))) filterValue(route, name);
      bodyFor(route);
    }
    expect(registered.length).toBeGreaterThan(50);
  });

  it('never lets A read or change anything of B through any route', async () => {
    await app.calls.flush();
    const rowsBefore = await tenantRows();
    const asteriskBefore = await asteriskObjects();
    const callBefore = liveCallState();
    expect(callBefore).toEqual({ status: 'queued', onHold: false, muted: false });
    // B really has something in every tenant-scoped table, or the comparison proves little.
    for (const [table, rows] of Object.entries(rowsBefore)) {
      expect(rows.length, `B has no rows in ${table}`).toBeGreaterThan(0);
    }

    const walked: Walked[] = [];
    const failures: string[] = [];
    const send = async (
      role: TenantRole,
      route: Route,
      url: string,
      payload: Json | undefined,
      headers: Record<string, string> = {},
    ): Promise<Walked> => {
      // A fresh session per request, so /auth/logout ends only its own.
      const token = await tokenFor(app, A.users[role]);
      const res = await api(token, route.method, url, payload, headers);
      const entry: Walked = {
        role,
        method: route.method,
        url,
        route: route.url,
        sent: JSON.stringify(payload ?? null),
        status: res.statusCode,
        body: res.body,
      };
      walked.push(entry);
      return entry;
    };
    const fail = (entry: Walked, expected: string) =>
      failures.push(
        `${entry.role} ${entry.method} ${entry.url}: expected ${expected}, got ${entry.status} ${entry.body}`,
      );
    /** Refused because of B's ids: 404, or 400 naming each field that holds one. */
    const expectRefused = (entry: Walked, fields: string[]) => {
      if (entry.status === 404) return;
      const named =
        entry.status === 400
          ? (
              (JSON.parse(entry.body) as { error: { details?: Array<{ field: string }> } }).error
                .details ?? []
            ).map((d) => d.field)
          : [];
      if (entry.status !== 400 || !fields.every((f) => named.includes(f))) {
        fail(entry, `404, or 400 naming ${fields.join(', ')}`);
      }
    };

    for (const role of TENANT_ROLES) {
      for (const route of routes.filter((r) => r.auth !== 'public')) {
        const mayCall = allowed(route, role);
        if (route.params.length > 0) {
          // Every combination of candidates that names at least one of B's objects.
          let combos: Array<Record<string, Obj>> = [{}];
          for (const param of route.params) {
            combos = combos.flatMap((c) =>
              candidates(route, param).map((o) => ({ ...c, [param]: o })),
            );
          }
          for (const combo of combos.filter((c) => Object.values(c).some((o) => o.owner === 'B'))) {
            const url = route.url.replace(/:(\w+)/g, (_, p: string) => String(combo[p]!.id));
            // The object's real ETag: a missing or stale one would be refused before the lookup.
            const etag = combo[route.params[0]!]!.etag;
            const entry = await send(
              role,
              route,
              url,
              bodyFor(route),
              etag ? { 'if-match': etag } : {},
            );
            const expected = mayCall ? 404 : 403;
            if (entry.status !== expected) fail(entry, String(expected));
          }
          continue;
        }
        const entry = await send(role, route, route.url, bodyFor(route));
        if (!mayCall) {
          if (entry.status !== 403) fail(entry, '403');
          continue;
        }
        if (entry.status >= 500) fail(entry, 'no server error');
        const fields = B_FIELDS[`${route.method} ${route.url}`];
        if (fields) expectRefused(entry, fields);
        // Lists filtered by B's ids (or searched for B's marker) find nothing.
        const filters = route.query.filter((q) => !PLAIN_FILTERS.has(q));
        if (route.method === 'GET' && filters.length > 0) {
          const query = new URLSearchParams(filters.map((f) => [f, filterValue(route, f)]));
          const filtered = await send(role, route, `${route.url}?${query}`, undefined);
          const items =
            filtered.status === 200
              ? (JSON.parse(filtered.body) as { items?: unknown[] }).items
              : undefined;
          if (items?.length !== 0) fail(filtered, '200 with no items');
        }
      }
    }

    // Changes to A's own objects that name B's: refused, never applied.
    const mixed = async (
      method: string,
      url: string,
      payload: Json,
      fields: string[],
      etag?: string,
    ) => {
      const path = `/api/v1${url}`;
      const route = routes.find(
        (r) => r.method === method && new RegExp(`^${r.url.replace(/:\w+/g, '[^/]+')}$`).test(path),
      )!;
      const entry = await send(
        'tenant_admin',
        route,
        path,
        payload,
        etag ? { 'if-match': etag } : {},
      );
      expectRefused(entry, fields);
    };
    const q = `/queues/${A.queue.id}`;
    await mixed('POST', `${q}/members`, { userId: B.agent.id }, ['userId']);
    await mixed(
      'PUT',
      `${q}/members`,
      { members: [{ userId: B.agent.id }] },
      ['members.0.userId'],
      A.queue.etag,
    );
    await mixed(
      'PATCH',
      q,
      { overflowTarget: { type: 'ivr', id: B.ivr.id } },
      ['overflowTarget.id'],
      A.queue.etag,
    );
    const d = `/dids/${A.did.id}`;
    await mixed(
      'PATCH',
      d,
      { target: { type: 'user', id: B.agent.id } },
      ['target.id'],
      A.did.etag,
    );
    await mixed(
      'PATCH',
      d,
      {
        businessHoursId: B.hours.id,
        trunkId: B.trunk.id,
        afterHoursTarget: { type: 'queue', id: B.queue.id },
      },
      ['businessHoursId', 'trunkId', 'afterHoursTarget.id'],
      A.did.etag,
    );

    const tk = `/tickets/${A.ticket.id}`;
    await mixed(
      'PATCH',
      tk,
      { requesterContactId: B.contact.id, assigneeUserId: B.agent.id, groupId: B.queue.id },
      ['requesterContactId', 'assigneeUserId', 'groupId'],
      A.ticket.etag,
    );
    await mixed('POST', `${tk}/merge`, { targetTicketId: B.ticket.id }, ['targetTicketId']);
    await mixed(
      'POST',
      `${tk}/messages`,
      { kind: 'internal', body: 'Walker', attachmentIds: [B.attachment.id] },
      ['attachmentIds.0'],
    );

    // (a), and every route was walked.
    expect(failures).toEqual([]);
    const walkedRoutes = new Set(walked.map((w) => `${w.method} ${w.route}`));
    const expectedRoutes = routes
      .filter((r) => r.auth !== 'public')
      .map((r) => `${r.method} ${r.url}`);
    expect([...walkedRoutes].sort()).toEqual(expectedRoutes.sort());

    // (b) no answer carries a trace of B that the request did not bring itself (a 404 may
    // repeat the id it was asked for).
    const leaks = walked.flatMap((w) =>
      traces()
        .filter(
          (trace) => w.body.includes(trace) && !w.url.includes(trace) && !w.sent.includes(trace),
        )
        .map((trace) => `${w.role} ${w.method} ${w.url} → ${w.status} shows ${trace}`),
    );
    expect(leaks).toEqual([]);

    // (c) B is exactly as it was: every row, every object in Asterisk, the call.
    await app.calls.flush();
    expect(await tenantRows()).toEqual(rowsBefore);
    expect(await asteriskObjects()).toEqual(asteriskBefore);
    expect(liveCallState()).toEqual(callBefore);
  });
});
