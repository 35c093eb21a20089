/**
 * Call recordings on the real Asterisk: a queue with recording on, an agent answers, both sides
 * speak in turn, and the recording comes back through the API (fetched from Asterisk over ARI)
 * as audio with both voices in it, whole or by byte range, only to those who may hear it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { callDid, ensureTestTrunk } from '../support/carrier.ts';
import { bearer, createTenant, createUser, tokenFor } from '../support/fixtures.ts';
import { PbxEvents, until } from '../support/pbx-events.ts';
import {
  Phones,
  createAgent,
  createDid,
  createQueue,
  type TestAgent,
} from '../support/telephony-fixtures.ts';
import { parseWav, rms } from '../support/wav.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

const SPEECH_RMS = 0.01;

describe('call recordings', () => {
  let app: App;
  let carrier: AriPeer;
  let main: AriPeer;
  let phones: Phones;
  let pbx: PbxEvents;
  let tenantId: number;
  let agent: TestAgent;
  let agentToken: string;
  let supervisorToken: string;
  let callRowId: number;
  let wholeFile: Buffer;
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
    agent = await createAgent(db, main, carrierSip, tenantId);
    agentToken = await tokenFor(app, agent);
    supervisorToken = await tokenFor(app, await createUser(db, tenantId, 'supervisor'));
  });

  afterAll(async () => {
    pbx?.close();
    carrier?.close();
    await app?.close();
    await db.destroy();
  });

  const recording = (id: number, token: string, headers: Record<string, string> = {}) =>
    app.inject({ url: `/api/v1/calls/${id}/recording`, headers: { ...bearer(token), ...headers } });

  /** One side of the call says "hello world" twice (about 2.8 s) and is done. */
  async function speak(channelId: string): Promise<void> {
    const playbackId = randomUUID();
    await carrier.request('POST', `/channels/${channelId}/play/${playbackId}`, {
      media: 'sound:hello-world,sound:hello-world',
    });
    await carrier.waitFor(
      (e) => e.type === 'PlaybackFinished' && (e.playback as { id: string }).id === playbackId,
      10_000,
      `${channelId} to finish speaking`,
    );
  }

  it('records an answered call of a recording queue with both voices in it', async () => {
    const queueId = await createQueue(db, tenantId, {
      recordingEnabled: true,
      members: [{ userId: agent.id }],
    });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    const state = await app.inject({
      method: 'PUT',
      url: `/api/v1/agents/${agent.id}/state`,
      headers: bearer(supervisorToken),
      payload: { status: 'available' },
    });
    expect(state.statusCode, state.body).toBe(200);

    const outside = await callDid(carrier, did);
    const desk = await phones.ringing(agent.phone);
    await phones.answer(desk);
    await pbx.waitFor(
      (e) =>
        e.type === 'RecordingStarted' &&
        (e.recording as { target_uri: string }).target_uri.startsWith('bridge:'),
      10_000,
      'the bridge recording to start',
    );
    // The customer, then the agent: the two halves of the file each hold one voice.
    await speak(outside);
    await speak(desk);
    await phones.hangup(outside);
    await phones.ended(desk);

    const row = await until('the CDR to close', async () => {
      await app.calls.flush();
      const r = await db
        .selectFrom('calls')
        .selectAll()
        .where('toNumber', '=', did)
        .executeTakeFirst();
      return r?.state === 'ended' ? r : undefined;
    });
    expect(row.recordingPath).toMatch(new RegExp(`^calldock-${tenantId}-.+\\.wav$`));
    callRowId = row.id;

    // The file is complete once Asterisk has closed it, as the bridge goes.
    await pbx.waitFor(
      (e) =>
        e.type === 'RecordingFinished' &&
        (e.recording as { name: string }).name === row.recordingPath!.replace(/\.wav$/, ''),
      10_000,
      'the recording to finish',
    );
    const res = await recording(callRowId, supervisorToken);
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    expect(res.headers).toMatchObject({ 'content-type': 'audio/wav', 'accept-ranges': 'bytes' });
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    wholeFile = res.rawPayload;

    const wav = parseWav(wholeFile);
    expect(wav.durationMs).toBeGreaterThan(4_000);
    const at = (ms: number) => Math.round((ms * wav.sampleRate) / 1000);
    const customerHalf = wav.samples.subarray(at(200), at(2_200));
    const agentHalf = wav.samples.subarray(at(wav.durationMs - 2_200), at(wav.durationMs - 200));
    expect(rms(customerHalf)).toBeGreaterThan(SPEECH_RMS);
    expect(rms(agentHalf)).toBeGreaterThan(SPEECH_RMS);
  });

  it('serves byte ranges of the recording', async () => {
    const size = wholeFile.length;
    const middle = await recording(callRowId, supervisorToken, { range: 'bytes=100-199' });
    expect(middle.statusCode).toBe(206);
    expect(middle.headers).toMatchObject({
      'content-range': `bytes 100-199/${size}`,
      'content-length': '100',
      'accept-ranges': 'bytes',
    });
    expect(middle.rawPayload.equals(wholeFile.subarray(100, 200))).toBe(true);

    const tail = await recording(callRowId, supervisorToken, { range: 'bytes=-50' });
    expect(tail.statusCode).toBe(206);
    expect(tail.headers['content-range']).toBe(`bytes ${size - 50}-${size - 1}/${size}`);
    expect(tail.rawPayload.equals(wholeFile.subarray(size - 50))).toBe(true);

    const rest = await recording(callRowId, supervisorToken, { range: `bytes=${size - 10}-` });
    expect(rest.statusCode).toBe(206);
    expect(rest.rawPayload.equals(wholeFile.subarray(size - 10))).toBe(true);

    const beyond = await recording(callRowId, supervisorToken, { range: `bytes=${size}-` });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${size}`);
    expect(beyond.json().error.code).toBe('RANGE_NOT_SATISFIABLE');

    // Several ranges at once are not served piecemeal: the whole file, as the RFC allows.
    const several = await recording(callRowId, supervisorToken, { range: 'bytes=0-1,5-6' });
    expect(several.statusCode).toBe(200);
    expect(several.rawPayload.equals(wholeFile)).toBe(true);
  });

  it('lets the agent who took the call hear it, and no other agent', async () => {
    expect((await recording(callRowId, agentToken)).statusCode).toBe(200);
    const otherAgent = await tokenFor(app, await createUser(db, tenantId, 'agent'));
    const refused = await recording(callRowId, otherAgent);
    expect(refused.statusCode).toBe(404);
    expect(refused.json().error.code).toBe('CALL_NOT_FOUND');
  });

  it("answers 404 for another tenant's call recording, as for one that does not exist", async () => {
    const foreignTenant = (await createTenant(db)).id;
    const foreignAdmin = await tokenFor(app, await createUser(db, foreignTenant, 'tenant_admin'));
    const foreign = await recording(callRowId, foreignAdmin);
    const missing = await recording(999_999_999, foreignAdmin);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error).toEqual(
      expect.objectContaining({ code: 'CALL_NOT_FOUND', message: `Call ${callRowId} not found` }),
    );
    expect(missing.json().error.code).toBe('CALL_NOT_FOUND');
  });

  it('answers 404 for a call that was not recorded or whose file is gone', async () => {
    const insert = (recordingPath: string | null) =>
      db
        .insertInto('calls')
        .values({
          tenantId,
          linkedid: `test-${randomUUID()}`,
          direction: 'inbound',
          channelKind: 'pstn',
          state: 'ended',
          fromNumber: null,
          toNumber: null,
          didId: null,
          startedAt: new Date(),
          recordingPath,
        })
        .executeTakeFirstOrThrow();
    for (const path of [null, `calldock-${tenantId}-gone.wav`]) {
      const id = Number((await insert(path)).insertId);
      const res = await recording(id, supervisorToken);
      expect(res.statusCode, String(path)).toBe(404);
      expect(res.json().error.code).toBe('RECORDING_NOT_FOUND');
    }
  });
});
