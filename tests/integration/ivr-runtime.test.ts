/**
 * IVR menus on the real Asterisk: the carrier calls a DID routed to a menu and presses keys on
 * its side of the line (RFC 4733 DTMF over RTP), as a caller's phone would.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { fromJson } from '../../control/src/db/json.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { callDid, ensureTestTrunk } from '../support/carrier.ts';
import { bearer, createTenant, createUser, tokenFor } from '../support/fixtures.ts';
import { createIvrMenu } from '../support/ivr-fixtures.ts';
import { PbxEvents, until } from '../support/pbx-events.ts';
import {
  Phones,
  createAgent,
  createDid,
  createQueue,
  type TestAgent,
} from '../support/telephony-fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

/** A prompt long enough that a test only gets on by pressing a key (about 30 s). */
const LONG_PROMPT = 'sound:demo-congrats';
const SHORT_PROMPT = 'sound:beep';

describe('IVR menus', () => {
  let app: App;
  let carrier: AriPeer;
  let main: AriPeer;
  let phones: Phones;
  let pbx: PbxEvents;
  let supervisorToken: string;
  let tenantId: number;
  const db = createDatabase(inject('databaseUrl'), { connectionLimit: 2 });
  const carrierSip = inject('asteriskCarrier').sipPort;

  beforeAll(async () => {
    app = await buildTestApp({}, { telephony: true });
    await app.ari.waitUntilConnected(15_000);
    pbx = new PbxEvents(app.ari);
    carrier = new AriPeer(inject('asteriskCarrier'), 'carrier');
    await carrier.connect();
    main = new AriPeer(inject('asteriskMain'), 'unused');
    await ensureTestTrunk(main);
    phones = new Phones(carrier);
    tenantId = (await createTenant(db)).id;
    supervisorToken = await tokenFor(app, await createUser(db, tenantId, 'supervisor'));
  });

  afterAll(async () => {
    pbx?.close();
    carrier?.close();
    await app?.close();
    await db.destroy();
  });

  async function availableAgentIn(): Promise<{ agent: TestAgent; queueId: number }> {
    const agent = await createAgent(db, main, carrierSip, tenantId);
    const queueId = await createQueue(db, tenantId, { members: [{ userId: agent.id }] });
    const res = await app.inject({
      method: 'PUT',
      url: `/api/v1/agents/${agent.id}/state`,
      headers: bearer(supervisorToken),
      payload: { status: 'available' },
    });
    expect(res.statusCode, res.body).toBe(200);
    return { agent, queueId };
  }

  /** The PBX-side call (its id is the caller channel's) once the engine has it. */
  const pbxCallFor = (did: string) =>
    until(
      'the call to reach the engine',
      async () => app.calls.activeCalls().find((c) => c.to === did)?.id,
    );

  const press = (outside: string, digit: string) =>
    carrier.request('POST', `/channels/${outside}/dtmf`, { dtmf: digit });

  async function cdrOf(did: string) {
    await app.calls.flush();
    return db.selectFrom('calls').selectAll().where('toNumber', '=', did).executeTakeFirst();
  }

  async function eventsOf(callRowId: number) {
    await app.calls.flush();
    const rows = await db
      .selectFrom('callEvents')
      .select(['type', 'data'])
      .where('callId', '=', callRowId)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({ type: r.type, data: fromJson<Record<string, unknown>>(r.data, {}) }));
  }

  const ivrTypes = (events: Array<{ type: string }>) =>
    events
      .map((e) => e.type)
      .filter(
        (t) => t.startsWith('ivr_') || ['queued', 'routed', 'announced', 'ended'].includes(t),
      );

  it('routes a digit pressed during the prompt to its queue, stopping the prompt', async () => {
    const sales = await availableAgentIn();
    const support = await availableAgentIn();
    const menuId = await createIvrMenu(db, tenantId, {
      prompt: LONG_PROMPT,
      options: {
        '1': { type: 'queue', id: sales.queueId },
        '2': { type: 'queue', id: support.queueId },
      },
    });
    const did = await createDid(db, tenantId, { type: 'ivr', id: menuId });

    const outside = await callDid(carrier, did);
    await phones.answeredByPbx(outside);
    const callId = await pbxCallFor(did);
    const prompt = await pbx.playbackStarted(callId);
    expect((await cdrOf(did))?.state).toBe('ivr');

    await press(outside, '2');
    const ring = await phones.ringing(support.agent.phone);
    // A 30 s prompt that ends at once was stopped by the key.
    await pbx.waitFor(
      (e) =>
        e.type === 'PlaybackFinished' &&
        (e.playback as { id: string }).id === (prompt.playback as { id: string }).id,
      3_000,
      'the prompt to stop',
    );
    await phones.answer(ring);
    const row = await until('the support agent on the call', async () => {
      const r = await cdrOf(did);
      return r?.state === 'answered' ? r : undefined;
    });
    expect(row).toMatchObject({ queueId: support.queueId, agentUserId: support.agent.id });
    const events = await eventsOf(row.id);
    expect(ivrTypes(events)).toEqual(['routed', 'ivr_entered', 'ivr_digit', 'queued']);
    expect(events.find((e) => e.type === 'ivr_digit')?.data).toMatchObject({ menuId, digit: '2' });
    await phones.hangup(outside);
    await phones.ended(ring);
  });

  it('takes a caller through a nested menu', async () => {
    const billing = await availableAgentIn();
    const subMenu = await createIvrMenu(db, tenantId, {
      prompt: LONG_PROMPT,
      options: { '3': { type: 'queue', id: billing.queueId } },
    });
    const mainMenu = await createIvrMenu(db, tenantId, {
      prompt: LONG_PROMPT,
      options: { '1': { type: 'ivr', id: subMenu } },
    });
    const did = await createDid(db, tenantId, { type: 'ivr', id: mainMenu });

    const outside = await callDid(carrier, did);
    await phones.answeredByPbx(outside);
    const callId = await pbxCallFor(did);
    await pbx.playbackStarted(callId, 1);
    await press(outside, '1');
    await pbx.playbackStarted(callId, 2);
    await press(outside, '3');
    const ring = await phones.ringing(billing.agent.phone);

    const row = await cdrOf(did);
    const events = await eventsOf(row!.id);
    expect(ivrTypes(events)).toEqual([
      'routed',
      'ivr_entered',
      'ivr_digit',
      'routed',
      'ivr_entered',
      'ivr_digit',
      'queued',
    ]);
    expect(events.filter((e) => e.type === 'ivr_entered').map((e) => e.data.menuId)).toEqual([
      mainMenu,
      subMenu,
    ]);
    await phones.hangup(outside);
    await phones.ended(ring);
  });

  it('says an invalid choice is invalid and lets the caller choose again', async () => {
    const sales = await availableAgentIn();
    const menuId = await createIvrMenu(db, tenantId, {
      prompt: LONG_PROMPT,
      invalidPrompt: SHORT_PROMPT,
      maxRetries: 2,
      options: { '1': { type: 'queue', id: sales.queueId } },
    });
    const did = await createDid(db, tenantId, { type: 'ivr', id: menuId });

    const outside = await callDid(carrier, did);
    await phones.answeredByPbx(outside);
    const callId = await pbxCallFor(did);
    await pbx.playbackStarted(callId, 1);
    await press(outside, '9');
    const retry = await pbx.playbackStarted(callId, 2);
    expect((retry.playback as { media_uri: string }).media_uri).toBe(SHORT_PROMPT);
    await press(outside, '1');
    const ring = await phones.ringing(sales.agent.phone);

    const events = await eventsOf((await cdrOf(did))!.id);
    expect(ivrTypes(events)).toEqual([
      'routed',
      'ivr_entered',
      'ivr_invalid',
      'ivr_digit',
      'queued',
    ]);
    expect(events.find((e) => e.type === 'ivr_invalid')?.data).toMatchObject({
      digit: '9',
      attempt: 1,
    });
    await phones.hangup(outside);
    await phones.ended(ring);
  });

  it('replays the menu when nobody presses a key, then sends the caller to the failover target', async () => {
    const fallback = await availableAgentIn();
    const menuId = await createIvrMenu(db, tenantId, {
      prompt: SHORT_PROMPT,
      invalidPrompt: SHORT_PROMPT,
      timeoutSeconds: 1,
      maxRetries: 1,
      failover: { type: 'queue', id: fallback.queueId },
      options: { '1': { type: 'hangup' } },
    });
    const did = await createDid(db, tenantId, { type: 'ivr', id: menuId });

    const outside = await callDid(carrier, did);
    const ring = await phones.ringing(fallback.agent.phone, 15_000);
    const events = await eventsOf((await cdrOf(did))!.id);
    expect(ivrTypes(events)).toEqual([
      'routed',
      'ivr_entered',
      'ivr_timeout',
      'ivr_timeout',
      'ivr_failover',
      'queued',
    ]);
    expect(events.filter((e) => e.type === 'ivr_timeout').map((e) => e.data.attempt)).toEqual([
      1, 2,
    ]);
    await phones.hangup(outside);
    await phones.ended(ring);
  });

  it('says goodbye and hangs up when the retries run out and the menu has no failover', async () => {
    const menuId = await createIvrMenu(db, tenantId, {
      prompt: SHORT_PROMPT,
      invalidPrompt: SHORT_PROMPT,
      timeoutSeconds: 1,
      maxRetries: 0,
      options: { '1': { type: 'hangup' } },
    });
    const did = await createDid(db, tenantId, { type: 'ivr', id: menuId });

    const outside = await callDid(carrier, did);
    await phones.answeredByPbx(outside);
    await phones.ended(outside, 15_000);
    const row = await until('the CDR to close', async () => {
      const r = await cdrOf(did);
      return r?.state === 'ended' ? r : undefined;
    });
    const events = await eventsOf(row.id);
    expect(ivrTypes(events)).toEqual([
      'routed',
      'ivr_entered',
      'ivr_timeout',
      'ivr_failover',
      'announced',
      'ended',
    ]);
  });

  it('closes the CDR when the caller hangs up in the middle of the menu', async () => {
    const menuId = await createIvrMenu(db, tenantId, {
      prompt: LONG_PROMPT,
      options: { '1': { type: 'hangup' } },
    });
    const did = await createDid(db, tenantId, { type: 'ivr', id: menuId });

    const outside = await callDid(carrier, did);
    await phones.answeredByPbx(outside);
    const callId = await pbxCallFor(did);
    await pbx.playbackStarted(callId);
    await phones.hangup(outside);

    const row = await until('the CDR to close', async () => {
      const r = await cdrOf(did);
      return r?.state === 'ended' ? r : undefined;
    });
    expect(row).toMatchObject({ hangupSide: 'caller', agentUserId: null, queueId: null });
    expect(row.endedAt).not.toBeNull();
    expect(app.calls.getCall(tenantId, callId)).toBeUndefined();
    expect(ivrTypes(await eventsOf(row.id))).toEqual(['routed', 'ivr_entered', 'ended']);
  });

  it("does not run another tenant's menu", async () => {
    const otherTenant = (await createTenant(db)).id;
    const foreignMenu = await createIvrMenu(db, otherTenant, {
      prompt: LONG_PROMPT,
      options: { '1': { type: 'hangup' } },
    });
    const did = await createDid(db, tenantId, { type: 'ivr', id: foreignMenu });

    const outside = await callDid(carrier, did);
    await phones.ended(outside, 15_000);
    const row = await until('the CDR to close', async () => {
      const r = await cdrOf(did);
      return r?.state === 'ended' ? r : undefined;
    });
    const events = await eventsOf(row.id);
    expect(ivrTypes(events)).toEqual(['routed', 'announced', 'ended']);
    expect(events.find((e) => e.type === 'announced')?.data.why).toBe(
      `ivr menu ${foreignMenu} not found`,
    );
  });
});
