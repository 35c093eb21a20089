/**
 * What the console needs of the API beyond provisioning: softphone credentials for the session,
 * wrap-up notes and dispositions on the CDR, the CDR explorer's filters and streamed CSV export,
 * and the reports summary. Against the real database and the real Asterisk (main).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { bearer, createTenant, createUser, tokenFor, type TestUser } from '../support/fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

describe('console API', () => {
  const main = new AriPeer(inject('asteriskMain'), 'console-api-test');
  let app: App;
  let tenantId: number;
  let admin: TestUser;
  let agent: TestUser;
  let other: TestUser;
  let supervisor: TestUser;
  const tokens = {} as Record<'admin' | 'agent' | 'other' | 'supervisor', string>;
  const day = new Date(Date.UTC(2031, 0, 15));
  const at = (h: number, m = 0) => new Date(day.getTime() + h * 3_600_000 + m * 60_000);
  const ids: number[] = [];

  const api = async (token: string, method: string, url: string, payload?: unknown) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: bearer(token),
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });

  beforeAll(async () => {
    app = await buildTestApp();
    await app.ari.waitUntilConnected(15_000);
    tenantId = (await createTenant(app.db, { maxAgents: 5 })).id;
    admin = await createUser(app.db, tenantId, 'tenant_admin');
    agent = await createUser(app.db, tenantId, 'agent');
    other = await createUser(app.db, tenantId, 'agent');
    supervisor = await createUser(app.db, tenantId, 'supervisor');
    tokens.admin = await tokenFor(app, admin);
    tokens.agent = await tokenFor(app, agent);
    tokens.other = await tokenFor(app, other);
    tokens.supervisor = await tokenFor(app, supervisor);
    const queue = await app.db
      .insertInto('queues')
      .values({ tenantId, name: 'Reports queue', requiredSkills: '{}' })
      .executeTakeFirstOrThrow();
    const queueId = Number(queue.insertId);
    // Four inbound calls on one day: two answered by `agent` (one within 20 s), one by `other`
    // after 40 s, one abandoned in the queue; and one outbound call, which reports leave out.
    const rows = [
      {
        agentUserId: agent.id,
        startedAt: at(9),
        waitMs: 5_000,
        talkMs: 60_000,
        answered: true,
        notes: 'Needs a callback, tomorrow',
      },
      {
        agentUserId: agent.id,
        startedAt: at(9, 30),
        waitMs: 15_000,
        talkMs: 120_000,
        answered: true,
        notes: '=cmd()',
      },
      {
        agentUserId: other.id,
        startedAt: at(10),
        waitMs: 40_000,
        talkMs: 30_000,
        answered: true,
        notes: null,
      },
      {
        agentUserId: null,
        startedAt: at(10, 15),
        waitMs: 70_000,
        talkMs: 0,
        answered: false,
        notes: null,
      },
    ];
    for (const [i, r] of rows.entries()) {
      const res = await app.db
        .insertInto('calls')
        .values({
          tenantId,
          linkedid: `console-api-${tenantId}-${i}`,
          direction: 'inbound',
          channelKind: 'pstn',
          state: 'ended',
          fromNumber: `+4420700000${i}`,
          toNumber: '+442071110000',
          queueId,
          agentUserId: r.agentUserId,
          startedAt: r.startedAt,
          answeredAt: r.answered ? new Date(r.startedAt.getTime() + r.waitMs) : null,
          endedAt: new Date(r.startedAt.getTime() + r.waitMs + r.talkMs),
          waitMs: r.waitMs,
          talkMs: r.talkMs,
          notes: r.notes,
        })
        .executeTakeFirstOrThrow();
      ids.push(Number(res.insertId));
    }
    await app.db
      .insertInto('calls')
      .values({
        tenantId,
        linkedid: `console-api-${tenantId}-out`,
        direction: 'outbound',
        channelKind: 'pstn',
        state: 'ended',
        fromNumber: '+442071110000',
        toNumber: '+15550001111',
        agentUserId: agent.id,
        startedAt: at(11),
        answeredAt: at(11),
        endedAt: at(11, 1),
        talkMs: 60_000,
      })
      .execute();
  });

  afterAll(async () => {
    await app?.close();
  });

  describe('softphone session', () => {
    it('refuses a user without a phone', async () => {
      const res = await api(tokens.other, 'POST', '/softphone/session');
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NO_PHONE');
    });

    it('hands out a fresh secret each time, live in Asterisk, with the WebSocket address', async () => {
      const created = await api(tokens.admin, 'POST', '/endpoints/agents', { userId: agent.id });
      expect(created.statusCode).toBe(201);
      const asteriskId = created.json().asteriskId as string;
      const first = await api(tokens.agent, 'POST', '/softphone/session');
      expect(first.statusCode).toBe(200);
      const a = first.json();
      expect(a.username).toBe(asteriskId);
      expect(a.wsUrl).toBe(`ws://127.0.0.1:${inject('asteriskMain').httpPort}/ws`);
      expect(a.uri).toBe(`sip:${asteriskId}@127.0.0.1`);
      const b = (await api(tokens.agent, 'POST', '/softphone/session')).json();
      expect(b.password).not.toBe(a.password);
      const auth = await main.request<Array<{ attribute: string; value: string }>>(
        'GET',
        `/asterisk/config/dynamic/res_pjsip/auth/${asteriskId}`,
      );
      expect(auth.find((f) => f.attribute === 'password')?.value).toBe(b.password);
    });

    it('refuses a desk (UDP) phone, leaving its secret alone', async () => {
      const created = await api(tokens.admin, 'POST', '/endpoints/agents', {
        userId: supervisor.id,
        transport: 'udp',
      });
      expect(created.statusCode).toBe(201);
      const res = await api(tokens.supervisor, 'POST', '/softphone/session');
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('NO_BROWSER_PHONE');
    });
  });

  describe('wrap-up on the CDR', () => {
    it('lets an agent set notes and disposition on their own call, idempotently', async () => {
      const body = { notes: 'Sold the annual plan, paid', disposition: 'sale' };
      const first = await api(tokens.agent, 'PATCH', `/calls/${ids[0]}`, body);
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject(body);
      const again = await api(tokens.agent, 'PATCH', `/calls/${ids[0]}`, body);
      expect(again.json()).toMatchObject(body);
      const events = await app.db
        .selectFrom('callEvents')
        .select('id')
        .where('callId', '=', ids[0]!)
        .execute();
      expect(events).toHaveLength(0);
    });

    it('does not let an agent change another agent’s call; a supervisor may', async () => {
      expect(
        (await api(tokens.other, 'PATCH', `/calls/${ids[0]}`, { disposition: 'escalated' }))
          .statusCode,
      ).toBe(404);
      const res = await api(tokens.supervisor, 'PATCH', `/calls/${ids[2]}`, {
        disposition: 'escalated',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().disposition).toBe('escalated');
    });

    it('names the field of a bad disposition', async () => {
      const res = await api(tokens.agent, 'PATCH', `/calls/${ids[1]}`, { disposition: 'Not OK!' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details.map((d: { field: string }) => d.field)).toContain(
        'disposition',
      );
    });
  });

  describe('CDR explorer', () => {
    it('filters by live call id, disposition and text', async () => {
      const byLinkedid = await api(
        tokens.agent,
        'GET',
        `/calls?linkedid=console-api-${tenantId}-1`,
      );
      expect(byLinkedid.json().items.map((r: { id: number }) => r.id)).toEqual([ids[1]]);
      const sales = await api(tokens.admin, 'GET', '/calls?disposition=sale');
      expect(sales.json().items.map((r: { id: number }) => r.id)).toEqual([ids[0]]);
      const text = await api(tokens.admin, 'GET', `/calls?q=${encodeURIComponent('annual plan')}`);
      expect(text.json().items.map((r: { id: number }) => r.id)).toEqual([ids[0]]);
      const percent = await api(tokens.admin, 'GET', `/calls?q=${encodeURIComponent('%')}`);
      expect(percent.json().items).toEqual([]);
    });

    it('streams the filtered set as CSV, quoting and defusing cells; agents get only theirs', async () => {
      const res = await api(
        tokens.admin,
        'GET',
        `/calls?format=csv&direction=inbound&from=${day.toISOString()}`,
      );
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/csv');
      const lines = res.body.trimEnd().split('\r\n');
      expect(lines[0]).toMatch(/^id,linkedid,direction,state,fromNumber/);
      expect(lines).toHaveLength(5);
      expect(res.body).toContain('"Sold the annual plan, paid"');
      expect(res.body).toContain("'=cmd()");
      const mine = await api(tokens.agent, 'GET', '/calls?format=csv');
      const rows = mine.body.trimEnd().split('\r\n').slice(1);
      expect(rows).toHaveLength(3);
      expect(rows.every((r) => r.split(',')[8] === String(agent.id))).toBe(true);
    });
  });

  describe('reports', () => {
    it('counts offered, answered and abandoned per hour, with ASA, AHT, service level and agents', async () => {
      const from = day.toISOString();
      const to = new Date(day.getTime() + 86_400_000).toISOString();
      const res = await api(
        tokens.supervisor,
        'GET',
        `/reports/summary?from=${from}&to=${to}&serviceLevelSeconds=20`,
      );
      expect(res.statusCode).toBe(200);
      const s = res.json();
      expect(s.totals).toEqual({
        offered: 4,
        answered: 3,
        abandoned: 1,
        answeredWithinSl: 2,
        asaMs: 20_000,
        ahtMs: 70_000,
        serviceLevelPct: 50,
      });
      expect(s.hours).toEqual([
        { hour: at(9).toISOString(), offered: 2, answered: 2, abandoned: 0, answeredWithinSl: 2 },
        { hour: at(10).toISOString(), offered: 2, answered: 1, abandoned: 1, answeredWithinSl: 0 },
      ]);
      expect(s.queues).toHaveLength(1);
      expect(s.queues[0]).toMatchObject({ offered: 4, longestWaitMs: 70_000 });
      const byAgent = Object.fromEntries(
        s.agents.map((a: { userId: number; answered: number }) => [a.userId, a.answered]),
      );
      expect(byAgent).toEqual({ [agent.id]: 2, [other.id]: 1 });
    });

    it('refuses a range that ends before it starts, and agents', async () => {
      const res = await api(
        tokens.admin,
        'GET',
        `/reports/summary?from=${at(10).toISOString()}&to=${at(9).toISOString()}`,
      );
      expect(res.statusCode).toBe(400);
      expect((await api(tokens.agent, 'GET', '/reports/summary')).statusCode).toBe(403);
    });
  });

  it('logs a call made elsewhere once per client id, and refuses bad input by field', async () => {
    const clientId = randomUUID();
    const body = {
      clientId,
      direction: 'outbound',
      number: '+15550123456',
      startedAt: new Date(Date.now() - 120_000).toISOString(),
      durationSeconds: 95,
      notes: 'From my mobile',
    };
    const first = await api(tokens.agent, 'POST', '/calls/manual', body);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ direction: 'outbound', toNumber: '+15550123456', agentUserId: agent.id, state: 'ended', talkMs: 95_000, disposition: 'logged_manually' });
    const again = await api(tokens.agent, 'POST', '/calls/manual', body);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    const rows = await app.db.selectFrom('calls').select('id').where('linkedid', '=', `manual-${clientId}`).execute();
    expect(rows).toHaveLength(1);
    const mine = await api(tokens.agent, 'GET', `/calls?linkedid=manual-${clientId}`);
    expect(mine.json().items).toHaveLength(1);
    expect((await api(tokens.other, 'GET', `/calls?linkedid=manual-${clientId}`)).json().items).toHaveLength(0);

    const badNumber = await api(tokens.agent, 'POST', '/calls/manual', { ...body, clientId: randomUUID(), number: 'call me' });
    expect(badNumber.statusCode).toBe(400);
    expect(JSON.stringify(badNumber.json().error.details)).toMatch(/number/);
    const future = await api(tokens.agent, 'POST', '/calls/manual', { ...body, clientId: randomUUID(), startedAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(future.statusCode).toBe(400);
    expect(future.json().error.details).toEqual([expect.objectContaining({ field: 'startedAt' })]);
  });
});
