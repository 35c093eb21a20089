/**
 * The call engine on the real Asterisk: calls come from the carrier instance (the PSTN) to DIDs,
 * and agents' desk phones on the carrier ring, answer or ring out.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { callDid, ensureTestTrunk, sipHeader } from '../support/carrier.ts';
import { bearer, createTenant, createUser, tokenFor } from '../support/fixtures.ts';
import type { CallEvent } from '../../control/src/modules/calls/engine.ts';
import { Phones, createAgent, createDid, createQueue, type TestAgent } from '../support/telephony-fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

describe('call engine: DID to queue to agent', () => {
  let app: App;
  let carrier: AriPeer;
  let main: AriPeer;
  let phones: Phones;
  let supervisorToken: string;
  let tenantId: number;
  const db = createDatabase(inject('databaseUrl'), { connectionLimit: 2 });
  const carrierSip = inject('asteriskCarrier').sipPort;

  beforeAll(async () => {
    // A short grace for a crashed agent's return keeps the give-up test quick.
    app = await buildTestApp({ agentReconnectGraceSeconds: 5 }, { telephony: true });
    await app.ari.waitUntilConnected(15_000);
    carrier = new AriPeer(inject('asteriskCarrier'), 'carrier');
    await carrier.connect();
    main = new AriPeer(inject('asteriskMain'), 'unused');
    await ensureTestTrunk(main);
    phones = new Phones(carrier);
    tenantId = (await createTenant(db)).id;
    supervisorToken = await tokenFor(app, await createUser(db, tenantId, 'supervisor'));
  });

  afterAll(async () => {
    carrier?.close();
    await app?.close();
    await db.destroy();
  });

  const agent = () => createAgent(db, main, carrierSip, tenantId);

  async function setState(a: TestAgent, status: 'available' | 'away' | 'offline') {
    const res = await app.inject({
      method: 'PUT',
      url: `/api/v1/agents/${a.id}/state`,
      headers: bearer(supervisorToken),
      payload: { status },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  async function agentStatus(a: TestAgent): Promise<string> {
    const res = await app.inject({ url: '/api/v1/agents', headers: bearer(supervisorToken) });
    return res.json().items.find((i: { userId: number }) => i.userId === a.id).status;
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function cdr(linkedid: string) {
    await app.calls.flush();
    return db.selectFrom('calls').selectAll().where('linkedid', '=', linkedid).executeTakeFirst();
  }

  /** Until the call's bridge holds the caller and the agent (the agent's answer is complete). */
  async function bridged(callId: string): Promise<void> {
    await until('the caller and agent bridged', async () => {
      const bridgeId = app.calls.getCall(tenantId, callId)?.bridgeId;
      if (!bridgeId) return undefined;
      const bridge = (await app.telephony.listBridges()).find((b) => b.id === bridgeId);
      return bridge?.channels.length === 2 ? true : undefined;
    });
  }

  /** The PBX-side id of a call placed from the carrier: the caller channel on the PBX. */
  async function pbxCallFor(did: string): Promise<string> {
    return until('the call to reach the engine', async () => app.calls.activeCalls().find((c) => c.to === did)?.id);
  }

  it('offers a queued call to the longest-idle agent, bridges the answer and writes the CDR', async () => {
    const [first, second] = [await agent(), await agent()];
    const queueId = await createQueue(db, tenantId, {
      strategy: 'longest_idle',
      members: [{ userId: first.id }, { userId: second.id }],
    });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    await setState(first, 'available');
    await setState(second, 'available');

    const offered: CallEvent[] = [];
    const onCall = (e: CallEvent) => e.type === 'call.offered' && offered.push(e);
    app.calls.on('call', onCall);
    const outside = await callDid(carrier, did, { from: '+442079460000' });
    const ring = await phones.ringing(first.phone);
    const callId = await pbxCallFor(did);
    app.calls.off('call', onCall);
    expect(await agentStatus(first)).toBe('ringing');
    expect(await agentStatus(second)).toBe('available');
    // The phone learns which call rings from the INVITE (the header the dialplan gave the
    // caller), and the console the rest from the offer event.
    expect(await sipHeader(carrier, ring, 'X-Calldock-Offer')).toBe(`call=${callId}`);
    expect(offered).toEqual([
      expect.objectContaining({ callId, agentUserId: first.id, offer: { queue: expect.any(String), did, startedAt: expect.any(String) } }),
    ]);

    await phones.answer(ring);
    await until('the agent to be on the call', async () => ((await agentStatus(first)) === 'on_call' ? true : undefined));
    const connected = await cdr(callId);
    expect(connected).toMatchObject({ state: 'answered', agentUserId: first.id, queueId, fromNumber: '+442079460000', toNumber: did });

    await phones.hangup(outside);
    await phones.ended(ring);
    const done = await until('the CDR to close', async () => {
      const row = await cdr(callId);
      return row?.state === 'ended' ? row : undefined;
    });
    expect(done).toMatchObject({ hangupSide: 'caller', direction: 'inbound', channelKind: 'pstn' });
    expect(done.answeredAt).not.toBeNull();
    expect(done.endedAt!.getTime()).toBeGreaterThanOrEqual(done.answeredAt!.getTime());
    const events = await db.selectFrom('callEvents').select(['type', 'seq']).where('callId', '=', done.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['created', 'queued', 'offered', 'answered', 'ended']);
    await until('the agent to be free again', async () => ((await agentStatus(first)) === 'available' ? true : undefined));
  });

  it('rings every agent for ring-all and stops the others the moment one answers', async () => {
    const [a, b, c] = [await agent(), await agent(), await agent()];
    const queueId = await createQueue(db, tenantId, {
      strategy: 'ring_all',
      members: [{ userId: a.id }, { userId: b.id }, { userId: c.id }],
    });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    for (const x of [a, b, c]) await setState(x, 'available');

    const outside = await callDid(carrier, did);
    const [ringA, ringB, ringC] = await Promise.all([phones.ringing(a.phone), phones.ringing(b.phone), phones.ringing(c.phone)]);
    await phones.answer(ringB);
    const [endA, endC] = await Promise.all([phones.ended(ringA, 5_000), phones.ended(ringC, 5_000)]);
    expect(endA.cause).toBe(26); // answered elsewhere
    expect(endC.cause).toBe(26);
    const callId = await pbxCallFor(did);
    await until('B on the call', async () => ((await agentStatus(b)) === 'on_call' ? true : undefined));
    expect(await agentStatus(a)).toBe('available');
    expect(await agentStatus(c)).toBe('available');
    expect((await cdr(callId))?.agentUserId).toBe(b.id);
    await phones.hangup(outside);
  });

  it('moves on to the next agent when one lets it ring out, and makes that agent not ready', async () => {
    const [slow, next] = [await agent(), await agent()];
    const queueId = await createQueue(db, tenantId, {
      strategy: 'longest_idle',
      ringTimeoutSeconds: 2,
      members: [{ userId: slow.id }, { userId: next.id }],
    });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    await setState(slow, 'available');
    await setState(next, 'available');

    const outside = await callDid(carrier, did);
    const firstRing = await phones.ringing(slow.phone);
    await phones.ended(firstRing, 8_000);
    const secondRing = await phones.ringing(next.phone, 8_000);
    expect(await agentStatus(slow)).toBe('away');
    await phones.answer(secondRing);
    const callId = await pbxCallFor(did);
    await until('the second agent to have it', async () => ((await cdr(callId))?.agentUserId === next.id ? true : undefined));
    await phones.hangup(outside);
  });

  it('overflows at once when no agent of the queue is logged in', async () => {
    const idle = await agent();
    const queueId = await createQueue(db, tenantId, {
      members: [{ userId: idle.id }],
      overflow: { type: 'hangup', value: 'sound:vm-goodbye' },
    });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    const outside = await callDid(carrier, did);
    await phones.ended(outside, 15_000);
    const row = await until('the CDR', async () => {
      const r = await db.selectFrom('calls').selectAll().where('toNumber', '=', did).executeTakeFirst();
      return r?.state === 'ended' ? r : undefined;
    });
    const events = await db.selectFrom('callEvents').select(['type', 'data']).where('callId', '=', row.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toContain('overflow');
    expect(events.map((e) => e.type)).not.toContain('queued');
  });

  it('overflows to another queue when the caller has waited the maximum', async () => {
    const [busy, backup] = [await agent(), await agent()];
    const backupQueue = await createQueue(db, tenantId, { members: [{ userId: backup.id }] });
    const firstQueue = await createQueue(db, tenantId, {
      maxWaitSeconds: 2,
      members: [{ userId: busy.id }],
      overflow: { type: 'queue', id: backupQueue },
    });
    const did = await createDid(db, tenantId, { type: 'queue', id: firstQueue });
    await setState(busy, 'away');
    await setState(backup, 'available');

    const outside = await callDid(carrier, did);
    const ring = await phones.ringing(backup.phone, 10_000);
    await phones.answer(ring);
    const callId = await pbxCallFor(did);
    await until('answered from the backup queue', async () => {
      const row = await cdr(callId);
      return row?.queueId === backupQueue && row.agentUserId === backup.id ? row : undefined;
    });
    await phones.hangup(outside);
  });

  it('serves callers first come, first served, even when they arrive together', async () => {
    const only = await agent();
    const queueId = await createQueue(db, tenantId, { members: [{ userId: only.id }] });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    await setState(only, 'away');
    const firstOut = await callDid(carrier, did, { from: '+15550000001' });
    await until('the first caller to be queued', async () => (app.calls.queueDepth(queueId) === 1 ? true : undefined));
    const secondOut = await callDid(carrier, did, { from: '+15550000002' });
    await until('both queued', async () => (app.calls.queueDepth(queueId) === 2 ? true : undefined));
    await setState(only, 'available');
    const ring = await phones.ringing(only.phone);
    const ringing = await until('the offered call', async () => app.calls.activeCalls().find((c) => c.offers.size > 0));
    expect(ringing.from).toBe('+15550000001');
    await phones.hangup(ring, 'busy');
    await phones.hangup(firstOut);
    await phones.hangup(secondOut);
  });

  it('holds, mutes, sends DTMF and hangs up through the API, and only for the call\'s own agent', async () => {
    const [mine, other] = [await agent(), await agent()];
    const queueId = await createQueue(db, tenantId, { members: [{ userId: mine.id }] });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    await setState(mine, 'available');
    const outside = await callDid(carrier, did);
    const ring = await phones.ringing(mine.phone);
    await phones.answer(ring);
    const callId = await pbxCallFor(did);
    await until('connected', async () => (app.calls.getCall(tenantId, callId)?.agent ? true : undefined));

    const agentToken = await tokenFor(app, mine);
    const post = (path: string, token = agentToken, payload?: object) =>
      app.inject({ method: 'POST', url: `/api/v1/live-calls/${callId}/${path}`, headers: bearer(token), ...(payload ? { payload } : {}) });

    const otherToken = await tokenFor(app, other);
    expect((await post('hold', otherToken)).statusCode).toBe(404);

    const held = await post('hold');
    expect(held.statusCode, held.body).toBe(200);
    expect(held.json()).toMatchObject({ onHold: true, agentUserId: mine.id });
    expect((await cdr(callId))?.state).toBe('held');
    await new Promise((r) => setTimeout(r, 300));
    const unheld = await post('unhold');
    expect(unheld.json().onHold).toBe(false);
    expect((await cdr(callId))?.holdMs).toBeGreaterThanOrEqual(250);

    expect((await post('mute')).json().agentMuted).toBe(true);
    expect((await post('unmute')).json().agentMuted).toBe(false);
    const dtmfSeen = carrier.waitFor((e) => e.type === 'ChannelDtmfReceived' && (e.channel as { id: string }).id === outside && e.digit === '5', 5_000, 'DTMF at the customer');
    expect((await post('dtmf', agentToken, { digits: '5' })).statusCode).toBe(200);
    await dtmfSeen;
    expect((await post('dtmf', agentToken, { digits: 'x' })).statusCode).toBe(400);

    const mineList = await app.inject({ url: '/api/v1/live-calls', headers: bearer(agentToken) });
    expect(mineList.json().items.map((c: { callId: string }) => c.callId)).toContain(callId);
    const othersList = await app.inject({ url: '/api/v1/live-calls', headers: bearer(otherToken) });
    expect(othersList.json().items).toEqual([]);

    expect((await post('hangup')).statusCode).toBe(200);
    await Promise.all([phones.ended(outside), phones.ended(ring)]);
    const row = await until('the CDR to close', async () => {
      const r = await cdr(callId);
      return r?.state === 'ended' ? r : undefined;
    });
    expect(row.hangupSide).toBe('agent');

    const history = await app.inject({ url: '/api/v1/calls?limit=10', headers: bearer(agentToken) });
    expect(history.statusCode).toBe(200);
    expect(history.json().items.map((c: { linkedid: string }) => c.linkedid)).toEqual([callId]);
    const detail = await app.inject({ url: `/api/v1/calls/${row.id}`, headers: bearer(agentToken) });
    expect(detail.json().events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['held', 'unheld', 'muted', 'unmuted', 'ended']),
    );
    expect((await app.inject({ url: `/api/v1/calls/${row.id}`, headers: bearer(otherToken) })).statusCode).toBe(404);
  });

  it('routes to the after-hours target when the DID\'s hours are closed', async () => {
    const staffed = await agent();
    const queueId = await createQueue(db, tenantId, { members: [{ userId: staffed.id }] });
    await setState(staffed, 'available');
    // Open one minute a week, Sunday 00:00-00:01 in Kiribati: closed for this test, whatever the day.
    const hours = await db
      .insertInto('businessHours')
      .values({ tenantId, name: `closed-${Date.now()}`, timezone: 'Pacific/Kiritimati', weeklySchedule: JSON.stringify([{ day: 0, open: '00:00', close: '00:01' }]) })
      .executeTakeFirstOrThrow();
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    await db
      .updateTable('dids')
      .set({ businessHoursId: Number(hours.insertId), afterHoursTargetType: 'hangup', afterHoursTargetValue: 'sound:vm-goodbye' })
      .where('number', '=', did)
      .execute();

    const outside = await callDid(carrier, did);
    await phones.ended(outside, 15_000);
    expect(await agentStatus(staffed)).toBe('available');
    const row = await until('the CDR', async () => {
      await app.calls.flush();
      const r = await db.selectFrom('calls').selectAll().where('toNumber', '=', did).executeTakeFirst();
      return r?.state === 'ended' ? r : undefined;
    });
    const events = await db.selectFrom('callEvents').select('type').where('callId', '=', row.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['created', 'after_hours', 'announced', 'ended']);
  });

  it('holds the customer when the agent\'s leg fails mid-call and calls the same agent back', async () => {
    const [crashy, spare] = [await agent(), await agent()];
    const queueId = await createQueue(db, tenantId, { members: [{ userId: crashy.id }, { userId: spare.id }] });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    await setState(crashy, 'available');
    const outside = await callDid(carrier, did);
    const first = await phones.ringing(crashy.phone);
    await phones.answer(first);
    const callId = await pbxCallFor(did);
    await bridged(callId);
    await setState(spare, 'available');

    // The agent's side drops as a browser crash does: a failure, not a hang-up.
    const again = carrier.waitFor(
      (e) => e.type === 'StasisStart' && (e.args as string[])[0] === crashy.phone && (e.channel as { id: string }).id !== first,
      10_000,
      'the agent to be called back',
    );
    await phones.hangup(first, 'failure');
    const back = (await again).channel as { id: string };
    expect(app.calls.getCall(tenantId, callId)?.status).toBe('agent_lost');
    await phones.answer(back.id);
    await until('reconnected', async () => (app.calls.getCall(tenantId, callId)?.status === 'connected' ? true : undefined));
    // The customer never left, and the spare agent was never offered the call.
    expect(carrier.eventsFor(outside).some((e) => e.type === 'StasisEnd')).toBe(false);
    expect(await agentStatus(spare)).toBe('available');
    expect(app.calls.getCall(tenantId, callId)?.agent?.userId).toBe(crashy.id);

    await phones.hangup(outside);
    const row = await until('the CDR to close', async () => {
      const r = await cdr(callId);
      return r?.state === 'ended' ? r : undefined;
    });
    const events = await db.selectFrom('callEvents').select('type').where('callId', '=', row.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['agent_lost', 'agent_reconnected', 'ended']));
    expect(row.agentUserId).toBe(crashy.id);
  });

  it('puts the customer back at the head of the queue when the lost agent does not return', async () => {
    const [crashy, spare] = [await agent(), await agent()];
    const queueId = await createQueue(db, tenantId, { members: [{ userId: crashy.id }, { userId: spare.id }] });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    await setState(crashy, 'available');
    const outside = await callDid(carrier, did);
    const first = await phones.ringing(crashy.phone);
    await phones.answer(first);
    const callId = await pbxCallFor(did);
    await bridged(callId);

    // Someone else is already waiting when the agent drops.
    await setState(spare, 'away');
    const otherOut = await callDid(carrier, did, { from: '+15550009999' });
    await until('the other caller queued', async () => (app.calls.queueDepth(queueId) === 1 ? true : undefined));
    await phones.hangup(first, 'failure');
    await until('the call back to the lost agent', async () =>
      app.calls.getCall(tenantId, callId)?.offers.size ? true : undefined,
    );
    // The lost agent never answers; after the grace period the customer is served first.
    await until('requeued', async () => (app.calls.getCall(tenantId, callId)?.status === 'queued' ? true : undefined), 10_000);
    expect(app.calls.queueDepth(queueId)).toBe(2);
    expect(await agentStatus(crashy)).toBe('away');
    await setState(spare, 'available');
    await phones.ringing(spare.phone);
    const offered = await until('an offer', async () => app.calls.activeCalls().find((c) => c.offers.size > 0 && c.queueId === queueId));
    expect(offered.id).toBe(callId);
    await phones.hangup(outside);
    await phones.hangup(otherOut);
    const row = await until('the CDR to close', async () => {
      const r = await cdr(callId);
      return r?.state === 'ended' ? r : undefined;
    });
    const events = await db.selectFrom('callEvents').select('type').where('callId', '=', row.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['agent_lost', 'agent_not_back', 'ended']));
  });

  it('gives an agent their wrap-up time before the next offer', async () => {
    const only = await agent();
    const queueId = await createQueue(db, tenantId, { wrapupSeconds: 2, members: [{ userId: only.id }] });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    await setState(only, 'available');
    const firstOut = await callDid(carrier, did);
    const firstRing = await phones.ringing(only.phone);
    await phones.answer(firstRing);
    await until('on the call', async () => ((await agentStatus(only)) === 'on_call' ? true : undefined));
    await phones.hangup(firstOut);
    await until('wrapping up', async () => ((await agentStatus(only)) === 'wrap_up' ? true : undefined));
    const wrapStarted = Date.now();

    const secondOut = await callDid(carrier, did);
    await until('the second caller queued', async () => (app.calls.queueDepth(queueId) === 1 ? true : undefined));
    const secondRing = await carrier.waitFor(
      (e) => e.type === 'StasisStart' && (e.args as string[])[0] === only.phone && (e.channel as { id: string }).id !== firstRing,
      10_000,
      'the second offer',
    );
    expect(Date.now() - wrapStarted).toBeGreaterThanOrEqual(1_500);
    await phones.hangup((secondRing.channel as { id: string }).id, 'busy');
    await phones.hangup(secondOut);
  });

  it('offers only agents with the skill, the lower penalty first, and relaxes to the higher penalty as the caller waits', async () => {
    const [english, expert, backup] = [await agent(), await agent(), await agent()];
    const queueId = await createQueue(db, tenantId, {
      strategy: 'skills',
      requiredSkills: { spanish: 3 },
      penaltyRelaxSeconds: 2,
      ringTimeoutSeconds: 30,
      members: [
        { userId: english.id, skills: { english: 5 } },
        { userId: expert.id, skills: { spanish: 5 }, penalty: 0 },
        { userId: backup.id, skills: { spanish: 4 }, penalty: 5 },
      ],
    });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    for (const x of [english, expert, backup]) await setState(x, 'available');
    await setState(expert, 'away');
    const outside = await callDid(carrier, did);
    const queuedAt = Date.now();
    // Only the backup (penalty 5) has the skill and is free: offered once the tier opens at 2 s.
    const ring = await phones.ringing(backup.phone, 10_000);
    expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(1_500);
    expect(await agentStatus(english)).toBe('available');
    await phones.hangup(ring, 'busy');
    await phones.hangup(outside);
  });

  it('rotates offers round-robin', async () => {
    const [a, b] = [await agent(), await agent()];
    const queueId = await createQueue(db, tenantId, { strategy: 'round_robin', members: [{ userId: a.id }, { userId: b.id }] });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    await setState(a, 'available');
    await setState(b, 'available');
    const rung: number[] = [];
    for (let i = 0; i < 3; i++) {
      const outside = await callDid(carrier, did);
      const offered = await until('an offer', async () =>
        app.calls.activeCalls().find((c) => c.queueId === queueId && c.offers.size > 0),
      );
      const leg = [...offered.offers.values()][0]!;
      rung.push(leg.userId);
      const phone = leg.userId === a.id ? a.phone : b.phone;
      const ring = await phones.ringing(phone);
      await phones.answer(ring);
      await until('connected', async () => (offered.agent ? true : undefined));
      await phones.hangup(outside);
      await phones.ended(ring);
      await until('free again', async () => ((await agentStatus(leg.userId === a.id ? a : b)) === 'available' ? true : undefined));
    }
    expect(rung).toEqual([a.id, b.id, a.id]);
  });

  it('enforces the tenant\'s concurrent-call limit and maximum call duration at call start', async () => {
    const limited = (await createTenant(db)).id;
    await db.updateTable('tenants').set({ maxConcurrentCalls: 1, maxCallSeconds: 3 }).where('id', '=', limited).execute();
    const sup = await createUser(db, limited, 'supervisor');
    const worker = await createAgent(db, main, carrierSip, limited);
    const queueId = await createQueue(db, limited, { members: [{ userId: worker.id }] });
    const did = await createDid(db, limited, { type: 'queue', id: queueId });
    const put = await app.inject({
      method: 'PUT',
      url: `/api/v1/agents/${worker.id}/state`,
      headers: bearer(await tokenFor(app, sup)),
      payload: { status: 'away' },
    });
    expect(put.statusCode).toBe(200);

    const first = await callDid(carrier, did);
    await until('the first call queued', async () => (app.calls.queueDepth(queueId) === 1 ? true : undefined));
    const second = await callDid(carrier, did);
    const refused = await phones.ended(second, 10_000);
    expect(refused.cause).toBe(34); // congestion: SIP 503
    const rows = await until('both CDRs', async () => {
      await app.calls.flush();
      const r = await db.selectFrom('calls').selectAll().where('toNumber', '=', did).orderBy('id').execute();
      return r.length === 2 && r[1]!.state === 'ended' ? r : undefined;
    });
    expect(rows[1]!.disposition).toBe('refused_max_concurrent_calls');

    // The first call is cut at the tenant's maximum duration (3 s).
    const started = Date.now();
    await phones.ended(first, 10_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    const firstRow = await until('the first CDR closed', async () => {
      await app.calls.flush();
      const r = await db.selectFrom('calls').selectAll().where('id', '=', rows[0]!.id).executeTakeFirst();
      return r?.state === 'ended' ? r : undefined;
    });
    const events = await db.selectFrom('callEvents').select('type').where('callId', '=', firstRow.id).execute();
    expect(events.map((e) => e.type)).toContain('max_duration');
  });

  it('serves a caller on a priority line before callers who waited longer', async () => {
    const only = await agent();
    const queueId = await createQueue(db, tenantId, { members: [{ userId: only.id }] });
    const normal = await createDid(db, tenantId, { type: 'queue', id: queueId });
    const vip = await createDid(db, tenantId, { type: 'queue', id: queueId });
    await db.updateTable('dids').set({ callerPriority: 5 }).where('number', '=', vip).execute();
    await setState(only, 'away');
    const early = await callDid(carrier, normal, { from: '+15557770001' });
    await until('the early caller queued', async () => (app.calls.queueDepth(queueId) === 1 ? true : undefined));
    const important = await callDid(carrier, vip, { from: '+15557770002' });
    await until('both queued', async () => (app.calls.queueDepth(queueId) === 2 ? true : undefined));
    await setState(only, 'available');
    const ring = await phones.ringing(only.phone);
    const offered = await until('the offer', async () => app.calls.activeCalls().find((c) => c.queueId === queueId && c.offers.size > 0));
    expect(offered.from).toBe('+15557770002');
    await phones.hangup(ring, 'busy');
    await phones.hangup(early);
    await phones.hangup(important);
  });

  it('refuses a call to an unknown DID with an announcement', async () => {
    const outside = await callDid(carrier, '+15559990000');
    await phones.answeredByPbx(outside);
    await phones.ended(outside, 15_000);
    expect(await db.selectFrom('calls').select('id').where('toNumber', '=', '+15559990000').executeTakeFirst()).toBeUndefined();
  });
});
