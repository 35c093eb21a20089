/**
 * MySQL is the truth, Asterisk is cattle: on a dedicated Asterisk (and a database of its own, so
 * other files' endpoints do not blur the counts), endpoints come back by themselves after
 * Asterisk is killed and started, strays are removed, a reconnect leaves matching objects alone,
 * and a push that fails rolls the change back.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AriState } from '../../control/src/ari/events.ts';
import { createDatabase } from '../../control/src/db/database.ts';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../../control/src/db/migrate.ts';
import { EndpointService } from '../../control/src/modules/endpoints/service.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { killAsterisk, startAsterisk, stopAsterisk, testInstance } from '../support/asterisk.ts';
import { freshDatabaseUrl } from '../support/database.ts';
import { bearer, createTenant, createUser, tokenFor, type TestUser } from '../support/fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

const slot = testInstance('sync');
const spec = {
  ...slot,
  role: 'main' as const,
  ariUser: 'calldock',
  ariPassword: randomBytes(12).toString('hex'),
};

function waitForState(
  app: App,
  wanted: (s: AriState) => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  if (wanted(app.ari.state)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      app.ari.off('state', onState);
      reject(new Error(`ARI not ${what} within ${timeoutMs} ms (${app.ari.state})`));
    }, timeoutMs);
    const onState = (state: AriState) => {
      if (!wanted(state)) return;
      clearTimeout(timer);
      app.ari.off('state', onState);
      resolve();
    };
    app.ari.on('state', onState);
  });
}

/** Resolves once the connection is back and its on-connect hooks (the re-push) have run. */
const reconnected = (app: App) =>
  once(app.ari, 'connected', { signal: AbortSignal.timeout(20_000) });

describe('endpoints across Asterisk restarts', () => {
  stopAsterisk(slot.name);
  const instance = startAsterisk(spec);
  const peer = new AriPeer(instance, 'sync-test');
  const databaseUrl = freshDatabaseUrl(inject('mysqlServerUrl'), 'sync');
  let app: App;
  let admin: string;
  let users: TestUser[];
  const provisioned: Array<{ id: number; asteriskId: string; secret?: string }> = [];

  const api = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    headers: Record<string, string> = {},
  ) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { ...bearer(admin), ...headers },
      ...(payload ? { payload } : {}),
    });
  const asteriskIds = async () =>
    (await peer.request<Array<{ resource: string }>>('GET', '/endpoints')).map((e) => e.resource);
  const objectExists = (type: string, id: string) =>
    peer.request('GET', `/asterisk/config/dynamic/res_pjsip/${type}/${id}`).then(
      () => true,
      (err: unknown) => {
        if (/→ 404 /.test(String(err))) return false;
        throw err;
      },
    );
  const pushStray = async (id: string) => {
    const put = (type: string, fields: Array<{ attribute: string; value: string }>) =>
      peer.request('PUT', `/asterisk/config/dynamic/res_pjsip/${type}/${id}`, {}, { fields });
    await put('auth', [
      { attribute: 'auth_type', value: 'userpass' },
      { attribute: 'username', value: id },
      { attribute: 'password', value: 'stray-secret' },
    ]);
    await put('aor', [{ attribute: 'max_contacts', value: '1' }]);
    await put('endpoint', [
      { attribute: 'aors', value: id },
      { attribute: 'auth', value: id },
    ]);
  };

  beforeAll(async () => {
    await ensureDatabase(databaseUrl);
    const db = createDatabase(databaseUrl, { connectionLimit: 1 });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    app = await buildTestApp({
      resyncEndpointsOnConnect: true,
      databaseUrl,
      ari: {
        url: instance.ariUrl,
        user: spec.ariUser,
        password: spec.ariPassword,
        app: 'calldock',
      },
    });
    await app.ari.waitUntilConnected(15_000);
    const tenant = await createTenant(app.db, { maxAgents: 5 });
    admin = await tokenFor(app, await createUser(app.db, tenant.id, 'tenant_admin'));
    users = [];
    for (let i = 0; i < 5; i++) users.push(await createUser(app.db, tenant.id, 'agent'));
  });

  afterAll(async () => {
    await app?.close();
    stopAsterisk(slot.name);
    await dropDatabase(databaseUrl);
  });

  it('provisions three agents and two trunks through the API', async () => {
    for (const user of users.slice(0, 3)) {
      const res = await api('POST', '/endpoints/agents', { userId: user.id });
      expect(res.statusCode).toBe(201);
      provisioned.push(res.json());
    }
    const ip = await api('POST', '/endpoints/trunks', {
      name: 'By IP',
      auth: 'ip',
      host: '203.0.113.10',
      match: ['203.0.113.10', '203.0.113.64/26'],
    });
    const reg = await api('POST', '/endpoints/trunks', {
      name: 'Registering',
      auth: 'register',
      host: 'sip.carrier.example',
      username: 'acct',
      password: 'carrier-secret',
    });
    expect([ip.statusCode, reg.statusCode]).toEqual([201, 201]);
    provisioned.push(ip.json(), reg.json());
    expect(await asteriskIds()).toEqual(
      expect.arrayContaining(provisioned.map((p) => p.asteriskId)),
    );
  });

  it('leaves matching objects alone on a reconnect, and removes a stray Calldock endpoint', async () => {
    await pushStray('t999-agent-1');
    // Not Calldock's naming: never touched.
    await pushStray('static-desk-phone');
    const back = reconnected(app);
    await app.ari.stop();
    app.ari.start();
    await back;
    const ids = await asteriskIds();
    expect(ids).not.toContain('t999-agent-1');
    expect(await objectExists('auth', 't999-agent-1')).toBe(false);
    expect(ids).toContain('static-desk-phone');
    expect(ids).toEqual(expect.arrayContaining(provisioned.map((p) => p.asteriskId)));

    // What that re-push did, asked directly: nothing needed changing.
    const report = await new EndpointService(app.db, app.ari, app.log).resync();
    expect(report).toMatchObject({
      endpoints: 5,
      unchanged: 5,
      created: 0,
      updated: 0,
      removed: 0,
      failed: 0,
    });
  });

  it('undoes the steps already pushed and keeps no row when Asterisk refuses part of a create', async () => {
    const user = users[3]!;
    const asteriskId = `t${user.tenantId}-agent-${user.id}`;
    // An endpoint object already there under that id: Asterisk refuses to create it again,
    // after the auth and aor were pushed.
    await peer.request(
      'PUT',
      `/asterisk/config/dynamic/res_pjsip/endpoint/${asteriskId}`,
      {},
      {
        fields: [{ attribute: 'context', value: 'somewhere' }],
      },
    );
    const res = await api('POST', '/endpoints/agents', { userId: user.id });
    expect(res.statusCode).toBe(502);
    expect(res.json().error.code).toBe('ASTERISK_REJECTED');
    expect(
      await app.db.selectFrom('sipEndpoints').select('id').where('userId', '=', user.id).execute(),
    ).toEqual([]);
    expect(await objectExists('auth', asteriskId)).toBe(false);
    expect(await objectExists('aor', asteriskId)).toBe(false);
    expect(
      await app.db
        .selectFrom('auditLog')
        .select('id')
        .where('action', '=', 'endpoint.create')
        .execute(),
    ).toHaveLength(5);
  });

  it('pushes every endpoint again after Asterisk is killed and started, with no API call', async () => {
    killAsterisk(slot.name);
    await waitForState(app, (s) => s !== AriState.Connected, 10_000, 'down');
    const back = reconnected(app);
    startAsterisk(spec);
    await back;

    const ids = await asteriskIds();
    expect(ids).toEqual(expect.arrayContaining(provisioned.map((p) => p.asteriskId)));
    // The leftover of the refused create above is not in MySQL: not pushed back.
    expect(ids).not.toContain(`t${users[3]!.tenantId}-agent-${users[3]!.id}`);
    for (const agent of provisioned.slice(0, 3)) {
      const auth = await peer.request<Array<{ attribute: string; value: string }>>(
        'GET',
        `/asterisk/config/dynamic/res_pjsip/auth/${agent.asteriskId}`,
      );
      expect(auth.find((f) => f.attribute === 'password')?.value).toBe(agent.secret);
    }
    const [ipTrunk, regTrunk] = provisioned.slice(3);
    expect(await objectExists('identify', ipTrunk!.asteriskId)).toBe(true);
    expect(await objectExists('registration', regTrunk!.asteriskId)).toBe(true);
    const list = (await api('GET', '/endpoints?limit=10')).json();
    expect(
      list.items.map((e: { registration: { state: string } }) => e.registration.state),
    ).not.toContain('missing');
  });

  it('answers 503 and changes nothing while Asterisk is down; states read unknown', async () => {
    stopAsterisk(slot.name);
    await waitForState(app, (s) => s !== AriState.Connected, 10_000, 'down');
    const [agent] = provisioned;

    const created = await api('POST', '/endpoints/agents', { userId: users[4]!.id });
    expect(created.statusCode).toBe(503);
    expect(created.json().error).toMatchObject({
      code: 'ASTERISK_UNAVAILABLE',
      message: expect.stringContaining('nothing was changed'),
    });
    expect(
      await app.db
        .selectFrom('sipEndpoints')
        .select('id')
        .where('userId', '=', users[4]!.id)
        .execute(),
    ).toEqual([]);

    const changed = await api(
      'PATCH',
      `/endpoints/${agent!.id}`,
      { codecs: ['ulaw'] },
      { 'if-match': '"v1"' },
    );
    expect(changed.statusCode).toBe(503);
    const deleted = await api('DELETE', `/endpoints/${agent!.id}`, undefined, {
      'if-match': '"v1"',
    });
    expect(deleted.statusCode).toBe(503);
    const read = await api('GET', `/endpoints/${agent!.id}`);
    expect(read.json()).toMatchObject({
      version: 1,
      codecs: ['opus', 'ulaw'],
      registration: { state: 'unknown' },
    });
    expect((await api('GET', `/endpoints/${agent!.id}/status`)).json()).toMatchObject({
      state: 'unknown',
    });
  });
});
