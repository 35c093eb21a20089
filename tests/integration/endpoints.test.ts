/**
 * Agent endpoints and SIP trunks through the API, checked in the real Asterisk (main) and with
 * real SIP from the carrier instance: a REGISTER with the generated credentials, a call to the
 * agent, and a carrier call through an IP trunk into Stasis.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AriEvent, type StasisStartEvent } from '../../control/src/ari/events.ts';
import { fromJson } from '../../control/src/db/json.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { bearer, createTenant, createUser, tokenFor, type TestUser } from '../support/fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

/** Polls `probe` until it gives a value: for states Asterisk reaches on its own (registrations). */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ariGet<T>(peer: AriPeer, path: string): Promise<T | undefined> {
  try {
    return await peer.request<T>('GET', path);
  } catch (err) {
    if (/→ 404 /.test(String(err))) return undefined;
    throw err;
  }
}

type Field = { attribute: string; value: string };
const field = (fields: Field[] | undefined, name: string) =>
  fields?.find((f) => f.attribute === name)?.value;
const fieldsOf = (entries: Record<string, string>) =>
  Object.entries(entries).map(([attribute, value]) => ({ attribute, value }));

describe('SIP endpoints and trunks, live in Asterisk', () => {
  const main = new AriPeer(inject('asteriskMain'), 'endpoints-test');
  const carrierInstance = inject('asteriskCarrier');
  const mainSip = inject('asteriskMain').sipPort;
  let app: App;
  let tenantId: number;
  let admin: string;
  let supervisor: string;
  let agentToken: string;
  let otherAdmin: string;
  let agents: TestUser[];
  let otherTenantAgent: TestUser;

  const api = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    token: string,
    payload?: object,
    headers: Record<string, string> = {},
  ) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { ...bearer(token), ...headers },
      ...(payload ? { payload } : {}),
    });
  const ariEndpoint = (id: string) => ariGet<{ state: string }>(main, `/endpoints/PJSIP/${id}`);
  const ariObject = (type: string, id: string) =>
    ariGet<Field[]>(main, `/asterisk/config/dynamic/res_pjsip/${type}/${id}`);

  beforeAll(async () => {
    // This file places calls through the test PBX: it takes the calldock app (and its lock).
    app = await buildTestApp({}, { telephony: true });
    await app.ari.waitUntilConnected(15_000);
    const tenant = await createTenant(app.db, { maxAgents: 10 });
    tenantId = tenant.id;
    admin = await tokenFor(app, await createUser(app.db, tenantId, 'tenant_admin'));
    supervisor = await tokenFor(app, await createUser(app.db, tenantId, 'supervisor'));
    agents = [];
    for (let i = 0; i < 6; i++) {
      agents.push(
        await createUser(app.db, tenantId, 'agent', {
          displayName: `Agent "${i}"`,
          extension: `10${i}`,
        }),
      );
    }
    agentToken = await tokenFor(app, agents[0]!);
    const other = await createTenant(app.db);
    otherAdmin = await tokenFor(app, await createUser(app.db, other.id, 'tenant_admin'));
    otherTenantAgent = await createUser(app.db, other.id, 'agent');
  });

  afterAll(async () => {
    await app?.close();
  });

  it('creates an agent endpoint that Asterisk holds when the response arrives, showing the secret once', async () => {
    const user = agents[0]!;
    const res = await api('POST', '/endpoints/agents', admin, { userId: user.id });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    const asteriskId = `t${tenantId}-agent-${user.id}`;
    expect(created).toMatchObject({
      kind: 'agent',
      asteriskId,
      sipUsername: asteriskId,
      userId: user.id,
      transport: 'webrtc',
      hasSecret: true,
      enabled: true,
      codecs: ['opus', 'ulaw'],
      registration: { state: 'offline', channels: 0 },
    });
    expect(created.secret).toMatch(/^[A-Za-z0-9_-]{24,}$/);
    expect(res.headers.etag).toBe('"v1"');

    // Asterisk's own view, asked directly (not through the control plane).
    const listed = await main.request<Array<{ resource: string }>>('GET', '/endpoints');
    expect(listed.map((e) => e.resource)).toContain(asteriskId);
    const auth = await ariObject('auth', asteriskId);
    expect(field(auth, 'username')).toBe(asteriskId);
    expect(field(auth, 'password')).toBe(created.secret);
    const endpoint = await ariObject('endpoint', asteriskId);
    expect(field(endpoint, 'transport')).toBe('transport-ws');
    expect(field(endpoint, 'context')).toBe('from-webrtc');
    expect(field(endpoint, 'webrtc')).toBe('yes');
    expect(field(endpoint, 'media_encryption')).toBe('dtls');
    expect(field(endpoint, 'allow')).toBe('(opus|ulaw)');
    expect(field(endpoint, 'callerid')).toBe('"Agent 0" <100>');
    const aor = await ariObject('aor', asteriskId);
    expect(field(aor, 'max_contacts')).toBe('1');
    expect(field(aor, 'remove_existing')).toBe('true');

    for (const read of [
      await api('GET', `/endpoints/${created.id}`, supervisor),
      await api('GET', `/endpoints?kind=agent`, supervisor),
    ]) {
      expect(read.statusCode).toBe(200);
      expect(read.body).not.toContain(created.secret);
      expect(read.body).not.toContain('"secret"');
    }
    expect((await api('GET', `/endpoints/${created.id}`, supervisor)).json()).toMatchObject({
      hasSecret: true,
    });

    const [row] = await app.db
      .selectFrom('auditLog')
      .selectAll()
      .where('entityType', '=', 'sip_endpoint')
      .where('entityId', '=', String(created.id))
      .execute();
    expect(row).toMatchObject({ action: 'endpoint.create', tenantId });
    expect(JSON.stringify(fromJson(row!.afterData, {}))).not.toContain(created.secret);
  });

  it('accepts a REGISTER with the generated credentials and rings the agent there', async () => {
    const user = agents[1]!;
    const created = (
      await api('POST', '/endpoints/agents', admin, { userId: user.id, transport: 'udp' })
    ).json();
    expect(created).toMatchObject({ transport: 'udp', codecs: ['ulaw', 'alaw'] });
    const id = created.asteriskId as string;

    // The carrier plays the agent's desk phone: it registers to main with the credentials.
    const carrier = new AriPeer(carrierInstance, 'endpoints-test');
    const reg = `phone-${id}`;
    const carrierPut = (type: string, fields: Record<string, string>) =>
      carrier.request(
        'PUT',
        `/asterisk/config/dynamic/res_pjsip/${type}/${reg}`,
        {},
        { fields: fieldsOf(fields) },
      );
    await carrierPut('auth', { auth_type: 'userpass', username: id, password: created.secret });
    await carrierPut('registration', {
      transport: 'transport-udp',
      server_uri: `sip:127.0.0.1:${mainSip}`,
      client_uri: `sip:${id}@127.0.0.1:${mainSip}`,
      contact_user: id,
      outbound_auth: reg,
      retry_interval: '5',
      max_random_initial_delay: '0',
    });
    let channelId: string | undefined;
    try {
      const status = await until('the phone to register', async () => {
        const res = await api('GET', `/endpoints/${created.id}/status`, supervisor);
        return res.json().state === 'online' && res.json();
      });
      expect(status).toMatchObject({
        id: created.id,
        asteriskId: id,
        state: 'online',
        channels: 0,
      });

      // Asterisk can now call the agent: the INVITE reaches the phone, dialling the agent's id.
      app.stasis.setHandler(async () => {});
      const channel = await main.request<{ id: string }>('POST', '/channels', {
        endpoint: `PJSIP/${id}`,
        app: 'calldock',
        timeout: '10',
      });
      channelId = channel.id;
      await until('the phone to ring', async () => {
        const ringing = await carrier.request<Array<{ dialplan: { exten: string } }>>(
          'GET',
          '/channels',
        );
        return ringing.some((c) => c.dialplan.exten === id);
      });
      const tenant = await main.request<{ value: string }>(
        'GET',
        `/channels/${channelId}/variable`,
        {
          variable: 'CALLDOCK_TENANT',
        },
      );
      expect(tenant.value).toBe(String(tenantId));
      const userVar = await main.request<{ value: string }>(
        'GET',
        `/channels/${channelId}/variable`,
        {
          variable: 'CALLDOCK_USER',
        },
      );
      expect(userVar.value).toBe(String(user.id));
    } finally {
      if (channelId) await main.request('DELETE', `/channels/${channelId}`).catch(() => {});
      await carrier
        .request('DELETE', `/asterisk/config/dynamic/res_pjsip/registration/${reg}`)
        .catch(() => {});
      await carrier
        .request('DELETE', `/asterisk/config/dynamic/res_pjsip/auth/${reg}`)
        .catch(() => {});
    }
  });

  it('pushes a change, a disable and a re-enable before answering', async () => {
    const created = (
      await api('POST', '/endpoints/agents', admin, { userId: agents[2]!.id })
    ).json();
    const id = created.asteriskId as string;

    const noMatch = await api('PATCH', `/endpoints/${created.id}`, admin, { codecs: ['ulaw'] });
    expect(noMatch.statusCode).toBe(428);
    const changed = await api(
      'PATCH',
      `/endpoints/${created.id}`,
      admin,
      { codecs: ['ulaw'] },
      { 'if-match': '"v1"' },
    );
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).toBe('"v2"');
    expect(field(await ariObject('endpoint', id), 'allow')).toBe('(ulaw)');
    const stale = await api(
      'PATCH',
      `/endpoints/${created.id}`,
      admin,
      { codecs: ['opus'] },
      { 'if-match': '"v1"' },
    );
    expect(stale.statusCode).toBe(412);

    const disabled = await api('PATCH', `/endpoints/${created.id}`, admin, {
      enabled: false,
      version: 2,
    });
    expect(disabled.json()).toMatchObject({ enabled: false, registration: { state: 'disabled' } });
    expect(await ariEndpoint(id)).toBeUndefined();
    expect(await ariObject('auth', id)).toBeUndefined();

    const enabled = await api('PATCH', `/endpoints/${created.id}`, admin, {
      enabled: true,
      version: 3,
    });
    expect(enabled.json()).toMatchObject({ enabled: true, registration: { state: 'offline' } });
    expect(field(await ariObject('auth', id), 'password')).toBe(created.secret);
    expect(field(await ariObject('endpoint', id), 'allow')).toBe('(ulaw)');
  });

  it('rotates the secret: the new one is shown once and is what Asterisk checks', async () => {
    const created = (
      await api('POST', '/endpoints/agents', admin, { userId: agents[3]!.id })
    ).json();
    const rotated = await api('POST', `/endpoints/${created.id}/rotate-secret`, admin);
    expect(rotated.statusCode).toBe(200);
    const { secret } = rotated.json();
    expect(secret).not.toBe(created.secret);
    expect(field(await ariObject('auth', created.asteriskId), 'password')).toBe(secret);
    expect((await api('GET', `/endpoints/${created.id}`, admin)).body).not.toContain(secret);
  });

  it('deletes an endpoint from Asterisk before answering', async () => {
    const created = (
      await api('POST', '/endpoints/agents', admin, { userId: agents[4]!.id })
    ).json();
    const id = created.asteriskId as string;
    expect(await ariEndpoint(id)).toBeDefined();
    const res = await api('DELETE', `/endpoints/${created.id}`, admin, undefined, {
      'if-match': '"v1"',
    });
    expect(res.statusCode).toBe(204);
    expect(await ariEndpoint(id)).toBeUndefined();
    for (const type of ['auth', 'aor', 'endpoint'])
      expect(await ariObject(type, id)).toBeUndefined();
    expect((await api('GET', `/endpoints/${created.id}`, admin)).statusCode).toBe(404);
  });

  it('takes a carrier call through an IP trunk into Stasis as that trunk, and calls out through it', async () => {
    const carrierSip = carrierInstance.sipPort;
    // An application of this file's own: the shared name `carrier` may be taken by another file.
    const carrierApp = `endpoints-test-${randomBytes(3).toString('hex')}`;
    const carrier = new AriPeer(carrierInstance, carrierApp);
    let trunkId: number | undefined;
    const channels: Array<[AriPeer, string]> = [];
    try {
      const res = await api('POST', '/endpoints/trunks', admin, {
        name: 'Test carrier',
        auth: 'ip',
        host: '127.0.0.1',
        port: carrierSip,
        match: [`127.0.0.1:${carrierSip}`],
        callerIdPolicy: 'did',
      });
      expect(res.statusCode).toBe(201);
      const trunk = res.json();
      trunkId = trunk.id;
      expect(trunk).toMatchObject({
        kind: 'trunk',
        asteriskId: `t${tenantId}-trunk-${trunk.id}`,
        auth: 'ip',
        match: [`127.0.0.1:${carrierSip}`],
        hasSecret: false,
      });
      const identify = await ariObject('identify', trunk.asteriskId);
      expect(field(identify, 'endpoint')).toBe(trunk.asteriskId);
      expect(field(identify, 'match')).toBe(`127.0.0.1:${carrierSip}/255.255.255.255`);

      // Asterisk holds it; online once its first qualify (at a random moment within 30 s) is answered.
      const status = (await api('GET', `/endpoints/${trunk.id}/status`, admin)).json();
      expect(['online', 'offline']).toContain(status.state);

      app.stasis.setHandler(async () => {});
      const did = `+1555${String(Date.now() % 10_000_000).padStart(7, '0')}`;
      const arrived = new Promise<StasisStartEvent>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no StasisStart within 10 s')), 10_000);
        const onStart = (event: StasisStartEvent) => {
          if (event.args[1] !== did) return;
          clearTimeout(timer);
          app.ari.off(AriEvent.StasisStart, onStart);
          resolve(event);
        };
        app.ari.on(AriEvent.StasisStart, onStart);
      });
      await carrier.connect();
      const outbound = await carrier.request<{ id: string }>('POST', '/channels', {
        endpoint: `PJSIP/${did}@calldock`,
        app: carrierApp,
        callerId: '"Carol" <+442071234567>',
        timeout: '10',
      });
      channels.push([carrier, outbound.id]);
      const event = await arrived;
      channels.push([main, event.channel.id]);
      expect(event.args).toEqual(['trunk', did]);
      expect(event.channel.name).toMatch(new RegExp(`^PJSIP/t${tenantId}-trunk-${trunk.id}-`));
      expect(event.channel.dialplan.context).toBe('from-trunk');
      const tenant = await main.request<{ value: string }>(
        'GET',
        `/channels/${event.channel.id}/variable`,
        {
          variable: 'CALLDOCK_TENANT',
        },
      );
      expect(tenant.value).toBe(String(tenantId));

      // Out through the trunk: the carrier sees the number dialled.
      const out = await main.request<{ id: string }>('POST', '/channels', {
        endpoint: `PJSIP/+15557654321@${trunk.asteriskId}`,
        app: 'calldock',
        timeout: '10',
      });
      channels.push([main, out.id]);
      await until('the outbound call at the carrier', async () => {
        const list = await carrier.request<Array<{ dialplan: { exten: string } }>>(
          'GET',
          '/channels',
        );
        return list.some((c) => c.dialplan.exten === '+15557654321');
      });
    } finally {
      for (const [peer, id] of channels)
        await peer.request('DELETE', `/channels/${id}`).catch(() => {});
      carrier.close();
      if (trunkId) {
        const current = await api('GET', `/endpoints/${trunkId}`, admin);
        await api('DELETE', `/endpoints/${trunkId}`, admin, undefined, {
          'if-match': current.headers.etag as string,
        });
      }
    }
  });

  it('pushes a register trunk as auth, aor, endpoint and an outbound registration', async () => {
    const res = await api('POST', '/endpoints/trunks', admin, {
      name: 'Registering carrier',
      auth: 'register',
      host: '192.0.2.50',
      port: 5062,
      username: 'acct-42',
      password: 'carrier-password',
      callerIdPolicy: 'fixed',
      callerIdNumber: '+15551230000',
    });
    expect(res.statusCode).toBe(201);
    const trunk = res.json();
    expect(trunk).toMatchObject({
      auth: 'register',
      sipUsername: 'acct-42',
      hasSecret: true,
      match: [],
    });
    expect(res.body).not.toContain('carrier-password');
    const id = trunk.asteriskId as string;
    const registration = await ariObject('registration', id);
    expect(field(registration, 'server_uri')).toBe('sip:192.0.2.50:5062');
    expect(field(registration, 'client_uri')).toBe('sip:acct-42@192.0.2.50:5062');
    expect(field(registration, 'outbound_auth')).toBe(id);
    expect(field(registration, 'line')).toBe('true');
    expect(field(registration, 'endpoint')).toBe(id);
    expect(field(await ariObject('auth', id), 'password')).toBe('carrier-password');
    expect(field(await ariObject('endpoint', id), 'outbound_auth')).toBe(id);
    expect(field(await ariObject('endpoint', id), 'callerid')).toBe('+15551230000');
    expect(await ariObject('identify', id)).toBeUndefined();

    const removed = await api('DELETE', `/endpoints/${trunk.id}`, admin, undefined, {
      'if-match': '"v1"',
    });
    expect(removed.statusCode).toBe(204);
    expect(await ariObject('registration', id)).toBeUndefined();
  });

  it('refuses a trunk whose addresses overlap another tenant’s trunk, naming match', async () => {
    const first = await api('POST', '/endpoints/trunks', admin, {
      name: 'A',
      auth: 'ip',
      host: '198.51.100.1',
      match: ['198.51.100.0/28'],
    });
    expect(first.statusCode).toBe(201);
    const clash = await api('POST', '/endpoints/trunks', otherAdmin, {
      name: 'B',
      auth: 'ip',
      host: '198.51.100.9',
      match: ['198.51.100.9'],
    });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error).toMatchObject({
      code: 'MATCH_CONFLICT',
      details: [{ field: 'match' }],
    });
    expect(clash.body).not.toContain(first.json().asteriskId);
    const apart = await api('POST', '/endpoints/trunks', otherAdmin, {
      name: 'B',
      auth: 'ip',
      host: '198.51.100.17',
      match: ['198.51.100.16/28'],
    });
    expect(apart.statusCode).toBe(201);
  });

  it('enforces the tenant’s maxAgents with 409 LIMIT_REACHED', async () => {
    const small = await createTenant(app.db, { maxAgents: 1 });
    const smallAdmin = await tokenFor(app, await createUser(app.db, small.id, 'tenant_admin'));
    const a = await createUser(app.db, small.id, 'agent');
    const b = await createUser(app.db, small.id, 'agent');
    expect((await api('POST', '/endpoints/agents', smallAdmin, { userId: a.id })).statusCode).toBe(
      201,
    );
    const over = await api('POST', '/endpoints/agents', smallAdmin, { userId: b.id });
    expect(over.statusCode).toBe(409);
    expect(over.json().error.code).toBe('LIMIT_REACHED');
    expect(await ariEndpoint(`t${small.id}-agent-${b.id}`)).toBeUndefined();
  });

  it('refuses a second endpoint for a user, a user of another tenant and a user who takes no calls', async () => {
    const twice = await api('POST', '/endpoints/agents', admin, { userId: agents[0]!.id });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error).toMatchObject({
      code: 'ENDPOINT_EXISTS',
      details: [{ field: 'userId' }],
    });
    expect(
      (await api('POST', '/endpoints/agents', admin, { userId: otherTenantAgent.id })).statusCode,
    ).toBe(404);
    const anAdmin = await createUser(app.db, tenantId, 'tenant_admin');
    const notAgent = await api('POST', '/endpoints/agents', admin, { userId: anAdmin.id });
    expect(notAgent.statusCode).toBe(400);
    expect(notAgent.json().error.details).toEqual([expect.objectContaining({ field: 'userId' })]);
  });

  it('does not let another tenant read or change an endpoint', async () => {
    const created = (
      await api('POST', '/endpoints/agents', admin, { userId: agents[5]!.id })
    ).json();
    const ifMatch = { 'if-match': '"v1"' };
    const tries = [
      await api('GET', `/endpoints/${created.id}`, otherAdmin),
      await api('GET', `/endpoints/${created.id}/status`, otherAdmin),
      await api('PATCH', `/endpoints/${created.id}`, otherAdmin, { enabled: false }, ifMatch),
      await api('POST', `/endpoints/${created.id}/rotate-secret`, otherAdmin),
      await api('DELETE', `/endpoints/${created.id}`, otherAdmin, undefined, ifMatch),
    ];
    for (const res of tries) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('ENDPOINT_NOT_FOUND');
    }
    const theirs = (await api('GET', '/endpoints?limit=200', otherAdmin)).json();
    expect(theirs.items.map((e: { id: number }) => e.id)).not.toContain(created.id);
    expect(await ariEndpoint(created.asteriskId)).toBeDefined();
  });

  it('lets only tenant admins change endpoints and supervisors read them', async () => {
    expect((await api('GET', '/endpoints', agentToken)).statusCode).toBe(403);
    expect((await api('GET', '/endpoints', supervisor)).statusCode).toBe(200);
    expect(
      (await api('POST', '/endpoints/agents', supervisor, { userId: agents[1]!.id })).statusCode,
    ).toBe(403);
    expect(
      (
        await api('POST', '/endpoints/trunks', agentToken, {
          name: 'x',
          auth: 'ip',
          host: 'h',
          match: ['192.0.2.1'],
        })
      ).statusCode,
    ).toBe(403);
  });

  it('answers bad input with 400 naming the fields', async () => {
    const unknown = await api('POST', '/endpoints/agents', admin, {
      userId: 'seven',
      secret: 'mine',
    });
    expect(unknown.statusCode).toBe(400);
    expect(
      unknown
        .json()
        .error.details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(['secret', 'userId']);

    const schema = await api('POST', '/endpoints/trunks', admin, {
      name: '',
      auth: 'sometimes',
      host: 'bad host!',
      codecs: ['speex'],
    });
    expect(schema.statusCode).toBe(400);
    const fields = schema.json().error.details.map((d: { field: string }) => d.field);
    for (const f of ['name', 'auth', 'host']) expect(fields).toContain(f);
    expect(fields.some((f: string) => f.startsWith('codecs'))).toBe(true);

    const badMatch = await api('POST', '/endpoints/trunks', admin, {
      name: 'x',
      auth: 'ip',
      host: '192.0.2.1',
      match: ['192.0.2.1', 'carrier.example'],
    });
    expect(badMatch.statusCode).toBe(400);
    expect(badMatch.json().error.details).toEqual([expect.objectContaining({ field: 'match.1' })]);

    const incomplete = await api('POST', '/endpoints/trunks', admin, {
      name: 'x',
      auth: 'register',
      host: 'sip.carrier.example',
      callerIdPolicy: 'fixed',
    });
    expect(incomplete.statusCode).toBe(400);
    expect(
      incomplete
        .json()
        .error.details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(['callerIdNumber', 'password', 'username']);

    const webrtcContact = await api('POST', '/endpoints/agents', admin, {
      userId: agents[5]!.id,
      contact: 'sip:x@192.0.2.1:5060',
    });
    expect(webrtcContact.statusCode).toBe(400);
    expect(webrtcContact.json().error.details).toEqual([
      expect.objectContaining({ field: 'contact' }),
    ]);
  });

  it('lists with filters, sort and a cursor', async () => {
    const first = (await api('GET', '/endpoints?kind=agent&limit=2&sort=-id', supervisor)).json();
    expect(first.items).toHaveLength(2);
    expect(first.items[0].id).toBeGreaterThan(first.items[1].id);
    expect(first.items.every((e: { kind: string }) => e.kind === 'agent')).toBe(true);
    const next = (
      await api(
        'GET',
        `/endpoints?kind=agent&limit=2&sort=-id&cursor=${first.nextCursor}`,
        supervisor,
      )
    ).json();
    expect(next.items[0].id).toBeLessThan(first.items[1].id);
    const byName = (
      await api(
        'GET',
        `/endpoints?q=${encodeURIComponent(`t${tenantId}-agent-${agents[0]!.id}`)}`,
        supervisor,
      )
    ).json();
    expect(byName.items.map((e: { userId: number }) => e.userId)).toEqual([agents[0]!.id]);
    const disabled = (await api('GET', '/endpoints?enabled=false', supervisor)).json();
    expect(disabled.items.every((e: { enabled: boolean }) => !e.enabled)).toBe(true);
  });

  it('creates nothing twice for a retried POST with the same Idempotency-Key', async () => {
    const user = await createUser(app.db, tenantId, 'helpdesk');
    const headers = { 'idempotency-key': `ep-${randomBytes(6).toString('hex')}` };
    const first = await api('POST', '/endpoints/agents', admin, { userId: user.id }, headers);
    const again = await api('POST', '/endpoints/agents', admin, { userId: user.id }, headers);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);
    const rows = await app.db
      .selectFrom('sipEndpoints')
      .select('id')
      .where('userId', '=', user.id)
      .execute();
    expect(rows).toHaveLength(1);
  });
});
