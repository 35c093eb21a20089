/**
 * Supervisors on live calls, heard on the real PBX: listen (the supervisor hears both sides and
 * nobody hears them), whisper (only the agent hears them), barge (everyone hears everyone). The
 * customer says 440 Hz, the agent 700 Hz and the supervisor 1000 Hz, so each recording tells who
 * reached whom.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallHarness, until, type ConnectedCall } from '../support/call-harness.ts';
import { bearer, createTenant, createUser, tokenFor } from '../support/fixtures.ts';
import type { TestAgent } from '../support/telephony-fixtures.ts';
import { toneLevel } from '../support/tone.ts';

const HEARD = 0.05;
const SILENT = 0.01;

describe('supervisor monitoring', () => {
  const h = new CallHarness();
  let supervisor: TestAgent;
  let token: string;
  beforeAll(async () => {
    await h.start();
    supervisor = await h.agent({ role: 'supervisor' });
    token = await tokenFor(h.app, supervisor);
  });
  afterAll(() => h.stop());

  /** A connected call where the customer and the agent both talk all the time. */
  async function talkingCall(): Promise<ConnectedCall & { stop: () => Promise<void> }> {
    const call = await h.connect(await h.agent());
    const customer = await h.phones.talk(call.outside, 'tone:440');
    const agent = await h.phones.talk(call.agentPhone, 'tone:700');
    return {
      ...call,
      stop: async () => Promise.all([customer.stop(), agent.stop()]).then(() => undefined),
    };
  }

  /** Starts (or switches) monitoring; answers the supervisor's phone the first time. */
  async function monitor(call: ConnectedCall, mode: string, phone?: string): Promise<string> {
    const res = await h.post(token, `/live-calls/${call.callId}/monitor`, { mode });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ supervisorUserId: supervisor.id, mode });
    const leg = phone ?? (await h.phones.ringing(supervisor.phone));
    if (!phone) await h.phones.answer(leg);
    await until('the supervisor to be connected', async () => {
      const session = h.app.monitor.list(call.callId)[0];
      if (!session?.answered) return undefined;
      const bridges = await h.app.telephony.listBridges();
      if (mode === 'barge')
        return (
          bridges.find((b) => b.id === h.app.calls.getCall(h.tenantId, call.callId)?.bridgeId)
            ?.channels.length === 3 || undefined
        );
      return (
        bridges.find((b) => b.name === `monitor-${session.id}`)?.channels.length === 2 || undefined
      );
    });
    return leg;
  }

  it('lets a supervisor listen to both sides without being heard', async () => {
    const call = await talkingCall();
    const phone = await monitor(call, 'listen');
    const voice = await h.phones.talk(phone, 'tone:1000');
    const [supervisorHears, agentHears, customerHears] = await Promise.all([
      h.phones.hear(phone),
      h.phones.hear(call.agentPhone),
      h.phones.hear(call.outside),
    ]);
    expect(toneLevel(supervisorHears, 440)).toBeGreaterThan(HEARD);
    expect(toneLevel(supervisorHears, 700)).toBeGreaterThan(HEARD);
    expect(toneLevel(agentHears, 1000)).toBeLessThan(SILENT);
    expect(toneLevel(customerHears, 1000)).toBeLessThan(SILENT);
    expect(toneLevel(agentHears, 440)).toBeGreaterThan(HEARD); // the call itself goes on

    // The supervisor hangs up: monitoring is over, the call is not.
    await voice.stop();
    await h.phones.hangup(phone);
    await until('the session to end', async () =>
      h.app.monitor.list(call.callId).length === 0 ? true : undefined,
    );
    await h.bridged(call.callId, 2);
    await call.stop();
    await h.phones.hangup(call.outside);
    const types = (await h.events(call.callId)).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['monitor_requested', 'monitor_started', 'monitor_stopped']),
    );
  });

  it('lets a supervisor whisper to the agent only', async () => {
    const call = await talkingCall();
    const phone = await monitor(call, 'whisper');
    const voice = await h.phones.talk(phone, 'tone:1000');
    const [supervisorHears, agentHears, customerHears] = await Promise.all([
      h.phones.hear(phone),
      h.phones.hear(call.agentPhone),
      h.phones.hear(call.outside),
    ]);
    expect(toneLevel(agentHears, 1000)).toBeGreaterThan(HEARD);
    expect(toneLevel(customerHears, 1000)).toBeLessThan(SILENT);
    expect(toneLevel(supervisorHears, 440)).toBeGreaterThan(HEARD);
    await voice.stop();

    const stop = await h.app.inject({
      method: 'DELETE',
      url: `/api/v1/live-calls/${call.callId}/monitor`,
      headers: bearer(token),
    });
    expect(stop.statusCode).toBe(204);
    await h.phones.ended(phone);
    await call.stop();
    await h.phones.hangup(call.outside);
  });

  it('lets a supervisor barge in, switching from listening, so everyone hears them', async () => {
    const call = await talkingCall();
    const phone = await monitor(call, 'listen');
    await monitor(call, 'barge', phone);
    const voice = await h.phones.talk(phone, 'tone:1000');
    const [supervisorHears, agentHears, customerHears] = await Promise.all([
      h.phones.hear(phone),
      h.phones.hear(call.agentPhone),
      h.phones.hear(call.outside),
    ]);
    expect(toneLevel(agentHears, 1000)).toBeGreaterThan(HEARD);
    expect(toneLevel(customerHears, 1000)).toBeGreaterThan(HEARD);
    expect(toneLevel(supervisorHears, 440)).toBeGreaterThan(HEARD);
    await voice.stop();

    // The call ends: so does the supervisor's leg.
    await h.phones.hangup(call.outside);
    await h.phones.ended(phone);
    await call.stop();
    const events = await h.events(call.callId);
    expect(events.find((e) => e.type === 'monitor_mode')?.data).toMatchObject({
      from: 'listen',
      to: 'barge',
    });
  });

  it("lets only supervisors monitor, and only their own tenant's calls", async () => {
    const call = await h.connect(await h.agent());
    const agentToken = await tokenFor(h.app, call.agent);
    expect(
      (await h.post(agentToken, `/live-calls/${call.callId}/monitor`, { mode: 'listen' }))
        .statusCode,
    ).toBe(403);
    const other = await createTenant(h.db);
    const stranger = await tokenFor(h.app, await createUser(h.db, other.id, 'supervisor'));
    expect(
      (await h.post(stranger, `/live-calls/${call.callId}/monitor`, { mode: 'listen' })).statusCode,
    ).toBe(404);
    expect(
      (await h.post(token, `/live-calls/${call.callId}/monitor`, { mode: 'shout' })).statusCode,
    ).toBe(400);
    // A supervisor without a phone cannot listen.
    const phoneless = await tokenFor(h.app, await createUser(h.db, h.tenantId, 'supervisor'));
    expect(
      (await h.post(phoneless, `/live-calls/${call.callId}/monitor`, { mode: 'listen' }))
        .statusCode,
    ).toBe(409);
    await h.phones.hangup(call.outside);
  });
});
