/**
 * The widget's control plane against the real database and the test PBX: settings with audit
 * and roles, the public config, call tickets (origin, rate limits that survive a restart,
 * business hours) and the short-lived endpoints they push to Asterisk and the sweeper removes.
 * The call itself (browser → queue → agent) is in tests/e2e/widget.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.ts';
import { CallHarness } from '../support/call-harness.ts';
import { bearer, createUser, tokenFor, randomIp } from '../support/fixtures.ts';
import { createQueue } from '../support/telephony-fixtures.ts';

const SITE = 'https://shop.example.test';

describe('website widget: settings, tickets and their endpoints', () => {
  const h = new CallHarness();
  let admin: string;
  let agentToken: string;
  let queueId: number;
  let widget: { id: number; publicId: string; version: number; snippet: string };

  beforeAll(async () => {
    await h.start();
    admin = await tokenFor(h.app, await createUser(h.db, h.tenantId, 'tenant_admin'));
    agentToken = await tokenFor(h.app, await createUser(h.db, h.tenantId, 'agent'));
    queueId = await createQueue(h.db, h.tenantId);
    const res = await h.post(admin, '/widgets', {
      name: 'Shop',
      color: '#112233',
      label: 'Call the shop',
      greeting: 'Hi!',
      callQueueId: queueId,
      allowedOrigins: [SITE],
    });
    expect(res.statusCode, res.body).toBe(201);
    widget = res.json();
  }, 60_000);

  afterAll(async () => {
    await h.stop();
  });

  const ticket = (origin: string | undefined, ip = randomIp(), publicId = widget.publicId) =>
    h.app.inject({
      method: 'POST',
      url: `/api/v1/widgets/${publicId}/calls`,
      headers: origin ? { origin } : {},
      remoteAddress: ip,
      payload: { pageUrl: `${SITE}/cart`, name: 'Vera Visitor', email: 'vera@example.test' },
    });

  it('lets admins manage widgets, audits every change, and keeps other roles out', async () => {
    expect(widget.snippet).toContain(`/widget.js?id=${widget.publicId}`);
    const patched = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/widgets/${widget.id}`,
      headers: { ...bearer(admin), 'if-match': `"v${widget.version}"` },
      payload: { greeting: 'Hello there', position: 'bottom-left' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      greeting: 'Hello there',
      position: 'bottom-left',
      version: widget.version + 1,
    });
    widget = patched.json();
    const audit = await h.db
      .selectFrom('auditLog')
      .select('action')
      .where('entityType', '=', 'widget')
      .where('entityId', '=', String(widget.id))
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['widget.create', 'widget.update']);

    const asAgent = await h.post(agentToken, '/widgets', { name: 'Nope' });
    expect(asAgent.statusCode).toBe(403);
    const badQueue = await h.post(admin, '/widgets', { name: 'Bad', callQueueId: 999_999_999 });
    expect(badQueue.statusCode).toBe(400);
    expect(badQueue.json().error.details).toEqual([
      { field: 'callQueueId', message: 'is not a queue of this tenant' },
    ]);
  });

  it('serves the public config with CORS for allowed sites only', async () => {
    const ok = await h.app.inject({
      url: `/api/v1/widgets/${widget.publicId}/config`,
      headers: { origin: SITE },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(SITE);
    expect(ok.json()).toMatchObject({
      label: 'Call the shop',
      call: true,
      chat: false,
      open: true,
      position: 'bottom-left',
    });
    const other = await h.app.inject({
      url: `/api/v1/widgets/${widget.publicId}/config`,
      headers: { origin: 'https://evil.example.test' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await h.app.inject({
      method: 'OPTIONS',
      url: `/api/v1/widgets/${widget.publicId}/calls`,
      headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(403);
  });

  it('refuses a ticket to a page from another origin, or with none', async () => {
    expect((await ticket('https://evil.example.test')).statusCode).toBe(403);
    expect((await ticket(undefined)).statusCode).toBe(403);
    expect(
      await h.db
        .selectFrom('widgetCallTickets')
        .select('id')
        .where('widgetId', '=', widget.id)
        .execute(),
    ).toEqual([]);
  });

  it('pushes a short-lived endpoint per ticket and the sweeper removes it once expired', async () => {
    const res = await ticket(SITE);
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body.iceServers).toEqual([]);
    expect(body.sip.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    expect(body.sip.username).toMatch(new RegExp(`^t${h.tenantId}-web-[0-9a-f]{16}$`));
    expect(body.sip.password.length).toBeGreaterThanOrEqual(20);
    expect(new Date(body.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(121_000);
    const endpoint = await h.main.request<{ resource: string }>(
      'GET',
      `/endpoints/PJSIP/${body.sip.username}`,
    );
    expect(endpoint.resource).toBe(body.sip.username);

    const status = await h.app.inject({
      url: `/api/v1/widget-calls/${body.ticket}`,
      headers: { origin: SITE },
    });
    expect(status.json()).toEqual({ state: 'pending', position: null, callbackNumber: null });

    // Time passes: the ticket expires unused.
    await h.db
      .updateTable('widgetCallTickets')
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where('ticket', '=', body.ticket)
      .execute();
    expect(await h.app.widgetCalls.calls.sweep()).toBeGreaterThanOrEqual(1);
    await expect(h.main.request('GET', `/endpoints/PJSIP/${body.sip.username}`)).rejects.toThrow(
      /404/,
    );
    const row = await h.db
      .selectFrom('widgetCallTickets')
      .selectAll()
      .where('ticket', '=', body.ticket)
      .executeTakeFirstOrThrow();
    expect(row.removedAt).not.toBeNull();
  });

  it('answers 429 with Retry-After past the per-address limit, also after a restart', async () => {
    const ip = randomIp();
    const max = h.app.config.widget.callsPerIpPerWindow;
    // Fixed windows: the burst may straddle a window's end, so allow for two windows' worth.
    const statuses: number[] = [];
    let limited = await ticket(SITE, ip);
    while (limited.statusCode === 201 && statuses.length <= 2 * max) {
      statuses.push(limited.statusCode);
      limited = await ticket(SITE, ip);
    }
    expect(statuses.length).toBeGreaterThanOrEqual(max);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another control-plane process (a restart) sees the same window.
    const other = await buildTestApp();
    try {
      const again = await other.inject({
        method: 'POST',
        url: `/api/v1/widgets/${widget.publicId}/calls`,
        headers: { origin: SITE },
        remoteAddress: ip,
        payload: {},
      });
      expect(again.statusCode).toBe(429);
    } finally {
      await other.close();
    }
    // Another address is not affected.
    expect((await ticket(SITE)).statusCode).toBe(201);
    await h.db
      .updateTable('widgetCallTickets')
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where('widgetId', '=', widget.id)
      .execute();
    await h.app.widgetCalls.calls.sweep();
  });

  it('says offline outside business hours, and stores the message the visitor leaves', async () => {
    const hours = await h.post(admin, '/hours', {
      name: 'Never open',
      timezone: 'UTC',
      schedule: [],
    });
    expect(hours.statusCode, hours.body).toBe(201);
    const current = await h.app.inject({
      url: `/api/v1/widgets/${widget.id}`,
      headers: bearer(admin),
    });
    const patched = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/widgets/${widget.id}`,
      headers: { ...bearer(admin), 'if-match': String(current.headers.etag) },
      payload: { businessHoursId: hours.json().id },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const config = await h.app.inject({
      url: `/api/v1/widgets/${widget.publicId}/config`,
      headers: { origin: SITE },
    });
    expect(config.json().open).toBe(false);
    const refused = await ticket(SITE);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({
      code: 'WIDGET_OFFLINE',
      details: { offline: true },
    });

    const left = await h.app.inject({
      method: 'POST',
      url: `/api/v1/widgets/${widget.publicId}/offline-messages`,
      headers: { origin: SITE },
      remoteAddress: randomIp(),
      payload: {
        name: 'Vera',
        email: 'vera@example.test',
        message: 'Please call me about my order',
      },
    });
    expect(left.statusCode, left.body).toBe(201);
    const list = await h.app.inject({
      url: '/api/v1/offline-messages',
      headers: bearer(agentToken),
    });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual([
      expect.objectContaining({
        name: 'Vera',
        message: 'Please call me about my order',
        widgetId: widget.id,
      }),
    ]);
    // …and a helpdesk ticket from Vera, linked to the message.
    const ticketRow = await h.db
      .selectFrom('tickets')
      .selectAll()
      .where('tenantId', '=', h.tenantId)
      .where('sourceKind', '=', 'offline_form')
      .where('sourceId', '=', `widget-offline-${left.json().id}`)
      .executeTakeFirst();
    expect(ticketRow).toMatchObject({ status: 'new' });
    const requester = await h.db.selectFrom('contactEmails').selectAll().where('contactId', '=', ticketRow!.requesterContactId!).execute();
    expect(requester.map((e) => e.email)).toContain('vera@example.test');
  });
});
