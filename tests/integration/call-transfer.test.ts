/**
 * Moving a connected customer around, on the real PBX: hold heard as audio, blind transfers (to an
 * agent, a queue, an outside number) and attended transfers (consult, then complete or cancel).
 * The carrier plays the customer, the agents' phones and the outside world; audio checks record
 * what each phone hears there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallHarness, until } from '../support/call-harness.ts';
import { callDid } from '../support/carrier.ts';
import { createTenant, createUser, tokenFor } from '../support/fixtures.ts';
import { createDid, createQueue, createTrunk } from '../support/telephony-fixtures.ts';
import { toneLevel } from '../support/tone.ts';
import { rms } from '../support/wav.ts';

/** A recording holds this much of a tone the other party plays: clearly there. */
const HEARD = 0.05;
/** Below this the line is (near) silent. */
const SILENT = 0.01;

describe('call transfer and hold', () => {
  const h = new CallHarness();
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  it('plays music on hold to the customer while the agent hears nothing of them, and back on unhold', async () => {
    const agent = await h.agent();
    const call = await h.connect(agent);
    const token = await tokenFor(h.app, agent);
    // The customer talks all the time: a 440 Hz tone down their line.
    const customer = await h.phones.talk(call.outside, 'tone:440');

    const [agentBefore, customerBefore] = await Promise.all([
      h.phones.hear(call.agentPhone),
      h.phones.hear(call.outside),
    ]);
    expect(toneLevel(agentBefore, 440)).toBeGreaterThan(HEARD);
    expect(rms(customerBefore.samples)).toBeLessThan(SILENT); // the agent says nothing

    expect((await h.post(token, `/live-calls/${call.callId}/hold`)).statusCode).toBe(200);
    const [agentHeld, customerHeld] = await Promise.all([
      h.phones.hear(call.agentPhone),
      h.phones.hear(call.outside),
    ]);
    expect(rms(agentHeld.samples)).toBeLessThan(SILENT);
    expect(rms(customerHeld.samples)).toBeGreaterThan(HEARD); // music on hold
    expect(toneLevel(customerHeld, 440)).toBeLessThan(SILENT); // ...not their own voice back

    expect((await h.post(token, `/live-calls/${call.callId}/unhold`)).statusCode).toBe(200);
    const [agentAfter, customerAfter] = await Promise.all([
      h.phones.hear(call.agentPhone),
      h.phones.hear(call.outside),
    ]);
    expect(toneLevel(agentAfter, 440)).toBeGreaterThan(HEARD);
    expect(rms(customerAfter.samples)).toBeLessThan(SILENT);
    await customer.stop();
    await h.phones.hangup(call.outside);
    expect((await h.ended(call.callId)).holdMs).toBeGreaterThan(1_500);
  });

  it('blind-transfers to an agent: the first agent goes to wrap-up, the second rings, answers and keeps the CDR', async () => {
    const [first, second] = [await h.agent(), await h.agent()];
    const call = await h.connect(first, { queue: { wrapupSeconds: 30 } });
    await h.setState(second, 'available');
    const token = await tokenFor(h.app, first);

    const res = await h.post(token, `/live-calls/${call.callId}/transfer`, { userId: second.id });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      agentUserId: null,
      transfer: { kind: 'blind', target: { type: 'agent', userId: second.id }, answered: false },
    });
    await h.phones.ended(call.agentPhone);
    expect(await h.agentStatus(first)).toBe('wrap_up');
    expect((await h.cdr(call.callId))?.state).toBe('transferred');

    const ring = await h.phones.ringing(second.phone);
    expect(await h.agentStatus(second)).toBe('ringing');
    // While it rings the customer hears music, not silence.
    expect(rms((await h.phones.hear(call.outside, 1)).samples)).toBeGreaterThan(HEARD);
    await h.phones.answer(ring);
    await until('the second agent on the call', async () =>
      h.app.calls.getCall(h.tenantId, call.callId)?.agent?.userId === second.id ? true : undefined,
    );
    await h.bridged(call.callId, 2);
    const customer = await h.phones.talk(call.outside, 'tone:440');
    expect(toneLevel(await h.phones.hear(ring, 1), 440)).toBeGreaterThan(HEARD);
    await customer.stop();
    expect(await h.agentStatus(second)).toBe('on_call');

    await h.phones.hangup(call.outside);
    const row = await h.ended(call.callId);
    expect(row).toMatchObject({
      agentUserId: second.id,
      queueId: call.queueId,
      hangupSide: 'caller',
      direction: 'inbound',
    });
    const events = await h.events(call.callId);
    expect(events.map((e) => e.type)).toEqual([
      'created',
      'queued',
      'offered',
      'answered',
      'transferred',
      'transfer_answered',
      'ended',
    ]);
    expect(events.find((e) => e.type === 'transferred')?.data).toMatchObject({
      kind: 'blind',
      fromUserId: first.id,
      to: { type: 'agent', userId: second.id },
    });
    expect(
      await h.db.selectFrom('calls').select('id').where('toNumber', '=', call.did).execute(),
    ).toHaveLength(1);
  });

  it('sends a blind transfer nobody answers back into the queue, and the missed agent to not ready', async () => {
    const [first, second] = [await h.agent(), await h.agent()];
    const call = await h.connect(first, { queue: { ringTimeoutSeconds: 2 } });
    await h.setState(second, 'available');
    const res = await h.post(await tokenFor(h.app, first), `/live-calls/${call.callId}/transfer`, {
      userId: second.id,
    });
    expect(res.statusCode, res.body).toBe(200);
    const ring = await h.phones.ringing(second.phone);
    await h.phones.ended(ring, 8_000);
    // Back in its queue, where the first agent (free again: no wrap-up) is offered it anew.
    const again = await h.phones.ringing(first.phone, 8_000);
    expect(await h.agentStatus(second)).toBe('away');
    await h.phones.answer(again);
    await until('the first agent back on it', async () =>
      h.app.calls.getCall(h.tenantId, call.callId)?.agent?.userId === first.id ? true : undefined,
    );
    await h.phones.hangup(call.outside);
    await h.ended(call.callId);
    const types = (await h.events(call.callId)).map((e) => e.type);
    expect(types).toEqual([
      'created',
      'queued',
      'offered',
      'answered',
      'transferred',
      'transfer_failed',
      'queued',
      'offered',
      'answered',
      'ended',
    ]);
  });

  it('blind-transfers to a queue, where the customer keeps their original arrival ahead of later callers', async () => {
    const [first, second] = [await h.agent(), await h.agent()];
    const call = await h.connect(first);
    const target = await createQueue(h.db, h.tenantId, { members: [{ userId: second.id }] });
    await h.setState(second, 'away');
    // Someone who called the target queue after our customer first queued is waiting there.
    const laterDid = await createDid(h.db, h.tenantId, { type: 'queue', id: target });
    const later = await callDid(h.carrier, laterDid, { from: '+15550000009' });
    await until('the later caller to wait', async () =>
      h.app.calls.queueDepth(target) === 1 ? true : undefined,
    );

    const res = await h.post(await tokenFor(h.app, first), `/live-calls/${call.callId}/transfer`, {
      queueId: target,
    });
    expect(res.statusCode, res.body).toBe(200);
    await h.phones.ended(call.agentPhone);
    await until('both waiting', async () =>
      h.app.calls.queueDepth(target) === 2 ? true : undefined,
    );
    await h.setState(second, 'available');
    const ring = await h.phones.ringing(second.phone);
    const offered = await until('the offered call', async () =>
      h.app.calls.activeCalls().find((c) => c.offers.size > 0),
    );
    expect(offered.id).toBe(call.callId);
    await h.phones.answer(ring);
    await until('connected in the new queue', async () =>
      h.app.calls.getCall(h.tenantId, call.callId)?.agent?.userId === second.id ? true : undefined,
    );
    await h.phones.hangup(call.outside);
    await h.phones.hangup(later);
    const row = await h.ended(call.callId);
    expect(row).toMatchObject({ queueId: target, agentUserId: second.id });
    const transferred = (await h.events(call.callId)).find((e) => e.type === 'transferred');
    expect(transferred?.data).toMatchObject({
      kind: 'blind',
      to: { type: 'queue', queueId: target },
      fromUserId: first.id,
    });
  });

  it('blind-transfers to an outside number through the trunk with the DID as caller ID', async () => {
    const agent = await h.agent();
    await createTrunk(h.db, h.main, h.carrierSip, h.tenantId, { callerIdPolicy: 'did' });
    const call = await h.connect(agent);
    const number = '+15557770001';
    const res = await h.post(await tokenFor(h.app, agent), `/live-calls/${call.callId}/transfer`, {
      number,
    });
    expect(res.statusCode, res.body).toBe(200);
    const outsideParty = await h.phones.ringing(number);
    const ringEvent = h.carrier.eventsFor(outsideParty).find((e) => e.type === 'StasisStart');
    expect((ringEvent?.channel as { caller: { number: string } }).caller.number).toBe(call.did);
    await h.phones.answer(outsideParty);
    await h.bridged(call.callId, 2);
    const customer = await h.phones.talk(call.outside, 'tone:440');
    expect(toneLevel(await h.phones.hear(outsideParty, 1), 440)).toBeGreaterThan(HEARD);
    await customer.stop();

    await h.phones.hangup(outsideParty);
    await h.phones.ended(call.outside);
    const row = await h.ended(call.callId);
    expect(row).toMatchObject({
      agentUserId: agent.id,
      hangupSide: 'agent',
      disposition: 'transferred_out',
    });
  });

  it('consults an agent with the customer on hold, then hands the customer over', async () => {
    const [first, second] = [await h.agent(), await h.agent()];
    const call = await h.connect(first);
    await h.setState(second, 'available');
    const token = await tokenFor(h.app, first);
    const customer = await h.phones.talk(call.outside, 'tone:440');

    const res = await h.post(token, `/live-calls/${call.callId}/consult`, { userId: second.id });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      onHold: true,
      agentUserId: first.id,
      transfer: { kind: 'consult', answered: false },
    });
    expect((await h.post(token, `/live-calls/${call.callId}/consult/complete`)).statusCode).toBe(
      409,
    ); // not answered yet
    const ring = await h.phones.ringing(second.phone);
    await h.phones.answer(ring);
    await until('the consult to connect', async () =>
      h.app.transfers.state(call.callId)?.answered ? true : undefined,
    );

    // The agents talk; the customer hears music and nothing of them, the agents nothing of the customer.
    const colleague = await h.phones.talk(ring, 'tone:1000');
    const [firstHears, customerHears] = await Promise.all([
      h.phones.hear(call.agentPhone),
      h.phones.hear(call.outside),
    ]);
    expect(toneLevel(firstHears, 1000)).toBeGreaterThan(HEARD);
    expect(toneLevel(firstHears, 440)).toBeLessThan(SILENT);
    expect(rms(customerHears.samples)).toBeGreaterThan(HEARD);
    expect(toneLevel(customerHears, 1000)).toBeLessThan(SILENT);
    await colleague.stop();

    const done = await h.post(token, `/live-calls/${call.callId}/consult/complete`);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ onHold: false, agentUserId: second.id, transfer: null });
    await h.phones.ended(call.agentPhone);
    await h.bridged(call.callId, 2);
    expect(toneLevel(await h.phones.hear(ring, 1), 440)).toBeGreaterThan(HEARD);
    await customer.stop();
    expect(await h.agentStatus(first)).toBe('available');
    expect(await h.agentStatus(second)).toBe('on_call');

    await h.phones.hangup(ring);
    await h.phones.ended(call.outside);
    const row = await h.ended(call.callId);
    expect(row).toMatchObject({ agentUserId: second.id, hangupSide: 'agent' });
    const types = (await h.events(call.callId)).map((e) => e.type);
    expect(types).toEqual([
      'created',
      'queued',
      'offered',
      'answered',
      'consult_started',
      'held',
      'consult_answered',
      'transferred',
      'transfer_answered',
      'unheld',
      'ended',
    ]);
  });

  it('cancels a consult to an outside number and puts the agent back with the customer', async () => {
    const agent = await h.agent();
    await createTrunk(h.db, h.main, h.carrierSip, h.tenantId, {
      callerIdPolicy: 'fixed',
      callerIdNumber: '+15550001111',
    });
    const call = await h.connect(agent);
    const token = await tokenFor(h.app, agent);
    const number = '+15557770002';
    expect((await h.post(token, `/live-calls/${call.callId}/consult`, { number })).statusCode).toBe(
      200,
    );
    const outsideParty = await h.phones.ringing(number);
    await h.phones.answer(outsideParty);
    await until('the consult to connect', async () =>
      h.app.transfers.state(call.callId)?.answered ? true : undefined,
    );

    const res = await h.post(token, `/live-calls/${call.callId}/consult/cancel`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ onHold: false, agentUserId: agent.id, transfer: null });
    await h.phones.ended(outsideParty);
    await h.bridged(call.callId, 2);
    const customer = await h.phones.talk(call.outside, 'tone:440');
    expect(toneLevel(await h.phones.hear(call.agentPhone, 1), 440)).toBeGreaterThan(HEARD);
    await customer.stop();
    await h.phones.hangup(call.outside);
    const row = await h.ended(call.callId);
    expect(row.agentUserId).toBe(agent.id);
    expect((await h.events(call.callId)).map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'consult_started',
        'held',
        'consult_answered',
        'consult_cancelled',
        'unheld',
      ]),
    );
  });

  it('ends a consult the target declines, with the customer back on the line', async () => {
    const [first, second] = [await h.agent(), await h.agent()];
    const call = await h.connect(first);
    await h.setState(second, 'available');
    const token = await tokenFor(h.app, first);
    expect(
      (await h.post(token, `/live-calls/${call.callId}/consult`, { userId: second.id })).statusCode,
    ).toBe(200);
    const ring = await h.phones.ringing(second.phone);
    await h.phones.hangup(ring, 'busy');
    await until('the consult to end', async () =>
      h.app.transfers.state(call.callId) === null ? true : undefined,
    );
    await h.bridged(call.callId, 2);
    const live = h.app.calls.getCall(h.tenantId, call.callId)!;
    expect(live.holdStartedAt).toBeUndefined();
    expect(await h.agentStatus(second)).toBe('available');
    await h.phones.hangup(call.outside);
    const events = await h.events(call.callId);
    expect(events.find((e) => e.type === 'consult_ended')?.data).toMatchObject({
      answered: false,
      cause: 17,
    });
  });

  it('completes an answered consult when the consulting agent hangs up', async () => {
    const [first, second] = [await h.agent(), await h.agent()];
    const call = await h.connect(first);
    await h.setState(second, 'available');
    const token = await tokenFor(h.app, first);
    expect(
      (await h.post(token, `/live-calls/${call.callId}/consult`, { userId: second.id })).statusCode,
    ).toBe(200);
    const ring = await h.phones.ringing(second.phone);
    await h.phones.answer(ring);
    await until('the consult to connect', async () =>
      h.app.transfers.state(call.callId)?.answered ? true : undefined,
    );
    await h.phones.hangup(call.agentPhone);
    await until('the second agent to have the call', async () =>
      h.app.calls.getCall(h.tenantId, call.callId)?.agent?.userId === second.id ? true : undefined,
    );
    await h.bridged(call.callId, 2);
    expect(h.app.calls.getCall(h.tenantId, call.callId)?.holdStartedAt).toBeUndefined();
    await h.phones.hangup(call.outside);
    await h.phones.ended(ring);
    expect(await h.ended(call.callId)).toMatchObject({
      agentUserId: second.id,
      hangupSide: 'caller',
    });
    const transferred = (await h.events(call.callId)).find((e) => e.type === 'transferred');
    expect(transferred?.data).toMatchObject({ kind: 'attended', fromUserId: first.id });
    expect(transferred?.data.byUserId).toBeUndefined();
  });

  it("refuses transfers it cannot do, and another tenant's call is not found", async () => {
    const [first, busy] = [await h.agent(), await h.agent()];
    const call = await h.connect(first);
    const token = await tokenFor(h.app, first);
    const path = `/live-calls/${call.callId}/transfer`;
    const twoTargets = await h.post(token, path, { userId: busy.id, queueId: call.queueId });
    expect(twoTargets.statusCode).toBe(400);
    expect(twoTargets.json().error.details.map((d: { field: string }) => d.field)).toEqual([
      'userId',
      'queueId',
    ]);
    expect((await h.post(token, path, {})).statusCode).toBe(400);
    expect((await h.post(token, path, { queueId: 999_999 })).statusCode).toBe(400);
    const other = await createTenant(h.db);
    const stranger = await createUser(h.db, other.id, 'agent');
    expect((await h.post(token, path, { userId: stranger.id })).statusCode).toBe(400);
    expect((await h.post(token, path, { userId: busy.id })).statusCode).toBe(409); // not available
    await h.db
      .updateTable('users')
      .set({ outboundAllowed: 0 })
      .where('id', '=', first.id)
      .execute();
    const outside = await h.post(token, path, { number: '+15557770003' });
    expect(outside.statusCode).toBe(403);
    expect(outside.json().error.code).toBe('OUTBOUND_NOT_ALLOWED');
    const otherAdmin = await createUser(h.db, other.id, 'supervisor');
    expect(
      (await h.post(await tokenFor(h.app, otherAdmin), path, { queueId: call.queueId })).statusCode,
    ).toBe(404);
    await h.phones.hangup(call.outside);
  });
});
