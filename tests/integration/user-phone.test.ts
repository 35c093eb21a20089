/**
 * A user's changes reach their phone (agent endpoint) in the real Asterisk: disabling takes it
 * out when the response arrives, enabling puts it back, a new name is a new caller ID; and a
 * user that calls are still routed to cannot be disabled.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { createTenant, createUser, tokenFor, type TestUser } from '../support/fixtures.ts';
import { client, expectStatus, freshNumber, ifMatch, type Client } from '../support/routing-api.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;
type Field = { attribute: string; value: string };

describe("a user's phone in Asterisk", () => {
  const main = new AriPeer(inject('asteriskMain'), 'user-phone-test');
  let app: App;
  let tenantId: number;
  let admin: Client;

  /** The PJSIP objects Asterisk holds under `id` (an absent type is left out). */
  async function held(id: string): Promise<Record<string, Field[]>> {
    const objects: Record<string, Field[]> = {};
    for (const type of ['auth', 'aor', 'endpoint']) {
      try {
        objects[type] = await main.request<Field[]>(
          'GET',
          `/asterisk/config/dynamic/res_pjsip/${type}/${id}`,
        );
      } catch (err) {
        if (!/→ 404 /.test(String(err))) throw err;
      }
    }
    return objects;
  }
  const callerId = async (id: string) =>
    (await held(id)).endpoint?.find((f) => f.attribute === 'callerid')?.value;

  /** An agent with a phone made through the API; answers the user and the phone's Asterisk id. */
  async function agentWithPhone(): Promise<{ user: TestUser; asteriskId: string }> {
    const user = await createUser(app.db, tenantId, 'agent', { displayName: 'Pat Phone' });
    const created = expectStatus(await admin.post('/endpoints/agents', { userId: user.id }), 201);
    expect(Object.keys(await held(created.asteriskId)).sort()).toEqual(['aor', 'auth', 'endpoint']);
    return { user, asteriskId: created.asteriskId };
  }

  const readUser = (id: number) => admin.get(`/users/${id}`);

  beforeAll(async () => {
    // Its phones come back through the resync on reconnect: it owns the test PBX meanwhile.
    app = await buildTestApp({}, { telephony: true });
    await app.ari.waitUntilConnected(15_000);
    tenantId = (await createTenant(app.db, { maxAgents: 20 })).id;
    admin = client(app, await tokenFor(app, await createUser(app.db, tenantId, 'tenant_admin')));
  });

  afterAll(async () => {
    await app?.close();
  });

  it('removes a disabled user’s phone from Asterisk at once and brings it back on enabling', async () => {
    const { user, asteriskId } = await agentWithPhone();

    const disabled = await admin.del(`/users/${user.id}`, ifMatch(await readUser(user.id)));
    expect(expectStatus(disabled, 200).status).toBe('disabled');
    expect(await held(asteriskId)).toEqual({});
    // The endpoint is kept (re-enabling brings it back as it was) and reads as disabled.
    const endpoint = (await admin.get('/endpoints?kind=agent'))
      .json()
      .items.find((e: { userId: number }) => e.userId === user.id);
    expect(endpoint).toMatchObject({ enabled: true, registration: { state: 'disabled' } });

    // A re-push (what every ARI reconnect runs) leaves it out too.
    await app.endpoints.resync();
    expect(await held(asteriskId)).toEqual({});

    const enabled = await admin.patch(
      `/users/${user.id}`,
      { status: 'active' },
      ifMatch(await readUser(user.id)),
    );
    expectStatus(enabled, 200);
    expect(Object.keys(await held(asteriskId)).sort()).toEqual(['aor', 'auth', 'endpoint']);
  });

  it('gives the phone the new caller ID when the user is renamed or renumbered', async () => {
    const { user, asteriskId } = await agentWithPhone();
    // Asterisk prints a caller ID without a number bare.
    expect(await callerId(asteriskId)).toBe('Pat Phone');
    const res = await admin.patch(
      `/users/${user.id}`,
      { displayName: 'Robin Renamed', extension: '4321' },
      ifMatch(await readUser(user.id)),
    );
    expectStatus(res, 200);
    expect(await callerId(asteriskId)).toBe('"Robin Renamed" <4321>');
  });

  it('disables the user while ARI is down and removes the phone when it is back', async () => {
    const { user, asteriskId } = await agentWithPhone();
    const etag = ifMatch(await readUser(user.id));
    await app.ari.stop();
    try {
      const res = await admin.del(`/users/${user.id}`, etag);
      expect(expectStatus(res, 200).status).toBe('disabled');
      // Asterisk still holds it: nobody could tell it yet.
      expect(Object.keys(await held(asteriskId))).toHaveLength(3);
    } finally {
      app.ari.start();
    }
    // `connected` is emitted after the reconnect's re-push has run.
    await app.ari.waitUntilConnected(15_000);
    expect(await held(asteriskId)).toEqual({});
  });

  it('refuses to disable a user calls are routed to, naming the routes, and changes nothing', async () => {
    const { user, asteriskId } = await agentWithPhone();
    const number = freshNumber('+4420');
    expectStatus(await admin.post('/dids', { number, target: { type: 'user', id: user.id } }), 201);
    const menu = expectStatus(
      await admin.post('/ivr-menus', {
        name: 'Front desk',
        prompt: 'sound:hello-world',
        options: [{ digit: '1', target: { type: 'voicemail', id: user.id } }],
      }),
      201,
    );
    const before = await readUser(user.id);

    const res = await admin.del(`/users/${user.id}`, ifMatch(before));
    expect(res.statusCode).toBe(409);
    const error = res.json().error;
    expect(error.code).toBe('IN_USE');
    expect(error.message).toContain(number);
    expect(error.message).toContain('Front desk');
    expect(error.details.referencedBy).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'did', name: number, field: 'target' }),
        expect.objectContaining({ type: 'ivr', id: menu.id, field: 'options[1]' }),
      ]),
    );
    const patched = await admin.patch(`/users/${user.id}`, { status: 'disabled' }, ifMatch(before));
    expect(patched.json().error.code).toBe('IN_USE');

    const after = await readUser(user.id);
    expect(after.json()).toMatchObject({ status: 'active', version: before.json().version });
    expect(Object.keys(await held(asteriskId))).toHaveLength(3);
  });
});
