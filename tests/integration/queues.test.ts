import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('queues API', () => {
  let app: App;
  let tenant: TestTenant;
  let admin: Client;
  let supervisor: Client;
  let agentClient: Client;
  let otherAdmin: Client;
  let agents: TestUser[];
  let helpdesk: TestUser;
  let tenantAdminUser: TestUser;
  let otherTenantAgent: TestUser;

  beforeAll(async () => {
    app = await buildTestApp();
    tenant = await createTenant(app.db);
    const other = await createTenant(app.db);
    tenantAdminUser = await createUser(app.db, tenant.id, 'tenant_admin');
    admin = client(app, await tokenFor(app, tenantAdminUser));
    const supervisorUser = await createUser(app.db, tenant.id, 'supervisor');
    supervisor = client(app, await tokenFor(app, supervisorUser));
    agents = [
      await createUser(app.db, tenant.id, 'agent', { displayName: 'Ada' }),
      await createUser(app.db, tenant.id, 'agent', { displayName: 'Bo' }),
      await createUser(app.db, tenant.id, 'agent', { displayName: 'Cy' }),
    ];
    helpdesk = await createUser(app.db, tenant.id, 'helpdesk');
    agentClient = client(app, await tokenFor(app, agents[0]!));
    otherAdmin = client(
      app,
      await tokenFor(app, await createUser(app.db, other.id, 'tenant_admin')),
    );
    otherTenantAgent = await createUser(app.db, other.id, 'agent');
  });

  afterAll(async () => {
    await app.close();
  });

  const newQueue = async (name: string, body: Record<string, unknown> = {}) => {
    const res = await admin.post('/queues', { name, ...body });
    return { res, queue: expectStatus(res, 201) };
  };

  it('creates a queue with sensible defaults', async () => {
    const { res, queue } = await newQueue('Defaults');
    expect(res.headers.etag).toBe('"v1"');
    expect(queue).toMatchObject({
      name: 'Defaults',
      strategy: 'longest_idle',
      ringTimeoutSeconds: 20,
      maxWaitSeconds: 600,
      wrapupSeconds: 10,
      announcePositionSeconds: 30,
      serviceLevelSeconds: 20,
      penaltyRelaxSeconds: 60,
      requiredSkills: {},
      mohClass: 'default',
      recordingEnabled: false,
      callbackEnabled: false,
      overflowTarget: null,
      version: 1,
    });
  });

  it('creates a queue with every setting and an overflow target', async () => {
    const { queue: spill } = await newQueue('Spill');
    const { queue } = await newQueue('Full', {
      strategy: 'skills',
      ringTimeoutSeconds: 15,
      maxWaitSeconds: 300,
      wrapupSeconds: 5,
      announcePositionSeconds: 0,
      serviceLevelSeconds: 30,
      penaltyRelaxSeconds: 45,
      requiredSkills: { billing: 3, spanish: 1 },
      mohClass: 'jazz',
      recordingEnabled: true,
      callbackEnabled: true,
      overflowTarget: { type: 'queue', id: spill.id },
    });
    expect(queue).toMatchObject({
      strategy: 'skills',
      requiredSkills: { billing: 3, spanish: 1 },
      recordingEnabled: true,
      callbackEnabled: true,
      overflowTarget: { type: 'queue', id: spill.id },
    });
    expect(expectStatus(await supervisor.get(`/queues/${queue.id}`), 200)).toEqual(queue);
  });

  it('names each bad field in a 400', async () => {
    const res = await admin.post('/queues', {
      name: 'Bad',
      strategy: 'random',
      ringTimeoutSeconds: 1,
      mohClass: 'no spaces',
      requiredSkills: { 'bad skill': 1 },
      colour: 'red',
    });
    expect(res.statusCode).toBe(400);
    expect(fields(res)).toEqual(
      expect.arrayContaining(['colour', 'mohClass', 'ringTimeoutSeconds', 'strategy']),
    );
    expect(fields(res).some((f) => f.startsWith('requiredSkills'))).toBe(true);
  });

  it('answers 409 for a second queue with the same name in the tenant only', async () => {
    await newQueue('Twin');
    const res = await admin.post('/queues', { name: 'Twin' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({
      code: 'QUEUE_NAME_TAKEN',
      details: [{ field: 'name' }],
    });
    expect((await otherAdmin.post('/queues', { name: 'Twin' })).statusCode).toBe(201);
  });

  it('refuses an overflow to another tenant’s queue or to the queue itself', async () => {
    const foreign = expectStatus(await otherAdmin.post('/queues', { name: 'Foreign' }), 201);
    const res = await admin.post('/queues', {
      name: 'Leaky',
      overflowTarget: { type: 'queue', id: foreign.id },
    });
    expect(fields(res)).toEqual(['overflowTarget.id']);
    expect(res.body).not.toContain('Foreign');

    const { res: created, queue } = await newQueue('Selfish');
    const self = await admin.patch(
      `/queues/${queue.id}`,
      { overflowTarget: { type: 'queue', id: queue.id } },
      ifMatch(created),
    );
    expect(self.statusCode).toBe(400);
    expect(fields(self)).toEqual(['overflowTarget.id']);
  });

  it('changes a queue under If-Match and refuses stale or missing versions', async () => {
    const { res: created, queue } = await newQueue('Editable');
    expect((await admin.patch(`/queues/${queue.id}`, { wrapupSeconds: 0 })).statusCode).toBe(428);
    const changed = await admin.patch(
      `/queues/${queue.id}`,
      {
        wrapupSeconds: 0,
        strategy: 'round_robin',
        overflowTarget: { type: 'voicemail', value: 'sales' },
      },
      ifMatch(created),
    );
    expect(expectStatus(changed, 200)).toMatchObject({
      wrapupSeconds: 0,
      strategy: 'round_robin',
      overflowTarget: { type: 'voicemail', value: 'sales' },
      version: 2,
    });
    expect(
      (await admin.patch(`/queues/${queue.id}`, { wrapupSeconds: 9 }, ifMatch(created))).statusCode,
    ).toBe(412);
    const cleared = await admin.patch(
      `/queues/${queue.id}`,
      { overflowTarget: null },
      ifMatch(changed),
    );
    expect(expectStatus(cleared, 200).overflowTarget).toBeNull();
  });

  describe('members', () => {
    it('adds, changes and removes members, each change moving the queue’s version', async () => {
      const { queue } = await newQueue('Members');
      const added = await admin.post(`/queues/${queue.id}/members`, {
        userId: agents[0]!.id,
        penalty: 2,
        skills: { billing: 5 },
      });
      expect(expectStatus(added, 201)).toMatchObject({
        userId: agents[0]!.id,
        displayName: 'Ada',
        role: 'agent',
        penalty: 2,
        skills: { billing: 5 },
      });
      expect(added.headers.etag).toBe('"v2"');
      expectStatus(await admin.post(`/queues/${queue.id}/members`, { userId: helpdesk.id }), 201);

      const list = await supervisor.get(`/queues/${queue.id}/members`);
      expect(list.headers.etag).toBe('"v3"');
      expect(expectStatus(list, 200).items.map((m: { userId: number }) => m.userId)).toEqual([
        agents[0]!.id,
        helpdesk.id,
      ]);

      const url = `/queues/${queue.id}/members/${agents[0]!.id}`;
      expect((await admin.patch(url, { penalty: 1 })).statusCode).toBe(428);
      expect((await admin.patch(url, { penalty: 1 }, ifMatch(added))).statusCode).toBe(412);
      const changed = await admin.patch(url, { penalty: 1, skills: {} }, ifMatch(list));
      expect(expectStatus(changed, 200)).toMatchObject({ penalty: 1, skills: {} });
      expect(changed.headers.etag).toBe('"v4"');

      expect((await admin.del(url, ifMatch(list))).statusCode).toBe(412);
      expect((await admin.del(url, ifMatch(changed))).statusCode).toBe(204);
      expect((await admin.del(url, { 'if-match': '"v5"' })).statusCode).toBe(404);
      expect(expectStatus(await admin.get(`/queues/${queue.id}`), 200).version).toBe(5);
    });

    it('takes only agents, supervisors and helpdesk users of the tenant', async () => {
      const { queue } = await newQueue('Picky');
      for (const user of [tenantAdminUser, otherTenantAgent]) {
        const res = await admin.post(`/queues/${queue.id}/members`, { userId: user.id });
        expect(res.statusCode).toBe(400);
        expect(fields(res)).toEqual(['userId']);
      }
      const missing = await admin.post(`/queues/${queue.id}/members`, { userId: 999_999_999 });
      expect(missing.json()).toEqual(
        (await admin.post(`/queues/${queue.id}/members`, { userId: otherTenantAgent.id })).json(),
      );
      expectStatus(await admin.post(`/queues/${queue.id}/members`, { userId: agents[1]!.id }), 201);
      const twice = await admin.post(`/queues/${queue.id}/members`, { userId: agents[1]!.id });
      expect(twice.statusCode).toBe(409);
      expect(twice.json().error.code).toBe('MEMBER_EXISTS');
    });

    it('replaces the whole membership with PUT', async () => {
      const { queue } = await newQueue('Bulk');
      await admin.post(`/queues/${queue.id}/members`, { userId: agents[0]!.id });
      const before = await admin.get(`/queues/${queue.id}/members`);
      const res = await admin.put(
        `/queues/${queue.id}/members`,
        {
          members: [
            { userId: agents[1]!.id, penalty: 0, skills: { spanish: 4 } },
            { userId: agents[2]!.id, penalty: 5 },
          ],
        },
        ifMatch(before),
      );
      const body = expectStatus(res, 200);
      expect(body.nextCursor).toBeNull();
      expect(
        body.items.map((m: { userId: number; penalty: number }) => [m.userId, m.penalty]),
      ).toEqual([
        [agents[1]!.id, 0],
        [agents[2]!.id, 5],
      ]);
      expect(res.headers.etag).toBe('"v3"');

      const emptied = await admin.put(`/queues/${queue.id}/members`, { members: [], version: 3 });
      expect(expectStatus(emptied, 200).items).toEqual([]);
    });

    it('changes nothing when one user of a bulk replace is invalid', async () => {
      const { queue } = await newQueue('Atomic');
      const first = await admin.put(
        `/queues/${queue.id}/members`,
        {
          members: [
            { userId: agents[0]!.id, penalty: 1 },
            { userId: agents[1]!.id, penalty: 2 },
          ],
        },
        { 'if-match': '"v1"' },
      );
      expectStatus(first, 200);
      const snapshot = await app.db
        .selectFrom('queueMembers')
        .select(['id', 'userId', 'penalty'])
        .where('queueId', '=', queue.id)
        .orderBy('id')
        .execute();

      const res = await admin.put(
        `/queues/${queue.id}/members`,
        {
          members: [
            { userId: agents[2]!.id, penalty: 0 },
            { userId: otherTenantAgent.id },
            { userId: agents[2]!.id },
            { userId: tenantAdminUser.id },
          ],
        },
        ifMatch(first),
      );
      expect(res.statusCode).toBe(400);
      expect(fields(res)).toEqual(['members.1.userId', 'members.2.userId', 'members.3.userId']);

      const after = await app.db
        .selectFrom('queueMembers')
        .select(['id', 'userId', 'penalty'])
        .where('queueId', '=', queue.id)
        .orderBy('id')
        .execute();
      expect(after).toEqual(snapshot);
      expect(expectStatus(await admin.get(`/queues/${queue.id}`), 200).version).toBe(2);
      const audits = await app.db
        .selectFrom('auditLog')
        .select('action')
        .where('entityType', '=', 'queue')
        .where('entityId', '=', String(queue.id))
        .orderBy('id')
        .execute();
      expect(audits.map((a) => a.action)).toEqual(['queue.create', 'queue.members.replace']);
    });

    it('lists members in cursor pages sorted by penalty', async () => {
      const { queue } = await newQueue('Paged');
      await admin.put(
        `/queues/${queue.id}/members`,
        {
          members: [
            { userId: agents[0]!.id, penalty: 3 },
            { userId: agents[1]!.id, penalty: 1 },
            { userId: agents[2]!.id, penalty: 2 },
          ],
        },
        { 'if-match': '"v1"' },
      );
      const page1 = expectStatus(
        await supervisor.get(`/queues/${queue.id}/members?sort=penalty&limit=2`),
        200,
      );
      const page2 = expectStatus(
        await supervisor.get(
          `/queues/${queue.id}/members?sort=penalty&limit=2&cursor=${page1.nextCursor}`,
        ),
        200,
      );
      expect([...page1.items, ...page2.items].map((m: { penalty: number }) => m.penalty)).toEqual([
        1, 2, 3,
      ]);
      expect(page2.nextCursor).toBeNull();
      const one = expectStatus(
        await supervisor.get(`/queues/${queue.id}/members?userId=${agents[2]!.id}`),
        200,
      );
      expect(one.items).toHaveLength(1);
    });
  });

  it('refuses to delete a queue that a DID, an IVR option and another queue route to', async () => {
    const { queue } = await newQueue('Busy');
    await admin.post(`/queues/${queue.id}/members`, { userId: agents[0]!.id });
    const number = freshNumber();
    const did = expectStatus(
      await admin.post('/dids', { number, target: { type: 'queue', id: queue.id } }),
      201,
    );
    const menu = expectStatus(
      await admin.post('/ivr-menus', {
        name: 'Busy menu',
        prompt: 'sound:hello-world',
        options: [{ digit: '1', target: { type: 'queue', id: queue.id } }],
      }),
      201,
    );
    const { queue: spill } = await newQueue('Busy spill', {
      overflowTarget: { type: 'queue', id: queue.id },
    });

    const current = await admin.get(`/queues/${queue.id}`);
    const res = await admin.del(`/queues/${queue.id}`, ifMatch(current));
    expect(res.statusCode).toBe(409);
    const error = res.json().error;
    expect(error.code).toBe('IN_USE');
    expect(error.message).toContain(number);
    expect(error.message).toContain('Busy menu');
    expect(error.message).toContain('Busy spill');
    expect(error.details.referencedBy).toEqual([
      { type: 'did', id: did.id, name: number, field: 'target' },
      { type: 'queue', id: spill.id, name: 'Busy spill', field: 'overflowTarget' },
      { type: 'ivr', id: menu.id, name: 'Busy menu', field: 'options[1]' },
    ]);
    expect((await admin.get(`/queues/${queue.id}`)).statusCode).toBe(200);

    await admin.del(`/dids/${did.id}`, { 'if-match': '"v1"' });
    await admin.del(`/ivr-menus/${menu.id}`, { 'if-match': '"v1"' });
    await admin.patch(`/queues/${spill.id}`, { overflowTarget: null }, { 'if-match': '"v1"' });
    expect((await admin.del(`/queues/${queue.id}`, ifMatch(current))).statusCode).toBe(204);
    const members = await app.db
      .selectFrom('queueMembers')
      .select('id')
      .where('queueId', '=', queue.id)
      .execute();
    expect(members).toEqual([]);
  });

  it('never leaves a DID routed to a queue deleted at the same moment', async () => {
    for (let round = 0; round < 8; round++) {
      const { res: created, queue } = await newQueue(`Race ${round}`);
      const [deleted, did] = await Promise.all([
        admin.del(`/queues/${queue.id}`, ifMatch(created)),
        admin.post('/dids', { number: freshNumber(), target: { type: 'queue', id: queue.id } }),
      ]);
      // One of the two wins; the loser is refused, never both accepted.
      const outcome = `${deleted.statusCode}/${did.statusCode}`;
      expect(['204/400', '409/201']).toContain(outcome);
      const dangling = await app.db
        .selectFrom('dids')
        .leftJoin('queues', 'queues.id', 'dids.targetId')
        .select('dids.id')
        .where('dids.targetType', '=', 'queue')
        .where('dids.tenantId', '=', tenant.id)
        .where('queues.id', 'is', null)
        .execute();
      expect(dangling).toEqual([]);
    }
  });

  it('lists queues with a name filter, strategy filter and sort', async () => {
    await newQueue('Sorted B', { strategy: 'ring_all' });
    await newQueue('Sorted A', { strategy: 'ring_all' });
    await newQueue('Sorted C', { strategy: 'fewest_calls' });
    const names = async (query: string) =>
      expectStatus(await supervisor.get(`/queues?${query}`), 200).items.map(
        (q: { name: string }) => q.name,
      );
    expect(await names('name=Sorted')).toEqual(['Sorted A', 'Sorted B', 'Sorted C']);
    expect(await names('name=Sorted&sort=-name')).toEqual(['Sorted C', 'Sorted B', 'Sorted A']);
    expect(await names('name=Sorted&strategy=ring_all&sort=createdAt')).toEqual([
      'Sorted B',
      'Sorted A',
    ]);
    expect((await supervisor.get('/queues?strategy=random')).statusCode).toBe(400);
  });

  it('lets supervisors read but not write, and agents do neither', async () => {
    const { queue } = await newQueue('Roles');
    expect((await supervisor.get(`/queues/${queue.id}/members`)).statusCode).toBe(200);
    expect((await supervisor.post('/queues', { name: 'Nope' })).statusCode).toBe(403);
    expect(
      (await supervisor.post(`/queues/${queue.id}/members`, { userId: agents[0]!.id })).statusCode,
    ).toBe(403);
    expect((await agentClient.get('/queues')).statusCode).toBe(403);
    expect((await agentClient.get(`/queues/${queue.id}/members`)).statusCode).toBe(403);
  });

  it('does not show or change queues or members of another tenant', async () => {
    const { res: created, queue } = await newQueue('Private');
    const v1 = ifMatch(created);
    expect((await otherAdmin.get(`/queues/${queue.id}`)).statusCode).toBe(404);
    expect(
      (await otherAdmin.patch(`/queues/${queue.id}`, { wrapupSeconds: 1 }, v1)).statusCode,
    ).toBe(404);
    expect((await otherAdmin.del(`/queues/${queue.id}`, v1)).statusCode).toBe(404);
    expect((await otherAdmin.get(`/queues/${queue.id}/members`)).statusCode).toBe(404);
    expect(
      (await otherAdmin.post(`/queues/${queue.id}/members`, { userId: otherTenantAgent.id }))
        .statusCode,
    ).toBe(404);
    expect(
      (await otherAdmin.put(`/queues/${queue.id}/members`, { members: [] }, v1)).statusCode,
    ).toBe(404);
    expect(
      (await otherAdmin.patch(`/queues/${queue.id}/members/${agents[0]!.id}`, { penalty: 1 }, v1))
        .statusCode,
    ).toBe(404);
    expect(
      (await otherAdmin.del(`/queues/${queue.id}/members/${agents[0]!.id}`, v1)).statusCode,
    ).toBe(404);
    expect(expectStatus(await admin.get(`/queues/${queue.id}`), 200).version).toBe(1);
  });
});
