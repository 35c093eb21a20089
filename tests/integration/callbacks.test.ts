/**
 * Callback instead of waiting, on the real PBX: a queued caller presses the queue's digit and
 * hangs up, keeping their place; when their turn comes the agent hears ringing while the PBX
 * calls them back through the tenant's trunk (the carrier plays the customer). Abandoned calls
 * past the queue's threshold become callback tasks too; tasks survive a control-plane restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/app.ts';
import { CallHarness, until } from '../support/call-harness.ts';
import { callDid } from '../support/carrier.ts';
import { bearer } from '../support/fixtures.ts';
import { createDid, createQueue, createTrunk } from '../support/telephony-fixtures.ts';
import { toneLevel } from '../support/tone.ts';

let numbers = 0;
/** A customer number unique to this run (the carrier rings it by name when the PBX calls back). */
const customer = () => `+1555${String(process.pid % 1000).padStart(3, '0')}6${String(++numbers).padStart(3, '0')}`;

describe('callbacks', () => {
  const h = new CallHarness();

  beforeAll(async () => {
    await h.start();
    await createTrunk(h.db, h.main, h.carrierSip, h.tenantId, { callerIdPolicy: 'fixed', callerIdNumber: '+15550100000' });
  });
  afterAll(() => h.stop());

  const task = (id: number) => h.db.selectFrom('callbacks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const tasksFrom = (linkedid: string) =>
    h.db.selectFrom('callbacks').selectAll().where('originLinkedid', '=', linkedid).executeTakeFirst();
  const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
    h.app.inject({ method, url: `/api/v1${url}`, headers: bearer(h.supervisorToken), ...(payload ? { payload } : {}) });

  async function queuedCall(did: string, from: string) {
    const outside = await callDid(h.carrier, did, { from });
    await h.phones.answeredByPbx(outside);
    const call = await until('the caller to queue', async () =>
      h.app.calls.activeCalls().find((c) => c.to === did && c.from === from && c.status === 'queued'),
    );
    return { outside, callId: call.id };
  }

  it('keeps the place of a caller who presses the digit and calls them back through the trunk', async () => {
    const agent = await h.agent();
    const queueId = await createQueue(h.db, h.tenantId, { members: [{ userId: agent.id }], maxWaitSeconds: 300 });
    await h.db.updateTable('queues').set({ callbackEnabled: 1, callbackDigit: '1' }).where('id', '=', queueId).execute();
    const did = await createDid(h.db, h.tenantId, { type: 'queue', id: queueId });
    await h.setState(agent, 'away');

    const [first, second] = [customer(), customer()];
    const a = await queuedCall(did, first);
    const b = await queuedCall(did, second);

    // The first caller asks for a callback: thanked, hung up, and their place kept.
    await h.carrier.request('POST', `/channels/${a.outside}/dtmf`, { dtmf: '1' });
    expect((await h.phones.ended(a.outside, 15_000)).cause).toBe(16);
    const requested = await until('the callback task', () => tasksFrom(a.callId));
    expect(requested).toMatchObject({ status: 'waiting', reason: 'requested', number: first, queueId, tenantId: h.tenantId });
    // The callback in the caller's place, the second caller behind it.
    await until('the callback and the second caller queued', async () => (h.app.calls.queueDepth(queueId) === 2 ? true : undefined));
    expect(h.app.callbacks.position(requested.id)).toBe(1);
    const original = await h.ended(a.callId);
    expect(original).toMatchObject({ disposition: 'callback_requested', hangupSide: 'system' });
    expect((await h.events(a.callId)).map((e) => e.type)).toContain('callback_requested');
    const listed = await api('GET', `/callbacks?status=waiting&queueId=${queueId}`);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items).toEqual([expect.objectContaining({ id: requested.id, position: 1, originLinkedid: a.callId })]);

    // Their turn comes before the caller who stayed on the line: the agent is offered it first.
    await h.setState(agent, 'available');
    const agentLeg = await h.phones.ringing(agent.phone);
    const offered = h.carrier.eventsFor(agentLeg).find((e) => e.type === 'StasisStart');
    expect((offered?.channel as { caller: { number: string } }).caller.number).toBe(first);
    expect(h.app.calls.activeCalls().find((c) => c.id === b.callId)?.offers.size).toBe(0);
    await h.phones.answer(agentLeg);

    // The customer's phone rings from the tenant's number; they answer and talk to the agent.
    const back = await h.phones.ringing(first, 15_000);
    const start = h.carrier.eventsFor(back).find((e) => e.type === 'StasisStart');
    expect((start?.channel as { caller: { number: string } }).caller.number).toBe('+15550100000');
    expect(await task(requested.id)).toMatchObject({ status: 'dialing', attempts: 1, agentUserId: agent.id });
    await h.phones.answer(back);
    const live = await until('the callback to connect', async () => h.app.calls.activeCalls().find((c) => c.callback?.taskId === requested.id && c.callback.customerAnswered));
    await h.bridged(live.id, 2);
    const voice = await h.phones.talk(agentLeg, 'tone:440');
    expect(toneLevel(await h.phones.hear(back, 1), 440)).toBeGreaterThan(0.05);
    await voice.stop();
    expect(await task(requested.id)).toMatchObject({ status: 'completed', callbackLinkedid: live.id });

    await h.phones.hangup(back);
    const row = await h.ended(live.id);
    expect(row).toMatchObject({ direction: 'outbound', toNumber: first, fromNumber: '+15550100000', queueId, agentUserId: agent.id, hangupSide: 'caller' });
    expect(row.answeredAt).not.toBeNull();
    // The wait counts from when the customer first joined the queue.
    expect(row.waitMs).toBeGreaterThan(row.answeredAt!.getTime() - row.startedAt.getTime());
    expect((await h.events(live.id)).map((e) => e.type)).toEqual(['created', 'callback', 'answered', 'ended']);

    // The caller who stayed is next.
    const next = await h.phones.ringing(agent.phone);
    const nextStart = h.carrier.eventsFor(next).find((e) => e.type === 'StasisStart');
    expect((nextStart?.channel as { caller: { number: string } }).caller.number).toBe(second);
    await h.phones.hangup(b.outside);
    await h.phones.ended(next);
    await h.ended(b.callId);
  });

  it('turns a call abandoned after the threshold into a callback, retried when the customer does not answer', async () => {
    const agent = await h.agent();
    const queueId = await createQueue(h.db, h.tenantId, { members: [{ userId: agent.id }], maxWaitSeconds: 300 });
    await h.db.updateTable('queues').set({ abandonCallbackSeconds: 1 }).where('id', '=', queueId).execute();
    const did = await createDid(h.db, h.tenantId, { type: 'queue', id: queueId });
    await h.setState(agent, 'away');

    // One caller gives up at once (under the threshold), another after waiting.
    const quick = await queuedCall(did, customer());
    await h.phones.hangup(quick.outside);
    expect(await h.ended(quick.callId)).toMatchObject({ disposition: 'abandoned' });
    const number = customer();
    const patient = await queuedCall(did, number);
    await new Promise((r) => setTimeout(r, 1_300));
    await h.phones.hangup(patient.outside);
    expect(await h.ended(patient.callId)).toMatchObject({ disposition: 'abandoned' });
    const abandoned = await until('the callback task', () => tasksFrom(patient.callId));
    expect(abandoned).toMatchObject({ reason: 'abandoned', status: 'waiting', number });
    expect(await tasksFrom(quick.callId)).toBeUndefined();

    // The customer is busy when called back: the task waits for its retry, the agent moves on.
    await h.setState(agent, 'available');
    const agentLeg = await h.phones.ringing(agent.phone);
    await h.phones.answer(agentLeg);
    const back = await h.phones.ringing(number, 15_000);
    await h.phones.hangup(back, 'busy');
    await h.phones.ended(agentLeg);
    const retry = await until('the retry to be planned', async () => {
      const t = await task(abandoned.id);
      return t.status === 'waiting' ? t : undefined;
    });
    expect(retry.attempts).toBe(1);
    expect(retry.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() + 60_000);
    const attempt = await h.ended(retry.callbackLinkedid!);
    expect(attempt).toMatchObject({ disposition: 'callback_busy', direction: 'outbound', answeredAt: null });
    expect(h.app.calls.waitingCallback(abandoned.id)).toBeUndefined();

    // A supervisor cancels it; cancelling again is a conflict.
    const cancelled = await api('POST', `/callbacks/${abandoned.id}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
    expect((await api('POST', `/callbacks/${abandoned.id}/cancel`)).statusCode).toBe(409);
  });

  it('takes a callback for another number (the widget\'s visitor) in the caller\'s place, and refuses one that cannot be dialled', async () => {
    const agent = await h.agent();
    const queueId = await createQueue(h.db, h.tenantId, { members: [{ userId: agent.id }], maxWaitSeconds: 300 });
    const did = await createDid(h.db, h.tenantId, { type: 'queue', id: queueId });
    await h.setState(agent, 'away');
    const waiting = await queuedCall(did, customer());
    const call = h.app.calls.getCall(h.tenantId, waiting.callId)!;

    expect(await h.app.calls.requestCallback(call, 'not a number', 'web')).toBe(false);
    expect(h.app.calls.getCall(h.tenantId, waiting.callId)?.status).toBe('queued');

    const number = customer();
    expect(await h.app.calls.requestCallback(call, number, 'web')).toBe(true);
    await h.phones.ended(waiting.outside);
    const task = await until('the callback task', () => tasksFrom(waiting.callId));
    expect(task).toMatchObject({ reason: 'web', number, status: 'waiting' });
    expect(h.app.callbacks.position(task.id)).toBe(1);
    expect((await api('POST', `/callbacks/${task.id}/cancel`)).statusCode).toBe(200);
  });

  it('keeps scheduled callbacks across a restart, in order, and refuses bad input by field', async () => {
    const agent = await h.agent();
    const queueId = await createQueue(h.db, h.tenantId, { members: [{ userId: agent.id }] });
    await h.setState(agent, 'away');

    const bad = await api('POST', '/callbacks', { queueId, number: 'call me' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details).toEqual([expect.objectContaining({ field: expect.stringMatching(/number/) })]);
    const otherQueue = await api('POST', '/callbacks', { queueId: 999_999_999, number: '+15551234567' });
    expect(otherQueue.statusCode).toBe(400);
    expect(otherQueue.json().error.details).toEqual([expect.objectContaining({ field: 'queueId' })]);

    const ids: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await api('POST', '/callbacks', { queueId, number: customer() });
      expect(res.statusCode, res.body).toBe(201);
      ids.push(res.json().id);
    }
    await until('both in the queue', async () => (h.app.calls.queueDepth(queueId) === 2 ? true : undefined));

    // The control plane goes away and comes back: the tasks are loaded into the queue again.
    await h.app.close();
    h.app = await buildTestApp({}, { telephony: true });
    await h.app.ari.waitUntilConnected(15_000);
    await until('the tasks to be back', async () => (h.app.calls.queueDepth(queueId) === 2 ? true : undefined));
    expect(ids.map((id) => h.app.callbacks.position(id))).toEqual([1, 2]);

    for (const id of ids) expect((await api('POST', `/callbacks/${id}/cancel`)).statusCode).toBe(200);
    expect(h.app.calls.queueDepth(queueId)).toBe(0);
  });
});
