import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.ts';
import { createTenant, createUser, tokenFor, type TestUser } from '../support/fixtures.ts';
import {
  client,
  expectStatus,
  fields,
  freshNumber,
  ifMatch,
  type Client,
} from '../support/routing-api.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

describe('IVR menus API', () => {
  let app: App;
  let admin: Client;
  let supervisor: Client;
  let agentClient: Client;
  let otherAdmin: Client;
  let agent: TestUser;
  let salesId: number;
  let supportId: number;
  let foreignQueueId: number;

  beforeAll(async () => {
    app = await buildTestApp();
    const tenant = await createTenant(app.db);
    const other = await createTenant(app.db);
    admin = client(app, await tokenFor(app, await createUser(app.db, tenant.id, 'tenant_admin')));
    supervisor = client(
      app,
      await tokenFor(app, await createUser(app.db, tenant.id, 'supervisor')),
    );
    agent = await createUser(app.db, tenant.id, 'agent');
    agentClient = client(app, await tokenFor(app, agent));
    otherAdmin = client(
      app,
      await tokenFor(app, await createUser(app.db, other.id, 'tenant_admin')),
    );
    salesId = expectStatus(await admin.post('/queues', { name: 'Sales' }), 201).id;
    supportId = expectStatus(await admin.post('/queues', { name: 'Support' }), 201).id;
    foreignQueueId = expectStatus(await otherAdmin.post('/queues', { name: 'Foreign' }), 201).id;
  });

  afterAll(async () => {
    await app.close();
  });

  const newMenu = async (name: string, body: Record<string, unknown> = {}) => {
    const res = await admin.post('/ivr-menus', { name, prompt: 'sound:custom/welcome', ...body });
    return { res, menu: expectStatus(res, 201) };
  };

  it('creates a menu with options, retries and a failover, and a nested menu', async () => {
    const { menu: sub } = await newMenu('Billing menu');
    const { res, menu } = await newMenu('Main', {
      timeoutSeconds: 7,
      maxRetries: 2,
      invalidPrompt: 'sound:option-is-invalid',
      failoverTarget: { type: 'voicemail', value: 'reception' },
      options: [
        { digit: '2', target: { type: 'queue', id: supportId } },
        { digit: '1', target: { type: 'queue', id: salesId } },
        { digit: '3', target: { type: 'ivr', id: sub.id } },
        { digit: '0', target: { type: 'user', id: agent.id } },
        { digit: '*', target: { type: 'hangup', value: 'sound:goodbye' } },
        { digit: '#', target: { type: 'external', value: '+14155550100' } },
      ],
    });
    expect(res.headers.etag).toBe('"v1"');
    expect(menu).toMatchObject({
      name: 'Main',
      prompt: 'sound:custom/welcome',
      timeoutSeconds: 7,
      maxRetries: 2,
      invalidPrompt: 'sound:option-is-invalid',
      failoverTarget: { type: 'voicemail', value: 'reception' },
      version: 1,
    });
    expect(menu.options.map((o: { digit: string }) => o.digit).sort()).toEqual([
      '#',
      '*',
      '0',
      '1',
      '2',
      '3',
    ]);
    expect(menu.options).toContainEqual({ digit: '3', target: { type: 'ivr', id: sub.id } });
    expect(expectStatus(await supervisor.get(`/ivr-menus/${menu.id}`), 200)).toEqual(menu);

    const defaults = (await newMenu('Plain')).menu;
    expect(defaults).toMatchObject({
      timeoutSeconds: 5,
      maxRetries: 3,
      invalidPrompt: null,
      failoverTarget: null,
      options: [],
    });
  });

  it('names each bad field in a 400', async () => {
    const schema = await admin.post('/ivr-menus', {
      name: 'Bad',
      prompt: 'welcome.wav',
      invalidPrompt: 'sound:has space',
      timeoutSeconds: 0,
      options: [{ digit: 'A', target: { type: 'hangup' } }],
    });
    expect(schema.statusCode).toBe(400);
    expect(fields(schema)).toEqual([
      'invalidPrompt',
      'options.0.digit',
      'prompt',
      'timeoutSeconds',
    ]);

    const rules = await admin.post('/ivr-menus', {
      name: 'Bad rules',
      prompt: 'sound:hello-world',
      failoverTarget: { type: 'queue', id: foreignQueueId },
      options: [
        { digit: '1', target: { type: 'queue', id: salesId } },
        { digit: '1', target: { type: 'queue', id: supportId } },
        { digit: '2', target: { type: 'queue', id: foreignQueueId } },
        { digit: '3', target: { type: 'ivr' } },
      ],
    });
    expect(rules.statusCode).toBe(400);
    expect(fields(rules)).toEqual([
      'failoverTarget.id',
      'options.1.digit',
      'options.2.target.id',
      'options.3.target.id',
    ]);
  });

  it('refuses an option or failover that points at the menu itself', async () => {
    const { res: created, menu } = await newMenu('Loop');
    const res = await admin.patch(
      `/ivr-menus/${menu.id}`,
      {
        failoverTarget: { type: 'ivr', id: menu.id },
        options: [{ digit: '9', target: { type: 'ivr', id: menu.id } }],
      },
      ifMatch(created),
    );
    expect(res.statusCode).toBe(400);
    expect(fields(res)).toEqual(['failoverTarget.id', 'options.0.target.id']);
  });

  it('replaces the options as a set with the menu, under If-Match', async () => {
    const { res: created, menu } = await newMenu('Replace', {
      options: [
        { digit: '1', target: { type: 'queue', id: salesId } },
        { digit: '2', target: { type: 'queue', id: supportId } },
      ],
    });
    expect((await admin.patch(`/ivr-menus/${menu.id}`, { maxRetries: 1 })).statusCode).toBe(428);

    const changed = await admin.patch(
      `/ivr-menus/${menu.id}`,
      {
        prompt: 'sound:custom/new-welcome',
        options: [{ digit: '5', target: { type: 'queue', id: supportId } }],
      },
      ifMatch(created),
    );
    expect(expectStatus(changed, 200)).toMatchObject({
      prompt: 'sound:custom/new-welcome',
      options: [{ digit: '5', target: { type: 'queue', id: supportId } }],
      version: 2,
    });
    expect(
      (await admin.patch(`/ivr-menus/${menu.id}`, { maxRetries: 1 }, ifMatch(created))).statusCode,
    ).toBe(412);

    // Without `options` the options stay as they are.
    const kept = await admin.patch(`/ivr-menus/${menu.id}`, { maxRetries: 1 }, ifMatch(changed));
    expect(expectStatus(kept, 200).options).toEqual([
      { digit: '5', target: { type: 'queue', id: supportId } },
    ]);
  });

  it('keeps the old options when the rest of the change fails', async () => {
    await newMenu('Taken');
    const { res: created, menu } = await newMenu('Rollback', {
      options: [{ digit: '1', target: { type: 'queue', id: salesId } }],
    });
    const res = await admin.patch(
      `/ivr-menus/${menu.id}`,
      { name: 'Taken', options: [{ digit: '7', target: { type: 'queue', id: supportId } }] },
      ifMatch(created),
    );
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('IVR_NAME_TAKEN');
    const rows = await app.db
      .selectFrom('ivrOptions')
      .select(['digit', 'targetId'])
      .where('menuId', '=', menu.id)
      .execute();
    expect(rows).toEqual([{ digit: '1', targetId: salesId }]);
    expect(expectStatus(await admin.get(`/ivr-menus/${menu.id}`), 200)).toEqual(menu);
  });

  it('refuses to delete a menu that a DID, another menu and a queue route to', async () => {
    const { res: created, menu } = await newMenu('Referenced', {
      options: [{ digit: '1', target: { type: 'queue', id: salesId } }],
    });
    const number = freshNumber();
    const did = expectStatus(
      await admin.post('/dids', { number, target: { type: 'hangup' }, businessHoursId: null }),
      201,
    );
    const routed = await admin.patch(
      `/dids/${did.id}`,
      { target: { type: 'ivr', id: menu.id } },
      { 'if-match': '"v1"' },
    );
    expectStatus(routed, 200);
    const { menu: parent } = await newMenu('Parent', {
      failoverTarget: { type: 'ivr', id: menu.id },
    });
    const queue = expectStatus(
      await admin.post('/queues', { name: 'To IVR', overflowTarget: { type: 'ivr', id: menu.id } }),
      201,
    );

    const res = await admin.del(`/ivr-menus/${menu.id}`, ifMatch(created));
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('IN_USE');
    expect(res.json().error.details.referencedBy).toEqual([
      { type: 'did', id: did.id, name: number, field: 'target' },
      { type: 'queue', id: queue.id, name: 'To IVR', field: 'overflowTarget' },
      { type: 'ivr', id: parent.id, name: 'Parent', field: 'failoverTarget' },
    ]);

    await admin.del(`/dids/${did.id}`, { 'if-match': '"v2"' });
    await admin.del(`/ivr-menus/${parent.id}`, { 'if-match': '"v1"' });
    await admin.del(`/queues/${queue.id}`, { 'if-match': '"v1"' });
    expect((await admin.del(`/ivr-menus/${menu.id}`, ifMatch(created))).statusCode).toBe(204);
    const options = await app.db
      .selectFrom('ivrOptions')
      .select('id')
      .where('menuId', '=', menu.id)
      .execute();
    expect(options).toEqual([]);
  });

  it('lists menus with options in cursor pages, filtered by name', async () => {
    for (const name of ['Paged 1', 'Paged 2', 'Paged 3']) {
      await newMenu(name, { options: [{ digit: '1', target: { type: 'queue', id: salesId } }] });
    }
    const first = expectStatus(
      await supervisor.get('/ivr-menus?name=Paged&limit=2&sort=-name'),
      200,
    );
    const second = expectStatus(
      await supervisor.get(`/ivr-menus?name=Paged&limit=2&sort=-name&cursor=${first.nextCursor}`),
      200,
    );
    expect([...first.items, ...second.items].map((m: { name: string }) => m.name)).toEqual([
      'Paged 3',
      'Paged 2',
      'Paged 1',
    ]);
    expect(second.nextCursor).toBeNull();
    expect(first.items[0].options).toEqual([
      { digit: '1', target: { type: 'queue', id: salesId } },
    ]);
  });

  it('lets supervisors read but not write, and agents do neither', async () => {
    expect((await supervisor.get('/ivr-menus')).statusCode).toBe(200);
    expect(
      (await supervisor.post('/ivr-menus', { name: 'No', prompt: 'sound:beep' })).statusCode,
    ).toBe(403);
    expect((await agentClient.get('/ivr-menus')).statusCode).toBe(403);
  });

  it('does not show or change menus of another tenant, nor route to them', async () => {
    const { res: created, menu } = await newMenu('Private');
    expect((await otherAdmin.get(`/ivr-menus/${menu.id}`)).statusCode).toBe(404);
    expect(
      (await otherAdmin.patch(`/ivr-menus/${menu.id}`, { maxRetries: 0 }, ifMatch(created)))
        .statusCode,
    ).toBe(404);
    expect((await otherAdmin.del(`/ivr-menus/${menu.id}`, ifMatch(created))).statusCode).toBe(404);
    const borrowed = await otherAdmin.post('/ivr-menus', {
      name: 'Borrow',
      prompt: 'sound:beep',
      options: [{ digit: '1', target: { type: 'ivr', id: menu.id } }],
    });
    expect(fields(borrowed)).toEqual(['options.0.target.id']);
    expect(expectStatus(await admin.get(`/ivr-menus/${menu.id}`), 200).version).toBe(1);
  });
});
