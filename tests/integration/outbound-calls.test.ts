/**
 * Calls agents place, on the real PBX: from their desk phone (which the PBX identifies by its SIP
 * user) to an outside number through the tenant's trunk with the caller ID its policy gives, to a
 * colleague's extension, refused when the agent may not call out; and click-to-call, which rings
 * the agent's own phone first. The carrier plays the phones and the outside world.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallHarness, until } from '../support/call-harness.ts';
import { dialFromPhone, sipHeader } from '../support/carrier.ts';
import { bearer, createUser, tokenFor } from '../support/fixtures.ts';
import { createTrunk } from '../support/telephony-fixtures.ts';
import { toneLevel } from '../support/tone.ts';

const HEARD = 0.05;
let numbers = 0;
/** An outside number unique to this run (the carrier rings it by name). */
const outsideNumber = () =>
  `+1555${String(process.pid % 1000).padStart(3, '0')}9${String(++numbers).padStart(3, '0')}`;

describe('calls agents place', () => {
  const h = new CallHarness();
  let agentDid: string;
  let extensions = 100;
  const extension = () => String(++extensions + Math.floor(Math.random() * 800) * 1000);

  beforeAll(async () => {
    await h.start();
    // Caller ID "agent": the DID routed to the agent, else the tenant's default (its first DID).
    await createTrunk(h.db, h.main, h.carrierSip, h.tenantId, { callerIdPolicy: 'agent' });
    agentDid = `+1555${String(process.pid % 1000).padStart(3, '0')}8000`;
    await h.db
      .insertInto('dids')
      .values({
        tenantId: h.tenantId,
        number: agentDid,
        targetType: 'hangup',
        targetId: null,
        targetValue: null,
      })
      .execute();
  });
  afterAll(() => h.stop());

  async function liveCallTo(number: string) {
    return until(`the call to ${number}`, async () =>
      h.app.calls.activeCalls().find((c) => c.to === number && c.agent?.answered && c.bridgeId),
    );
  }

  it("places an outbound call from an agent's phone through the trunk with the agent's own DID as caller ID", async () => {
    const agent = await h.agent({ extension: extension() });
    const own = outsideNumber().replace(/9(\d{3})$/, '7$1');
    await h.db
      .insertInto('dids')
      .values({
        tenantId: h.tenantId,
        number: own,
        targetType: 'user',
        targetId: agent.id,
        targetValue: null,
      })
      .execute();
    await h.setState(agent, 'available');
    const number = outsideNumber();

    const phone = await dialFromPhone(h.carrier, agent.phone, number);
    const far = await h.phones.ringing(number);
    const start = h.carrier.eventsFor(far).find((e) => e.type === 'StasisStart');
    expect((start?.channel as { caller: { number: string } }).caller.number).toBe(own);
    // Only trunk callers get a call id header from the dialplan: none goes out on an agent's call.
    expect(await sipHeader(h.carrier, far, 'X-Calldock-Offer')).toBe('');
    expect(await h.agentStatus(agent)).toBe('on_call'); // no queue call rings them meanwhile
    await h.phones.answer(far);
    const call = await liveCallTo(number);
    await h.phones.answeredByPbx(phone);
    await h.bridged(call.id, 2);
    const voice = await h.phones.talk(phone, 'tone:440');
    expect(toneLevel(await h.phones.hear(far, 1), 440)).toBeGreaterThan(HEARD);
    await voice.stop();
    expect(await h.cdr(call.id)).toMatchObject({
      direction: 'outbound',
      state: 'answered',
      agentUserId: agent.id,
      fromNumber: own,
      toNumber: number,
    });

    await h.phones.hangup(far);
    await h.phones.ended(phone);
    const row = await h.ended(call.id);
    expect(row).toMatchObject({
      direction: 'outbound',
      channelKind: 'pstn',
      hangupSide: 'caller',
      agentUserId: agent.id,
    });
    expect(row.answeredAt).not.toBeNull();
    await h.untilStatus(agent, 'available');
    expect((await h.events(call.id)).map((e) => e.type)).toEqual([
      'created',
      'dialled',
      'answered',
      'ended',
    ]);
  });

  it("presents the tenant's default number for an agent without a DID of their own", async () => {
    const agent = await h.agent();
    const number = outsideNumber();
    const phone = await dialFromPhone(h.carrier, agent.phone, number);
    const far = await h.phones.ringing(number);
    const start = h.carrier.eventsFor(far).find((e) => e.type === 'StasisStart');
    const first = await h.db
      .selectFrom('dids')
      .select('number')
      .where('tenantId', '=', h.tenantId)
      .orderBy('id')
      .executeTakeFirstOrThrow();
    expect((start?.channel as { caller: { number: string } }).caller.number).toBe(first.number);
    // The far end is busy: the agent's phone hears it.
    await h.phones.hangup(far, 'busy');
    expect((await h.phones.ended(phone)).cause).toBe(17);
    const row = await until('the CDR', async () => {
      await h.app.calls.flush();
      const r = await h.db
        .selectFrom('calls')
        .selectAll()
        .where('toNumber', '=', number)
        .executeTakeFirst();
      return r?.state === 'ended' ? r : undefined;
    });
    expect(row).toMatchObject({
      direction: 'outbound',
      disposition: 'busy',
      answeredAt: null,
      agentUserId: agent.id,
    });
  });

  it('rings a colleague for their extension and writes an internal call', async () => {
    const [caller, callee] = [
      await h.agent({ extension: extension() }),
      await h.agent({ extension: extension() }),
    ];
    await h.setState(caller, 'available');
    await h.setState(callee, 'available');
    const phone = await dialFromPhone(h.carrier, caller.phone, callee.extension!);
    const ring = await h.phones.ringing(callee.phone);
    const start = h.carrier.eventsFor(ring).find((e) => e.type === 'StasisStart');
    expect((start?.channel as { caller: { number: string } }).caller.number).toBe(caller.extension);
    // No call id header (the dialler's channel id is not the call's).
    expect(await sipHeader(h.carrier, ring, 'X-Calldock-Offer')).toBe('');
    expect(await h.agentStatus(callee)).toBe('ringing');
    await h.phones.answer(ring);
    const call = await liveCallTo(callee.extension!);
    await h.phones.answeredByPbx(phone);
    expect(await h.agentStatus(caller)).toBe('on_call');
    expect(await h.agentStatus(callee)).toBe('on_call');
    await h.bridged(call.id, 2);
    const voice = await h.phones.talk(ring, 'tone:440');
    expect(toneLevel(await h.phones.hear(phone, 1), 440)).toBeGreaterThan(HEARD);
    await voice.stop();

    await h.phones.hangup(phone);
    await h.phones.ended(ring);
    const row = await h.ended(call.id);
    expect(row).toMatchObject({
      direction: 'internal',
      channelKind: 'internal',
      fromNumber: caller.extension,
      toNumber: callee.extension,
      agentUserId: callee.id,
      hangupSide: 'caller',
    });
    await h.untilStatus(caller, 'available');
    await h.untilStatus(callee, 'available');
  });

  it('refuses an outside number to an agent who may not call out, with a cause and a CDR row', async () => {
    const agent = await h.agent();
    await h.db
      .updateTable('users')
      .set({ outboundAllowed: 0 })
      .where('id', '=', agent.id)
      .execute();
    const number = outsideNumber();
    const phone = await dialFromPhone(h.carrier, agent.phone, number);
    expect((await h.phones.ended(phone)).cause).toBe(21);
    const row = await until('the CDR', async () => {
      await h.app.calls.flush();
      const r = await h.db
        .selectFrom('calls')
        .selectAll()
        .where('toNumber', '=', number)
        .executeTakeFirst();
      return r?.state === 'ended' ? r : undefined;
    });
    expect(row).toMatchObject({
      direction: 'outbound',
      disposition: 'outbound_not_allowed',
      hangupSide: 'system',
      hangupCause: '21',
      agentUserId: agent.id,
    });
    const events = await h.events(row.linkedid);
    expect(events.map((e) => e.type)).toEqual(['created', 'refused', 'ended']);
    expect(events[1]!.data).toMatchObject({ reason: 'outbound_not_allowed' });
    // Nothing rang in the outside world.
    expect(h.carrier.eventsFor(phone).some((e) => e.type === 'StasisStart')).toBe(false);
  });

  it('denies international and premium-rate numbers by default, and dials those on the tenant\'s allow-list', async () => {
    const agent = await h.agent();
    const token = await tokenFor(h.app, agent);
    const international = `+4420${String(process.pid % 1000).padStart(3, '0')}${String(++numbers).padStart(5, '0')}`;

    // Premium-rate and international: refused before anything rings, with the reason.
    const premium = await h.post(token, '/calls/dial', { number: '+19005550123' });
    expect(premium.statusCode).toBe(403);
    expect(premium.json().error).toMatchObject({ code: 'OUTBOUND_REFUSED', message: expect.stringMatching(/premium-rate/) });
    const phone = await dialFromPhone(h.carrier, agent.phone, international);
    expect((await h.phones.ended(phone)).cause).toBe(21);
    const row = await until('the CDR', async () => {
      await h.app.calls.flush();
      const r = await h.db.selectFrom('calls').selectAll().where('toNumber', '=', international).executeTakeFirst();
      return r?.state === 'ended' ? r : undefined;
    });
    expect(row).toMatchObject({ direction: 'outbound', disposition: 'outbound_refused', hangupCause: '21' });
    expect((await h.events(row.linkedid))[1]!.data).toMatchObject({ reason: 'outbound_refused' });

    // The platform admin allows +44 for this tenant: the same number now goes out.
    const platform = await createUser(h.db, null, 'platform_admin');
    const ptoken = await tokenFor(h.app, platform);
    const tenant = await h.app.inject({ url: `/api/v1/tenants/${h.tenantId}`, headers: bearer(ptoken) });
    const patched = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/tenants/${h.tenantId}`,
      headers: { ...bearer(ptoken), 'if-match': tenant.headers.etag as string },
      payload: { dialing: { allowedPrefixes: ['+44'] } },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().dialing).toEqual({ homeCountryCode: '1', allowedPrefixes: ['+44'] });
    const bad = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/tenants/${h.tenantId}`,
      headers: { ...bearer(ptoken), 'if-match': patched.headers.etag as string },
      payload: { dialing: { allowedPrefixes: ['44 anything'] } },
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().error.details)).toMatch(/allowedPrefixes/);

    const again = await dialFromPhone(h.carrier, agent.phone, international);
    const far = await h.phones.ringing(international);
    await h.phones.hangup(far, 'busy');
    await h.phones.ended(again);
    // Premium stays denied: +44 does not lift +1900.
    expect((await h.post(token, '/calls/dial', { number: '+19005550123' })).statusCode).toBe(403);
  });

  it("click-to-call rings the agent's phone first, then dials the number", async () => {
    const agent = await h.agent();
    const token = await tokenFor(h.app, agent);
    const number = outsideNumber();
    const res = await h.post(token, '/calls/dial', { number });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toEqual({ number, kind: 'external' });
    const mine = await h.phones.ringing(agent.phone);
    await h.phones.answer(mine);
    const far = await h.phones.ringing(number);
    await h.phones.answer(far);
    const call = await liveCallTo(number);
    expect(call.agent?.userId).toBe(agent.id);
    await h.bridged(call.id, 2);
    const voice = await h.phones.talk(far, 'tone:440');
    expect(toneLevel(await h.phones.hear(mine, 1), 440)).toBeGreaterThan(HEARD);
    await voice.stop();
    await h.phones.hangup(mine);
    await h.phones.ended(far);
    expect(await h.ended(call.id)).toMatchObject({
      direction: 'outbound',
      hangupSide: 'agent',
      agentUserId: agent.id,
    });

    await h.db
      .updateTable('users')
      .set({ outboundAllowed: 0 })
      .where('id', '=', agent.id)
      .execute();
    const refused = await h.post(token, '/calls/dial', { number });
    expect(refused.statusCode).toBe(403);
    const list = await h.app.inject({
      url: '/api/v1/calls?direction=outbound&limit=50',
      headers: bearer(token),
    });
    expect(list.json().items.map((c: { linkedid: string }) => c.linkedid)).toContain(call.id);
  });
});
