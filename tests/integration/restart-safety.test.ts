/**
 * The control plane killed (SIGKILL) during answered calls: the parties keep talking (media never
 * passes through Node), the restarted control plane re-attaches to the call, and the CDR comes
 * out complete; a call that ended while it was down is closed, never left open.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { callDid, ensureTestTrunk } from '../support/carrier.ts';
import { startControl, type ControlProcess } from '../support/control-process.ts';
import { createTenant, createUser, TEST_PASSWORD } from '../support/fixtures.ts';
import { Phones, createAgent, createDid, createQueue } from '../support/telephony-fixtures.ts';
import { lockTelephony } from '../support/telephony-lock.ts';

describe('control plane killed during live calls', { timeout: 90_000 }, () => {
  const db = createDatabase(inject('databaseUrl'), { connectionLimit: 2 });
  const port = 41_000 + Math.floor(Math.random() * 900);
  // The same outbox across the kill and the restart, as on a real machine.
  const outbox = { CDR_OUTBOX_FILE: path.join(tmpdir(), `calldock-outbox-${port}-${Date.now()}.jsonl`) };
  let unlock: () => Promise<void>;
  let carrier: AriPeer;
  let main: AriPeer;
  let phones: Phones;
  let control: ControlProcess | undefined;
  let tenantId: number;
  let supervisorEmail: string;

  beforeAll(async () => {
    unlock = await lockTelephony();
    carrier = new AriPeer(inject('asteriskCarrier'), 'carrier');
    await carrier.connect();
    main = new AriPeer(inject('asteriskMain'), 'unused');
    await ensureTestTrunk(main);
    phones = new Phones(carrier);
    tenantId = (await createTenant(db)).id;
    supervisorEmail = (await createUser(db, tenantId, 'supervisor')).email;
  });

  afterAll(async () => {
    await control?.kill();
    carrier?.close();
    await unlock?.();
    await db.destroy();
  });

  async function api(method: string, path: string, body?: unknown) {
    const login = await fetch(`${control!.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: supervisorEmail, password: TEST_PASSWORD }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const res = await fetch(`${control!.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${accessToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async function row(did: string) {
    return db.selectFrom('calls').selectAll().where('toNumber', '=', did).executeTakeFirst();
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async function answeredCall() {
    const agent = await createAgent(db, main, inject('asteriskCarrier').sipPort, tenantId);
    const queueId = await createQueue(db, tenantId, { members: [{ userId: agent.id }] });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    expect((await api('PUT', `/agents/${agent.id}/state`, { status: 'available' })).status).toBe(200);
    const outside = await callDid(carrier, did);
    const ring = await phones.ringing(agent.phone);
    await phones.answer(ring);
    const answered = await until('the answered CDR', async () => {
      const r = await row(did);
      return r?.state === 'answered' ? r : undefined;
    });
    return { agent, did, outside, ring, linkedid: answered.linkedid };
  }

  it('keeps the call up through the kill, re-attaches after restart and completes the CDR', async () => {
    control = await startControl(port, outbox);
    const { agent, did, outside, ring, linkedid } = await answeredCall();

    await control.kill('SIGKILL');
    // Media and the bridge live in Asterisk: both parties are still connected.
    await new Promise((r) => setTimeout(r, 1_000));
    const bridges = await main.request<Array<{ name: string; channels: string[] }>>('GET', '/bridges');
    const bridge = bridges.find((b) => b.name === `call-${linkedid}`);
    expect(bridge?.channels).toHaveLength(2);
    const carrierChannels = (await carrier.request<Array<{ id: string; state: string }>>('GET', '/channels')).map((c) => c.id);
    expect(carrierChannels).toEqual(expect.arrayContaining([outside, ring]));

    control = await startControl(port, outbox);
    const live = await until('the call to be re-attached', async () => {
      const res = await api('GET', '/live-calls');
      const items = res.body.items as Array<{ callId: string; status: string; agentUserId: number }>;
      return items.find((c) => c.callId === linkedid);
    });
    expect(live).toMatchObject({ status: 'connected', agentUserId: agent.id });
    const agents = (await api('GET', '/agents')).body.items as Array<{ userId: number; status: string }>;
    expect(agents.find((a) => a.userId === agent.id)?.status).toBe('on_call');

    await phones.hangup(outside);
    await phones.ended(ring);
    const done = await until('the CDR to close', async () => {
      const r = await row(did);
      return r?.state === 'ended' ? r : undefined;
    });
    expect(done).toMatchObject({ hangupSide: 'caller', agentUserId: agent.id });
    expect(done.talkMs).toBeGreaterThanOrEqual(1_000);
    // The row is updated before its event is written: wait for the event too.
    const events = await until('the ended event', async () => {
      const list = await db.selectFrom('callEvents').select('type').where('callId', '=', done.id).orderBy('seq').execute();
      return list.some((e) => e.type === 'ended') ? list : undefined;
    });
    expect(events.map((e) => e.type)).toEqual(['created', 'queued', 'offered', 'answered', 'reattached', 'ended']);
  });

  it('closes the CDR of a call that ended while the control plane was down', async () => {
    control ??= await startControl(port, outbox);
    const { agent, did, outside } = await answeredCall();
    await control.kill('SIGKILL');
    await phones.hangup(outside);
    await new Promise((r) => setTimeout(r, 500));

    control = await startControl(port, outbox);
    const closed = await until('the CDR to be closed', async () => {
      const r = await row(did);
      return r?.state === 'ended' ? r : undefined;
    });
    expect(closed).toMatchObject({ hangupSide: 'system', disposition: 'lost_while_control_plane_away' });
    expect(closed.endedAt).not.toBeNull();
    const agents = (await api('GET', '/agents')).body.items as Array<{ userId: number; status: string }>;
    expect(agents.find((a) => a.userId === agent.id)?.status).toBe('available');
  });
});
