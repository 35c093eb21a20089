/**
 * Voicemail on the real Asterisk: the carrier calls a DID routed to a box, waits for the beep,
 * speaks (plays a sound into the call) and hangs up or presses #; the message is then read back
 * through the API as audio that must not be silence.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { callDid, ensureTestTrunk } from '../support/carrier.ts';
import { bearer, createTenant, createUser, tokenFor, type TestUser } from '../support/fixtures.ts';
import { PbxEvents, until } from '../support/pbx-events.ts';
import { Phones, createDid } from '../support/telephony-fixtures.ts';
import { parseWav, rms } from '../support/wav.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

interface Voicemail {
  id: number;
  callId: number | null;
  callLinkedid: string;
  boxUserId: number | null;
  boxName: string | null;
  fromNumber: string | null;
  durationMs: number;
  listenedAt: string | null;
}

/** Speech, not line noise: GSM prompts measure well above this, silence at 0. */
const SPEECH_RMS = 0.01;

describe('voicemail', () => {
  let app: App;
  let carrier: AriPeer;
  let main: AriPeer;
  let phones: Phones;
  let pbx: PbxEvents;
  let tenantId: number;
  let owner: TestUser;
  let ownerToken: string;
  let otherAgentToken: string;
  let supervisorToken: string;
  let foreignToken: string;
  const db = createDatabase(inject('databaseUrl'), { connectionLimit: 2 });
  /** Left by the tests that call; read by the API tests after them. */
  let personal: Voicemail;
  let shared: Voicemail;

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
    owner = await createUser(db, tenantId, 'agent');
    ownerToken = await tokenFor(app, owner);
    otherAgentToken = await tokenFor(app, await createUser(db, tenantId, 'agent'));
    supervisorToken = await tokenFor(app, await createUser(db, tenantId, 'supervisor'));
    const foreignTenant = (await createTenant(db)).id;
    foreignToken = await tokenFor(app, await createUser(db, foreignTenant, 'tenant_admin'));
  });

  afterAll(async () => {
    pbx?.close();
    carrier?.close();
    await app?.close();
    await db.destroy();
  });

  const get = (url: string, token: string, headers: Record<string, string> = {}) =>
    app.inject({ url: `/api/v1${url}`, headers: { ...bearer(token), ...headers } });

  const pbxCallFor = (did: string) =>
    until(
      'the call to reach the engine',
      async () => app.calls.activeCalls().find((c) => c.to === did)?.id,
    );

  /** Waits for the beep (the recording has begun), then speaks for about three seconds. */
  async function leaveMessage(outside: string, callId: string): Promise<void> {
    await pbx.waitFor(
      (e) =>
        e.type === 'RecordingStarted' &&
        (e.recording as { target_uri: string }).target_uri === `channel:${callId}`,
      15_000,
      'the recording to start',
    );
    const playbackId = randomUUID();
    await carrier.request('POST', `/channels/${outside}/play/${playbackId}`, {
      media: 'sound:hello-world,sound:hello-world',
    });
    await carrier.waitFor(
      (e) => e.type === 'PlaybackFinished' && (e.playback as { id: string }).id === playbackId,
      10_000,
      'the caller to finish speaking',
    );
  }

  async function messageOf(callId: string, token = supervisorToken): Promise<Voicemail> {
    return until(
      'the message to be stored',
      async () => {
        await app.voicemail.flush();
        const res = await get('/voicemails?limit=50', token);
        return (res.json().items as Voicemail[]).find((v) => v.callLinkedid === callId);
      },
      10_000,
    );
  }

  async function expectSpeech(url: string, token: string): Promise<Buffer> {
    const res = await get(url, token);
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    expect(res.headers['content-type']).toBe('audio/wav');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    const wav = parseWav(res.rawPayload);
    expect(wav.durationMs).toBeGreaterThan(1_500);
    expect(rms(wav.samples)).toBeGreaterThan(SPEECH_RMS);
    return res.rawPayload;
  }

  async function cdr(callId: string) {
    await app.calls.flush();
    await app.voicemail.flush();
    const row = await db
      .selectFrom('calls')
      .selectAll()
      .where('linkedid', '=', callId)
      .executeTakeFirstOrThrow();
    const events = await db
      .selectFrom('callEvents')
      .select('type')
      .where('callId', '=', row.id)
      .orderBy('seq')
      .execute();
    return { row, types: events.map((e) => e.type) };
  }

  it("keeps the message a caller leaves in a user's box before hanging up, and serves it as audio", async () => {
    const did = await createDid(db, tenantId, { type: 'voicemail', id: owner.id });
    const outside = await callDid(carrier, did, { from: '+442079460123' });
    await phones.answeredByPbx(outside);
    const callId = await pbxCallFor(did);
    await leaveMessage(outside, callId);
    await phones.hangup(outside);

    personal = await messageOf(callId, ownerToken);
    expect(personal).toMatchObject({
      boxUserId: owner.id,
      boxName: null,
      fromNumber: '+442079460123',
      listenedAt: null,
    });
    // Two "hello world"s: about 2.8 s of speech, some of it still on the wire at the hang-up.
    expect(personal.durationMs).toBeGreaterThan(1_500);
    await expectSpeech(`/voicemails/${personal.id}/audio`, ownerToken);

    const { row, types } = await cdr(callId);
    expect(personal.callId).toBe(row.id);
    expect(row).toMatchObject({ state: 'ended', disposition: 'voicemail', hangupSide: 'caller' });
    expect(types).toEqual(
      expect.arrayContaining(['routed', 'voicemail_started', 'ended', 'voicemail']),
    );
  });

  it('ends the message on # in a shared box and says goodbye', async () => {
    const did = await createDid(db, tenantId, { type: 'voicemail', value: 'sales' });
    const outside = await callDid(carrier, did, { from: '+442079460456' });
    await phones.answeredByPbx(outside);
    const callId = await pbxCallFor(did);
    await leaveMessage(outside, callId);
    await carrier.request('POST', `/channels/${outside}/dtmf`, { dtmf: '#' });
    // The PBX says goodbye and hangs up: the caller does not.
    await phones.ended(outside, 10_000);

    shared = await messageOf(callId);
    expect(shared).toMatchObject({
      boxUserId: null,
      boxName: 'sales',
      fromNumber: '+442079460456',
    });
    await expectSpeech(`/voicemails/${shared.id}/audio`, supervisorToken);
    const { row, types } = await cdr(callId);
    expect(row.disposition).toBe('voicemail');
    expect(types.indexOf('voicemail')).toBeLessThan(types.indexOf('announced'));
  });

  it('stores nothing when the caller hangs up during the greeting', async () => {
    const did = await createDid(db, tenantId, { type: 'voicemail', id: owner.id });
    const outside = await callDid(carrier, did);
    await phones.answeredByPbx(outside);
    const callId = await pbxCallFor(did);
    await pbx.playbackStarted(callId);
    await phones.hangup(outside);
    const row = await until('the CDR to close', async () => {
      const { row } = await cdr(callId);
      return row.state === 'ended' ? row : undefined;
    });
    expect(row.disposition).toBeNull();
    expect(
      await db
        .selectFrom('voicemails')
        .select('id')
        .where('callLinkedid', '=', callId)
        .executeTakeFirst(),
    ).toBeUndefined();
  });

  it('shows agents only their own box and supervisors every box', async () => {
    const mine = await get('/voicemails', ownerToken);
    expect(mine.json().items.map((v: Voicemail) => v.id)).toEqual([personal.id]);
    expect((await get(`/voicemails/${shared.id}`, ownerToken)).statusCode).toBe(404);
    expect((await get(`/voicemails/${shared.id}/audio`, ownerToken)).statusCode).toBe(404);

    expect((await get('/voicemails', otherAgentToken)).json().items).toEqual([]);
    expect((await get(`/voicemails/${personal.id}`, otherAgentToken)).statusCode).toBe(404);

    const all = await get('/voicemails', supervisorToken);
    expect(all.json().items.map((v: Voicemail) => v.id)).toEqual([shared.id, personal.id]);
    expect(
      (await get('/voicemails?boxName=sales', supervisorToken))
        .json()
        .items.map((v: Voicemail) => v.id),
    ).toEqual([shared.id]);
    expect(
      (await get(`/voicemails?boxUserId=${owner.id}`, supervisorToken))
        .json()
        .items.map((v: Voicemail) => v.id),
    ).toEqual([personal.id]);
    const firstPage = await get('/voicemails?limit=1', supervisorToken);
    expect(firstPage.json().items.map((v: Voicemail) => v.id)).toEqual([shared.id]);
    const secondPage = await get(
      `/voicemails?limit=1&cursor=${firstPage.json().nextCursor}`,
      supervisorToken,
    );
    expect(secondPage.json()).toMatchObject({ items: [{ id: personal.id }], nextCursor: null });
    expect((await get('/voicemails?unknown=1', supervisorToken)).statusCode).toBe(400);
  });

  it('marks a message listened to once, and filters on it', async () => {
    const url = `/api/v1/voicemails/${personal.id}/listened`;
    const first = await app.inject({ method: 'POST', url, headers: bearer(ownerToken) });
    expect(first.statusCode, first.body).toBe(200);
    const listenedAt = first.json().listenedAt;
    expect(listenedAt).not.toBeNull();
    const again = await app.inject({ method: 'POST', url, headers: bearer(supervisorToken) });
    expect(again.json().listenedAt).toBe(listenedAt);
    expect(
      (await get('/voicemails?listened=false', supervisorToken))
        .json()
        .items.map((v: Voicemail) => v.id),
    ).toEqual([shared.id]);
    expect(
      (await get('/voicemails?listened=true', supervisorToken))
        .json()
        .items.map((v: Voicemail) => v.id),
    ).toEqual([personal.id]);
  });

  it('serves a byte range of the audio', async () => {
    const whole = await get(`/voicemails/${shared.id}/audio`, supervisorToken);
    const part = await get(`/voicemails/${shared.id}/audio`, supervisorToken, {
      range: 'bytes=0-43',
    });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-43/${whole.rawPayload.length}`);
    expect(part.rawPayload.equals(whole.rawPayload.subarray(0, 44))).toBe(true);
  });

  it("answers 404 for every voicemail route of another tenant's message", async () => {
    expect((await get('/voicemails', foreignToken)).json().items).toEqual([]);
    for (const [method, url] of [
      ['GET', `/voicemails/${personal.id}`],
      ['GET', `/voicemails/${personal.id}/audio`],
      ['POST', `/voicemails/${shared.id}/listened`],
      ['DELETE', `/voicemails/${shared.id}`],
    ] as const) {
      const res = await app.inject({ method, url: `/api/v1${url}`, headers: bearer(foreignToken) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('VOICEMAIL_NOT_FOUND');
    }
    expect((await get(`/voicemails/${shared.id}`, supervisorToken)).statusCode).toBe(200);
  });

  it('deletes a message, its audio in Asterisk, and leaves an audit row', async () => {
    const row = await db
      .selectFrom('voicemails')
      .select('recordingName')
      .where('id', '=', personal.id)
      .executeTakeFirstOrThrow();
    await main.request('GET', `/recordings/stored/${row.recordingName}`);

    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/voicemails/${personal.id}`,
      headers: bearer(ownerToken),
    });
    expect(res.statusCode, res.body).toBe(204);
    expect((await get(`/voicemails/${personal.id}`, ownerToken)).statusCode).toBe(404);
    expect((await get(`/voicemails/${personal.id}/audio`, supervisorToken)).statusCode).toBe(404);
    await expect(main.request('GET', `/recordings/stored/${row.recordingName}`)).rejects.toThrow(
      /404/,
    );
    const audit = await db
      .selectFrom('auditLog')
      .select(['action', 'actorUserId'])
      .where('entityType', '=', 'voicemail')
      .where('entityId', '=', String(personal.id))
      .executeTakeFirst();
    expect(audit).toEqual({ action: 'voicemail.delete', actorUserId: owner.id });
    const twice = await app.inject({
      method: 'DELETE',
      url: `/api/v1/voicemails/${personal.id}`,
      headers: bearer(ownerToken),
    });
    expect(twice.statusCode).toBe(404);
  });
});
