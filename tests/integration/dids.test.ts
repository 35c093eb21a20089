import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../control/src/db/database.ts';
import { resolveDid, targetAt } from '../../control/src/modules/dids/lookup.ts';
import { buildTestApp } from '../support/app.ts';
import {
  createTenant,
  createUser,
  tokenFor,
  type TestTenant,
  type TestUser,
} from '../support/fixtures.ts';
import {
  client,
  expectStatus,
  fields,
  freshNumber,
  ifMatch,
  type Client,
} from '../support/routing-api.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

async function createEndpoint(db: Db, tenantId: number, kind: 'trunk' | 'agent'): Promise<number> {
  const id = `t${tenantId}-${kind}-${randomBytes(3).toString('hex')}`;
  const result = await db
    .insertInto('sipEndpoints')
    .values({ tenantId, kind, asteriskId: id, name: id })
    .executeTakeFirstOrThrow();
  return Number(result.insertId);
}

/** A tenant with one of everything a DID can point at. */
interface World {
  tenant: TestTenant;
  admin: Client;
  agent: TestUser;
  queueId: number;
  otherQueueId: number;
  ivrId: number;
  hoursId: number;
  trunkId: number;
}

async function world(app: App): Promise<World> {
  const tenant = await createTenant(app.db);
  const admin = client(
    app,
    await tokenFor(app, await createUser(app.db, tenant.id, 'tenant_admin')),
  );
  const agent = await createUser(app.db, tenant.id, 'agent');
  const queueId = expectStatus(await admin.post('/queues', { name: 'Sales' }), 201).id;
  const otherQueueId = expectStatus(await admin.post('/queues', { name: 'Support' }), 201).id;
  const ivrId = expectStatus(
    await admin.post('/ivr-menus', { name: 'Main', prompt: 'sound:hello-world' }),
    201,
  ).id;
  const hoursId = expectStatus(
    await admin.post('/hours', {
      name: 'Office',
      timezone: 'Europe/London',
      schedule: [1, 2, 3, 4, 5].map((day) => ({ day, open: '09:00', close: '17:00' })),
      holidays: [{ date: '2026-12-25', name: 'Christmas Day' }],
    }),
    201,
  ).id;
  const trunkId = await createEndpoint(app.db, tenant.id, 'trunk');
  return { tenant, admin, agent, queueId, otherQueueId, ivrId, hoursId, trunkId };
}

describe('DIDs API', () => {
  let app: App;
  let a: World;
  let b: World;
  let supervisor: Client;
  let agent: Client;

  beforeAll(async () => {
    app = await buildTestApp();
    a = await world(app);
    b = await world(app);
    supervisor = client(
      app,
      await tokenFor(app, await createUser(app.db, a.tenant.id, 'supervisor')),
    );
    agent = client(app, await tokenFor(app, a.agent));
  });

  afterAll(async () => {
    await app.close();
  });

  it('adds a DID with a trunk, business hours and an after-hours target', async () => {
    const number = freshNumber();
    const res = await a.admin.post('/dids', {
      number,
      description: 'Sales line',
      trunkId: a.trunkId,
      target: { type: 'queue', id: a.queueId },
      businessHoursId: a.hoursId,
      afterHoursTarget: { type: 'voicemail', value: 'sales' },
    });
    const did = expectStatus(res, 201);
    expect(res.headers.etag).toBe('"v1"');
    expect(did).toMatchObject({
      number,
      description: 'Sales line',
      trunkId: a.trunkId,
      target: { type: 'queue', id: a.queueId },
      businessHoursId: a.hoursId,
      afterHoursTarget: { type: 'voicemail', value: 'sales' },
      version: 1,
    });
    expect(expectStatus(await supervisor.get(`/dids/${did.id}`), 200)).toEqual(did);

    const audit = await app.db
      .selectFrom('auditLog')
      .select(['action', 'tenantId'])
      .where('entityType', '=', 'did')
      .where('entityId', '=', String(did.id))
      .execute();
    expect(audit).toEqual([{ action: 'did.create', tenantId: a.tenant.id }]);
  });

  it('sets a caller priority for the line, 0 to 9', async () => {
    const created = expectStatus(
      await a.admin.post('/dids', { number: freshNumber(), target: { type: 'queue', id: a.queueId }, callerPriority: 3 }),
      201,
    );
    expect(created.callerPriority).toBe(3);
    const plain = expectStatus(await a.admin.post('/dids', { number: freshNumber(), target: { type: 'queue', id: a.queueId } }), 201);
    expect(plain.callerPriority).toBe(0);
    const bad = await a.admin.post('/dids', { number: freshNumber(), target: { type: 'queue', id: a.queueId }, callerPriority: 10 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: { field: string }) => d.field)).toContain('callerPriority');
  });

  it('accepts every kind of target', async () => {
    const targets = [
      { type: 'ivr', id: a.ivrId },
      { type: 'user', id: a.agent.id },
      { type: 'voicemail', id: a.agent.id },
      { type: 'voicemail', value: 'general' },
      { type: 'hangup' },
      { type: 'hangup', value: 'sound:custom/closed' },
      { type: 'external', value: '+14155550100' },
    ];
    for (const target of targets) {
      const did = expectStatus(await a.admin.post('/dids', { number: freshNumber(), target }), 201);
      expect(did.target).toEqual(target);
    }
  });

  it('names each malformed target field', async () => {
    const cases: Array<[unknown, string[]]> = [
      [{ type: 'queue' }, ['target.id']],
      [{ type: 'queue', id: a.queueId, value: 'x' }, ['target.value']],
      [{ type: 'external', value: '0207 123 4567' }, ['target.value']],
      [{ type: 'external' }, ['target.value']],
      [{ type: 'external', id: 3, value: '+14155550100' }, ['target.id']],
      [{ type: 'hangup', value: 'closed.wav' }, ['target.value']],
      [{ type: 'voicemail', id: a.agent.id, value: 'sales' }, ['target']],
      [{ type: 'voicemail', value: 'bad box!' }, ['target.value']],
      [{ type: 'fax' }, ['target.type']],
    ];
    for (const [target, expected] of cases) {
      const res = await a.admin.post('/dids', { number: freshNumber(), target });
      expect(res.statusCode, JSON.stringify(target)).toBe(400);
      expect(fields(res), JSON.stringify(target)).toEqual(expected);
    }
  });

  it('refuses numbers that are not E.164 and unknown fields', async () => {
    const res = await a.admin.post('/dids', {
      number: '02071234567',
      target: { type: 'hangup' },
      colour: 'red',
    });
    expect(res.statusCode).toBe(400);
    expect(fields(res)).toEqual(['colour', 'number']);
  });

  it('answers 409 DID_TAKEN for a number another tenant has, without saying who', async () => {
    const number = freshNumber();
    expectStatus(
      await b.admin.post('/dids', { number, target: { type: 'queue', id: b.queueId } }),
      201,
    );

    const res = await a.admin.post('/dids', { number, target: { type: 'queue', id: a.queueId } });
    expect(res.statusCode).toBe(409);
    const error = res.json().error;
    expect(error).toEqual({
      code: 'DID_TAKEN',
      message: 'This number is already taken',
      details: [{ field: 'number', message: 'This number is already taken' }],
    });
    expect(res.body).not.toContain(String(b.tenant.id));
    expect(res.body).not.toContain(b.tenant.slug);

    // Exactly what the tenant that holds it hears, so the answer tells nothing.
    const own = await b.admin.post('/dids', { number, target: { type: 'hangup' } });
    expect(own.statusCode).toBe(409);
    expect(own.json()).toEqual(res.json());
  });

  it('refuses targets, trunks and hours of another tenant as if they did not exist', async () => {
    const foreign = await a.admin.post('/dids', {
      number: freshNumber(),
      trunkId: b.trunkId,
      target: { type: 'queue', id: b.queueId },
      businessHoursId: b.hoursId,
      afterHoursTarget: { type: 'ivr', id: b.ivrId },
    });
    expect(foreign.statusCode).toBe(400);
    expect(fields(foreign)).toEqual([
      'afterHoursTarget.id',
      'businessHoursId',
      'target.id',
      'trunkId',
    ]);

    const missing = await a.admin.post('/dids', {
      number: freshNumber(),
      trunkId: 999_999_999,
      target: { type: 'queue', id: 999_999_999 },
      businessHoursId: 999_999_999,
      afterHoursTarget: { type: 'ivr', id: 999_999_999 },
    });
    expect(missing.json().error.details).toEqual(foreign.json().error.details);
    expect(foreign.body).not.toContain(String(b.queueId));

    const userOfB = await createUser(app.db, b.tenant.id, 'agent');
    const user = await a.admin.post('/dids', {
      number: freshNumber(),
      target: { type: 'voicemail', id: userOfB.id },
    });
    expect(fields(user)).toEqual(['target.id']);
  });

  it('takes only a trunk as trunkId, not an agent endpoint', async () => {
    const endpoint = await createEndpoint(app.db, a.tenant.id, 'agent');
    const res = await a.admin.post('/dids', {
      number: freshNumber(),
      trunkId: endpoint,
      target: { type: 'hangup' },
    });
    expect(fields(res)).toEqual(['trunkId']);
  });

  it('requires an after-hours target with business hours, and hours for an after-hours target', async () => {
    const noTarget = await a.admin.post('/dids', {
      number: freshNumber(),
      target: { type: 'queue', id: a.queueId },
      businessHoursId: a.hoursId,
    });
    expect(fields(noTarget)).toEqual(['afterHoursTarget']);
    const noHours = await a.admin.post('/dids', {
      number: freshNumber(),
      target: { type: 'queue', id: a.queueId },
      afterHoursTarget: { type: 'hangup' },
    });
    expect(fields(noHours)).toEqual(['afterHoursTarget']);
  });

  it('changes a DID under If-Match and refuses stale or missing versions', async () => {
    const created = await a.admin.post('/dids', {
      number: freshNumber(),
      target: { type: 'queue', id: a.queueId },
      businessHoursId: a.hoursId,
      afterHoursTarget: { type: 'hangup', value: 'sound:custom/closed' },
    });
    const id = expectStatus(created, 201).id;

    expect((await a.admin.patch(`/dids/${id}`, { description: 'x' })).statusCode).toBe(428);

    const changed = await a.admin.patch(
      `/dids/${id}`,
      { target: { type: 'ivr', id: a.ivrId }, description: 'Main line' },
      ifMatch(created),
    );
    expect(expectStatus(changed, 200)).toMatchObject({
      target: { type: 'ivr', id: a.ivrId },
      description: 'Main line',
      afterHoursTarget: { type: 'hangup', value: 'sound:custom/closed' },
      version: 2,
    });
    expect(changed.headers.etag).toBe('"v2"');

    const stale = await a.admin.patch(`/dids/${id}`, { description: 'lost' }, ifMatch(created));
    expect(stale.statusCode).toBe(412);

    // Taking the hours away takes the after-hours route with them.
    const noHours = await a.admin.patch(`/dids/${id}`, { businessHoursId: null }, ifMatch(changed));
    expect(expectStatus(noHours, 200)).toMatchObject({
      businessHoursId: null,
      afterHoursTarget: null,
    });

    const badTarget = await a.admin.patch(
      `/dids/${id}`,
      { target: { type: 'queue', id: b.queueId } },
      ifMatch(noHours),
    );
    expect(fields(badTarget)).toEqual(['target.id']);
    expect(expectStatus(await a.admin.get(`/dids/${id}`), 200).target).toEqual({
      type: 'ivr',
      id: a.ivrId,
    });
  });

  it('moves a DID to a number another tenant has with 409, changing nothing', async () => {
    const taken = freshNumber();
    expectStatus(await b.admin.post('/dids', { number: taken, target: { type: 'hangup' } }), 201);
    const created = await a.admin.post('/dids', {
      number: freshNumber(),
      target: { type: 'hangup' },
    });
    const res = await a.admin.patch(
      `/dids/${created.json().id}`,
      { number: taken },
      ifMatch(created),
    );
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('DID_TAKEN');
    expect(expectStatus(await a.admin.get(`/dids/${created.json().id}`), 200)).toEqual(
      created.json(),
    );
  });

  it('deletes a DID under If-Match', async () => {
    const created = await a.admin.post('/dids', {
      number: freshNumber(),
      target: { type: 'hangup' },
    });
    const id = expectStatus(created, 201).id;
    expect((await a.admin.del(`/dids/${id}`)).statusCode).toBe(428);
    expect((await a.admin.del(`/dids/${id}`, ifMatch(created))).statusCode).toBe(204);
    expect((await a.admin.get(`/dids/${id}`)).statusCode).toBe(404);
  });

  it('creates a DID once for a retried POST with the same Idempotency-Key', async () => {
    const number = freshNumber();
    const body = { number, target: { type: 'hangup' } };
    const key = { 'idempotency-key': `did-${number}` };
    const first = await a.admin.post('/dids', body, key);
    const again = await a.admin.post('/dids', body, key);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const rows = await app.db
      .selectFrom('dids')
      .select('id')
      .where('number', '=', number)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('walks 120 DIDs in pages of 50 sorted by -number with no gap or repeat', async () => {
    const c = await world(app);
    const prefix = freshNumber('+1555', 4);
    const numbers: string[] = [];
    for (let i = 0; i < 120; i++) {
      const number = `${prefix}${String(i).padStart(3, '0')}`;
      numbers.push(number);
      expectStatus(await c.admin.post('/dids', { number, target: { type: 'hangup' } }), 201);
    }
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/dids?limit=50&sort=-number${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { items: Array<{ number: string }>; nextCursor: string | null } = expectStatus(
        await c.admin.get(url),
        200,
      );
      sizes.push(page.items.length);
      seen.push(...page.items.map((d) => d.number));
      cursor = page.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([50, 50, 20]);
    expect(seen).toEqual([...numbers].sort().reverse());
    expect(new Set(seen).size).toBe(120);
  });

  it('filters by number prefix, target type and queue', async () => {
    const c = await world(app);
    const prefix = freshNumber('+3120', 4);
    const n = (i: number) => `${prefix}${i}00`;
    await c.admin.post('/dids', { number: n(1), target: { type: 'queue', id: c.queueId } });
    await c.admin.post('/dids', {
      number: n(2),
      target: { type: 'ivr', id: c.ivrId },
      businessHoursId: c.hoursId,
      afterHoursTarget: { type: 'queue', id: c.queueId },
    });
    await c.admin.post('/dids', { number: n(3), target: { type: 'queue', id: c.otherQueueId } });
    await c.admin.post('/dids', { number: freshNumber('+4930', 6), target: { type: 'hangup' } });

    const numbersOf = async (query: string) =>
      expectStatus(await c.admin.get(`/dids?${query}`), 200).items.map(
        (d: { number: string }) => d.number,
      );

    expect(await numbersOf(`number=${encodeURIComponent(prefix)}`)).toEqual([n(1), n(2), n(3)]);
    // A bare + in a query string arrives as a space; digits alone work too.
    expect(await numbersOf(`number=${prefix}`)).toEqual([n(1), n(2), n(3)]);
    expect(await numbersOf(`number=${prefix.slice(1)}&sort=-number`)).toEqual([n(3), n(2), n(1)]);
    expect(await numbersOf(`number=${prefix.slice(1)}&targetType=queue`)).toEqual([n(1), n(3)]);
    expect(await numbersOf(`queueId=${c.queueId}`)).toEqual([n(1), n(2)]);
    expect(await numbersOf(`queueId=${c.otherQueueId}&sort=createdAt`)).toEqual([n(3)]);
    expect(await numbersOf(`businessHoursId=${c.hoursId}`)).toEqual([n(2)]);
    expect((await c.admin.get('/dids?number=abc')).statusCode).toBe(400);
    expect((await c.admin.get('/dids?sort=description')).statusCode).toBe(400);
  });

  it('lets supervisors read but not write, and agents do neither', async () => {
    expect((await supervisor.get('/dids')).statusCode).toBe(200);
    expect(
      (await supervisor.post('/dids', { number: freshNumber(), target: { type: 'hangup' } }))
        .statusCode,
    ).toBe(403);
    expect((await agent.get('/dids')).statusCode).toBe(403);
  });

  it('does not show or change DIDs of another tenant', async () => {
    const created = await b.admin.post('/dids', {
      number: freshNumber(),
      target: { type: 'hangup' },
    });
    const id = expectStatus(created, 201).id;
    expect((await a.admin.get(`/dids/${id}`)).statusCode).toBe(404);
    expect(
      (await a.admin.patch(`/dids/${id}`, { description: 'mine' }, ifMatch(created))).statusCode,
    ).toBe(404);
    expect((await a.admin.del(`/dids/${id}`, ifMatch(created))).statusCode).toBe(404);
    const list = expectStatus(await a.admin.get('/dids?limit=200'), 200);
    expect(list.items.map((d: { id: number }) => d.id)).not.toContain(id);
    expect(expectStatus(await b.admin.get(`/dids/${id}`), 200).version).toBe(1);
  });
});

describe('resolveDid', () => {
  let app: App;
  let a: World;

  beforeAll(async () => {
    app = await buildTestApp();
    a = await world(app);
  });

  afterAll(async () => {
    await app.close();
  });

  it('returns the tenant, targets and hours with holidays for a dialled number', async () => {
    const number = freshNumber();
    const did = expectStatus(
      await a.admin.post('/dids', {
        number,
        target: { type: 'queue', id: a.queueId },
        businessHoursId: a.hoursId,
        afterHoursTarget: { type: 'voicemail', value: 'afterhours' },
      }),
      201,
    );
    const route = await resolveDid(app.db, number);
    expect(route).toEqual({
      tenantId: a.tenant.id,
      did,
      target: { type: 'queue', id: a.queueId },
      afterHoursTarget: { type: 'voicemail', value: 'afterhours' },
      hours: {
        id: a.hoursId,
        name: 'Office',
        timezone: 'Europe/London',
        schedule: [1, 2, 3, 4, 5].map((day) => ({ day, open: '09:00', close: '17:00' })),
        holidays: [{ date: '2026-12-25', name: 'Christmas Day' }],
      },
    });
    // Digits without the + are the same number.
    expect((await resolveDid(app.db, number.slice(1)))?.did.id).toBe(did.id);

    // In hours on a Thursday, after hours that evening and all of Christmas Day (a Friday).
    expect(targetAt(route!, new Date('2026-12-24T10:00:00Z'))).toEqual({
      type: 'queue',
      id: a.queueId,
    });
    expect(targetAt(route!, new Date('2026-12-24T18:00:00Z'))).toEqual({
      type: 'voicemail',
      value: 'afterhours',
    });
    expect(targetAt(route!, new Date('2026-12-25T10:00:00Z'))).toEqual({
      type: 'voicemail',
      value: 'afterhours',
    });
  });

  it('sees a change to the DID on the very next lookup', async () => {
    const number = freshNumber();
    const created = await a.admin.post('/dids', {
      number,
      target: { type: 'queue', id: a.queueId },
    });
    expect((await resolveDid(app.db, number))?.target).toEqual({ type: 'queue', id: a.queueId });
    expect((await resolveDid(app.db, number))?.hours).toBeUndefined();

    expectStatus(
      await a.admin.patch(
        `/dids/${created.json().id}`,
        { target: { type: 'ivr', id: a.ivrId } },
        ifMatch(created),
      ),
      200,
    );
    expect((await resolveDid(app.db, number))?.target).toEqual({ type: 'ivr', id: a.ivrId });

    expectStatus(await a.admin.del(`/dids/${created.json().id}`, { 'if-match': '"v2"' }), 204);
    expect(await resolveDid(app.db, number)).toBeUndefined();
  });

  it('returns undefined for a number no tenant has', async () => {
    expect(await resolveDid(app.db, '+99999999999999')).toBeUndefined();
  });
});
