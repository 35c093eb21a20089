/**
 * No control plane at all: Stasis() fails and the dialplan dials the fallback route the control
 * plane pushed ahead of time (the DID's queue members), so the caller reaches an agent; when the
 * control plane is back, the CDR of that call is written from Asterisk's own CDR.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { callDid, ensureTestTrunk } from '../support/carrier.ts';
import { createTenant } from '../support/fixtures.ts';
import { Phones, createAgent, createDid, createQueue } from '../support/telephony-fixtures.ts';
import { lockTelephony } from '../support/telephony-lock.ts';

describe('fallback routing with no control plane', () => {
  const db = createDatabase(inject('databaseUrl'), { connectionLimit: 2 });
  const mainInstance = inject('asteriskMain');
  const csv = path.join(mainInstance.logDir, 'cdr-csv/Master.csv');
  let unlock: () => Promise<void>;
  let carrier: AriPeer;
  let main: AriPeer;

  beforeAll(async () => {
    // Nobody may hold the calldock app while this file shows what happens without one.
    unlock = await lockTelephony();
    carrier = new AriPeer(inject('asteriskCarrier'), 'carrier');
    await carrier.connect();
    main = new AriPeer(mainInstance, 'unused');
    await ensureTestTrunk(main);
  });

  afterAll(async () => {
    carrier?.close();
    await unlock?.();
    await db.destroy();
  });

  it('rings the queue members from the dialplan, then writes the CDR from Asterisk when back', async () => {
    const tenantId = (await createTenant(db)).id;
    const agent = await createAgent(db, main, inject('asteriskCarrier').sipPort, tenantId);
    const queueId = await createQueue(db, tenantId, { members: [{ userId: agent.id }] });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });

    // The control plane connects, pushes the fallback routes, and goes away.
    const app = await buildTestApp({ asteriskCdrCsv: csv }, { telephony: true, lockHeld: true });
    await app.ari.waitUntilConnected(15_000);
    const variable = await main.request<{ value: string }>('GET', '/asterisk/variable', { variable: `FALLBACK_${did}` });
    expect(variable.value).toBe(`PJSIP/${agent.phone}`);
    await app.close();

    const phones = new Phones(carrier);
    const outside = await callDid(carrier, did, { from: '+15553330001' });
    const ring = await phones.ringing(agent.phone, 15_000);
    await phones.answer(ring);
    await phones.answeredByPbx(outside);
    await new Promise((r) => setTimeout(r, 1_200));
    await phones.hangup(outside);
    await phones.ended(ring);
    expect(await db.selectFrom('calls').select('id').where('toNumber', '=', did).executeTakeFirst()).toBeUndefined();

    // Back again: the call is in the CDR, once, however often it reconnects.
    for (let i = 0; i < 2; i++) {
      const back = await buildTestApp({ asteriskCdrCsv: csv }, { telephony: true, lockHeld: true });
      await back.ari.waitUntilConnected(15_000);
      await back.cdrStore.drained();
      await back.close();
    }
    const rows = await db.selectFrom('calls').selectAll().where('toNumber', '=', did).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'ended', fromNumber: '+15553330001', disposition: 'fallback_answered', tenantId });
    expect(rows[0]!.talkMs).toBeGreaterThanOrEqual(1_000);
  });
});
