import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.ts';
import { createTenant, createUser, tokenFor, type TestTenant } from '../support/fixtures.ts';
import {
  client,
  expectStatus,
  fields,
  freshNumber,
  ifMatch,
  type Client,
} from '../support/routing-api.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

const office = [1, 2, 3, 4, 5].map((day) => ({ day, open: '09:00', close: '17:00' }));

describe('business hours API', () => {
  let app: App;
  let tenant: TestTenant;
  let admin: Client;
  let supervisor: Client;
  let agent: Client;
  let otherAdmin: Client;

  beforeAll(async () => {
    app = await buildTestApp();
    tenant = await createTenant(app.db, { timezone: 'Europe/London' });
    const other = await createTenant(app.db);
    admin = client(app, await tokenFor(app, await createUser(app.db, tenant.id, 'tenant_admin')));
    supervisor = client(
      app,
      await tokenFor(app, await createUser(app.db, tenant.id, 'supervisor')),
    );
    agent = client(app, await tokenFor(app, await createUser(app.db, tenant.id, 'agent')));
    otherAdmin = client(
      app,
      await tokenFor(app, await createUser(app.db, other.id, 'tenant_admin')),
    );
  });

  afterAll(async () => {
    await app.close();
  });

  it('creates hours with several ranges a day and holidays, defaulting to the tenant’s zone', async () => {
    const res = await admin.post('/hours', {
      name: 'Support',
      schedule: [
        { day: 1, open: '13:00', close: '17:00' },
        { day: 1, open: '09:00', close: '12:00' },
        { day: 6, open: '10:00', close: '24:00' },
      ],
      holidays: [
        { date: '2026-12-26', name: 'Boxing Day' },
        { date: '2026-12-25', name: 'Christmas Day' },
      ],
    });
    const hours = expectStatus(res, 201);
    expect(res.headers.etag).toBe('"v1"');
    expect(res.headers.location).toBe(`/api/v1/hours/${hours.id}`);
    expect(hours).toMatchObject({
      name: 'Support',
      timezone: 'Europe/London',
      schedule: [
        { day: 1, open: '09:00', close: '12:00' },
        { day: 1, open: '13:00', close: '17:00' },
        { day: 6, open: '10:00', close: '24:00' },
      ],
      holidays: [
        { date: '2026-12-25', name: 'Christmas Day' },
        { date: '2026-12-26', name: 'Boxing Day' },
      ],
      version: 1,
    });

    const read = await supervisor.get(`/hours/${hours.id}`);
    expect(expectStatus(read, 200)).toEqual(hours);
    expect(read.headers.etag).toBe('"v1"');

    const audit = await app.db
      .selectFrom('auditLog')
      .selectAll()
      .where('entityType', '=', 'business_hours')
      .where('entityId', '=', String(hours.id))
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['hours.create']);
  });

  it('names every bad field in a 400', async () => {
    const res = await admin.post('/hours', {
      name: 'Broken',
      timezone: 'Mars/Olympus_Mons',
      schedule: [
        { day: 2, open: '09:00', close: '12:00' },
        { day: 2, open: '11:00', close: '14:00' },
        { day: 3, open: '18:00', close: '09:00' },
        { day: 4, open: '24:00', close: '24:00' },
      ],
      holidays: [
        { date: '2026-02-30', name: 'Not a day' },
        { date: '2026-05-01', name: 'May Day' },
        { date: '2026-05-01', name: 'Again' },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(fields(res)).toEqual([
      'holidays.0.date',
      'holidays.2.date',
      'schedule.1',
      'schedule.2.close',
      'schedule.3.open',
      'timezone',
    ]);
  });

  it('refuses unknown fields, bad clock strings and days out of range by schema', async () => {
    const res = await admin.post('/hours', {
      name: 'Schema',
      colour: 'red',
      schedule: [{ day: 7, open: '9:00', close: '25:00' }],
    });
    expect(res.statusCode).toBe(400);
    expect(fields(res)).toEqual(
      expect.arrayContaining(['colour', 'schedule.0.day', 'schedule.0.open', 'schedule.0.close']),
    );
  });

  it('answers 409 for a second set of hours with the same name', async () => {
    expectStatus(await admin.post('/hours', { name: 'Twice', schedule: office }), 201);
    const res = await admin.post('/hours', { name: 'Twice', schedule: [] });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({
      code: 'HOURS_NAME_TAKEN',
      details: [{ field: 'name' }],
    });
  });

  it('replaces schedule and holidays under If-Match, and refuses stale or missing versions', async () => {
    const created = await admin.post('/hours', {
      name: 'Editable',
      timezone: 'America/New_York',
      schedule: office,
      holidays: [{ date: '2026-07-03', name: 'Independence Day (observed)' }],
    });
    const id = expectStatus(created, 201).id;

    const missing = await admin.patch(`/hours/${id}`, { name: 'No version' });
    expect(missing.statusCode).toBe(428);

    const changed = await admin.patch(
      `/hours/${id}`,
      {
        schedule: [{ day: 0, open: '10:00', close: '14:00' }],
        holidays: [{ date: '2026-11-26', name: 'Thanksgiving' }],
      },
      ifMatch(created),
    );
    const body = expectStatus(changed, 200);
    expect(changed.headers.etag).toBe('"v2"');
    expect(body.schedule).toEqual([{ day: 0, open: '10:00', close: '14:00' }]);
    expect(body.holidays).toEqual([{ date: '2026-11-26', name: 'Thanksgiving' }]);

    const stale = await admin.patch(`/hours/${id}`, { name: 'Lost update' }, ifMatch(created));
    expect(stale.statusCode).toBe(412);
    expect(stale.json().error).toMatchObject({
      code: 'VERSION_CONFLICT',
      details: { currentVersion: 2 },
    });

    const byField = await admin.patch(`/hours/${id}`, { name: 'By version field', version: 2 });
    expect(expectStatus(byField, 200).version).toBe(3);
  });

  it('leaves holidays untouched when the change they came with fails', async () => {
    expectStatus(await admin.post('/hours', { name: 'Taken name', schedule: [] }), 201);
    const created = await admin.post('/hours', {
      name: 'Keeps holidays',
      schedule: office,
      holidays: [{ date: '2026-01-01', name: 'New Year' }],
    });
    const id = expectStatus(created, 201).id;
    const res = await admin.patch(
      `/hours/${id}`,
      { name: 'Taken name', holidays: [{ date: '2026-04-03', name: 'Good Friday' }] },
      ifMatch(created),
    );
    expect(res.statusCode).toBe(409);
    const after = expectStatus(await admin.get(`/hours/${id}`), 200);
    expect(after.holidays).toEqual([{ date: '2026-01-01', name: 'New Year' }]);
    expect(after.version).toBe(1);
  });

  it('says whether the hours are open at an instant and when that changes', async () => {
    const created = await admin.post('/hours', {
      name: 'Status',
      timezone: 'Europe/London',
      schedule: office,
      holidays: [{ date: '2026-03-30', name: 'Closed Monday' }],
    });
    const id = expectStatus(created, 201).id;
    const friday = expectStatus(
      await supervisor.get(`/hours/${id}/status?at=2026-03-27T10:00:00Z`),
      200,
    );
    expect(friday).toEqual({
      open: true,
      at: '2026-03-27T10:00:00.000Z',
      nextChange: '2026-03-27T17:00:00.000Z',
      timezone: 'Europe/London',
    });
    // The holiday Monday is skipped; Tuesday opens at 09:00 BST.
    const weekend = expectStatus(
      await supervisor.get(`/hours/${id}/status?at=2026-03-28T10:00:00Z`),
      200,
    );
    expect(weekend).toMatchObject({ open: false, nextChange: '2026-03-31T08:00:00.000Z' });
    const bad = await supervisor.get(`/hours/${id}/status?at=yesterday`);
    expect(bad.statusCode).toBe(400);
    expect(fields(bad)).toEqual(['at']);
  });

  it('lists with a name filter, sort and cursor pages', async () => {
    for (const n of ['Zeta', 'Lima 2', 'Lima 1', 'Lima 3']) {
      expectStatus(await admin.post('/hours', { name: `List ${n}`, schedule: [] }), 201);
    }
    const first = expectStatus(
      await supervisor.get('/hours?name=List%20Lima&sort=-name&limit=2'),
      200,
    );
    expect(first.items.map((h: { name: string }) => h.name)).toEqual([
      'List Lima 3',
      'List Lima 2',
    ]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = expectStatus(
      await supervisor.get(`/hours?name=List%20Lima&sort=-name&limit=2&cursor=${first.nextCursor}`),
      200,
    );
    expect(second.items.map((h: { name: string }) => h.name)).toEqual(['List Lima 1']);
    expect(second.nextCursor).toBeNull();

    const byCreated = expectStatus(
      await supervisor.get('/hours?name=List&sort=createdAt&limit=1'),
      200,
    );
    const rest = expectStatus(
      await supervisor.get(
        `/hours?name=List&sort=createdAt&limit=10&cursor=${byCreated.nextCursor}`,
      ),
      200,
    );
    expect([...byCreated.items, ...rest.items].map((h: { name: string }) => h.name)).toEqual([
      'List Zeta',
      'List Lima 2',
      'List Lima 1',
      'List Lima 3',
    ]);

    expect((await supervisor.get('/hours?sort=colour')).statusCode).toBe(400);
  });

  it('lets supervisors read but not write, and agents do neither', async () => {
    expect((await supervisor.post('/hours', { name: 'Nope', schedule: [] })).statusCode).toBe(403);
    expect((await agent.get('/hours')).statusCode).toBe(403);
  });

  it('does not show or change business hours of another tenant', async () => {
    const created = await admin.post('/hours', { name: 'Private', schedule: office });
    const id = expectStatus(created, 201).id;
    expect((await otherAdmin.get(`/hours/${id}`)).statusCode).toBe(404);
    expect((await otherAdmin.get(`/hours/${id}/status`)).statusCode).toBe(404);
    expect(
      (await otherAdmin.patch(`/hours/${id}`, { name: 'Mine' }, ifMatch(created))).statusCode,
    ).toBe(404);
    expect((await otherAdmin.del(`/hours/${id}`, ifMatch(created))).statusCode).toBe(404);
    const list = expectStatus(await otherAdmin.get('/hours'), 200);
    expect(list.items.map((h: { id: number }) => h.id)).not.toContain(id);
    expect((await admin.get(`/hours/${id}`)).statusCode).toBe(200);
  });

  it('refuses to delete hours a DID switches on, naming the DID', async () => {
    const created = await admin.post('/hours', { name: 'In use', schedule: office });
    const id = expectStatus(created, 201).id;
    const number = freshNumber();
    const did = expectStatus(
      await admin.post('/dids', {
        number,
        target: { type: 'hangup' },
        businessHoursId: id,
        afterHoursTarget: { type: 'voicemail', value: 'closed' },
      }),
      201,
    );
    const res = await admin.del(`/hours/${id}`, ifMatch(created));
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({
      code: 'IN_USE',
      details: {
        referencedBy: [{ type: 'did', id: did.id, name: number, field: 'businessHoursId' }],
      },
    });
    expect(res.json().error.message).toContain(number);
    expect(expectStatus(await admin.get(`/dids/${did.id}`), 200).businessHoursId).toBe(id);

    expectStatus(
      await admin.patch(`/dids/${did.id}`, { businessHoursId: null }, { 'if-match': '"v1"' }),
      200,
    );
    expect((await admin.del(`/hours/${id}`, ifMatch(created))).statusCode).toBe(204);
  });

  it('deletes hours with their holidays under If-Match', async () => {
    const created = await admin.post('/hours', {
      name: 'Short-lived',
      schedule: office,
      holidays: [{ date: '2026-08-31', name: 'Bank holiday' }],
    });
    const id = expectStatus(created, 201).id;
    expect((await admin.del(`/hours/${id}`)).statusCode).toBe(428);
    expect((await admin.del(`/hours/${id}`, { 'if-match': '"v9"' })).statusCode).toBe(412);
    expect((await admin.del(`/hours/${id}`, ifMatch(created))).statusCode).toBe(204);
    expect((await admin.get(`/hours/${id}`)).statusCode).toBe(404);
    const left = await app.db
      .selectFrom('holidays')
      .select('id')
      .where('businessHoursId', '=', id)
      .execute();
    expect(left).toEqual([]);
  });
});
