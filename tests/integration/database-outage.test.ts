/**
 * MySQL unreachable mid-call: calls keep being routed from the control plane's memory, CDR and
 * event writes wait in the fsync'd outbox, and are replayed in order — once, however often the
 * replay runs — when MySQL is back.
 */
import { readFileSync, appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { CdrStore } from '../../control/src/modules/calls/cdr-store.ts';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { callDid, ensureTestTrunk } from '../support/carrier.ts';
import { bearer, createTenant, createUser, tokenFor } from '../support/fixtures.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { Phones, createAgent, createDid, createQueue } from '../support/telephony-fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

describe('MySQL unreachable during calls', () => {
  const databaseUrl = inject('databaseUrl');
  const db = createDatabase(databaseUrl, { connectionLimit: 2 });
  const proxy = new TcpProxy('127.0.0.1', Number(new URL(databaseUrl).port || 3306));
  let app: App;
  let carrier: AriPeer;
  let phones: Phones;

  beforeAll(async () => {
    await proxy.start();
    const proxied = new URL(databaseUrl);
    proxied.port = String(proxy.port);
    app = await buildTestApp({ databaseUrl: proxied.toString() }, { telephony: true });
    await app.ari.waitUntilConnected(15_000);
    carrier = new AriPeer(inject('asteriskCarrier'), 'carrier');
    await carrier.connect();
    await ensureTestTrunk(new AriPeer(inject('asteriskMain'), 'unused'));
    phones = new Phones(carrier);
  });

  afterAll(async () => {
    carrier?.close();
    await app?.close();
    await proxy.stop();
    await db.destroy();
  });

  async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('routes from memory, keeps CDRs in the outbox and replays them once', async () => {
    const tenantId = (await createTenant(db)).id;
    const agent = await createAgent(db, new AriPeer(inject('asteriskMain'), 'unused'), inject('asteriskCarrier').sipPort, tenantId);
    const queueId = await createQueue(db, tenantId, { members: [{ userId: agent.id }] });
    const did = await createDid(db, tenantId, { type: 'queue', id: queueId });
    const supervisor = await createUser(db, tenantId, 'supervisor');
    const res = await app.inject({ method: 'PUT', url: `/api/v1/agents/${agent.id}/state`, headers: bearer(await tokenFor(app, supervisor)), payload: { status: 'available' } });
    expect(res.statusCode, res.body).toBe(200);

    // A call while MySQL is fine: its route, queue and members are now known.
    const first = await callDid(carrier, did, { from: '+15551110001' });
    const firstRing = await phones.ringing(agent.phone);
    await phones.answer(firstRing);
    await until('the first call connected', () => app.calls.activeCalls().find((c) => c.to === did && c.agent));

    await proxy.cut();
    expect((await app.inject({ url: '/readyz' })).json().error.details.checks.database.up).toBe(false);

    await phones.hangup(first);
    await phones.ended(firstRing);
    await until('CDR writes in the outbox', () => (app.cdrStore.backlog > 0 ? true : undefined));

    // A new call during the outage is still routed, queued, offered and answered.
    const second = await callDid(carrier, did, { from: '+15551110002' });
    const secondRing = await phones.ringing(agent.phone, 15_000);
    await phones.answer(secondRing);
    await until('the second call connected', () => app.calls.activeCalls().find((c) => c.from === '+15551110002' && c.agent));
    await phones.hangup(second);
    await phones.ended(secondRing);
    await app.calls.flush();
    const outboxLines = readFileSync(app.config.cdrOutboxFile, 'utf8').split('\n').filter(Boolean);
    expect(outboxLines.length).toBeGreaterThan(5);

    await proxy.restore();
    expect(await app.cdrStore.drained(15_000)).toBe(true);
    const rows = await db.selectFrom('calls').selectAll().where('toNumber', '=', did).orderBy('id').execute();
    expect(rows.map((r) => [r.fromNumber, r.state, r.hangupSide, r.agentUserId])).toEqual([
      ['+15551110001', 'ended', 'caller', agent.id],
      ['+15551110002', 'ended', 'caller', agent.id],
    ]);
    const eventsOf = async (id: number) =>
      (await db.selectFrom('callEvents').select(['type', 'seq']).where('callId', '=', id).orderBy('seq').execute()).map((e) => e.type);
    expect(await eventsOf(rows[0]!.id)).toEqual(['created', 'queued', 'offered', 'answered', 'ended']);
    expect(await eventsOf(rows[1]!.id)).toEqual(['created', 'queued', 'offered', 'answered', 'ended']);

    // Replaying the same writes again (a crash in the middle of a replay) changes nothing.
    const before = await db.selectFrom('callEvents').select((eb) => eb.fn.countAll().as('n')).where('tenantId', '=', tenantId).executeTakeFirst();
    appendFileSync(app.config.cdrOutboxFile, `${outboxLines.join('\n')}\n`);
    const replayAgain = new CdrStore(db, app.log, app.config.cdrOutboxFile);
    expect(await replayAgain.drained(15_000)).toBe(true);
    replayAgain.close();
    const after = await db.selectFrom('callEvents').select((eb) => eb.fn.countAll().as('n')).where('tenantId', '=', tenantId).executeTakeFirst();
    expect(Number(after?.n)).toBe(Number(before?.n));
    expect(await db.selectFrom('calls').select('id').where('toNumber', '=', did).execute()).toHaveLength(2);
  });
});
