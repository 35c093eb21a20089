/**
 * One tenant's call center on the test PBX, for tests that connect calls and then do things to
 * them: the control plane (holding the telephony lock), the carrier with the agents' phones, and
 * the small steps every such test repeats (an agent available, a customer connected to them,
 * waiting for a state or a CDR row).
 */
import { inject } from 'vitest';
import { createDatabase, type Db } from '../../control/src/db/database.ts';
import { AriPeer } from './ari-peer.ts';
import { buildTestApp } from './app.ts';
import { callDid, ensureTestTrunk } from './carrier.ts';
import { bearer, createTenant, createUser, tokenFor, type TestUser } from './fixtures.ts';
import {
  Phones,
  createAgent,
  createDid,
  createQueue,
  type TestAgent,
} from './telephony-fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

export interface ConnectedCall {
  /** The PBX-side id of the call (the customer's channel there). */
  callId: string;
  /** The customer's channel on the carrier. */
  outside: string;
  /** The agent's phone's channel on the carrier. */
  agentPhone: string;
  agent: TestAgent;
  queueId: number;
  did: string;
}

export class CallHarness {
  app!: App;
  carrier!: AriPeer;
  main!: AriPeer;
  phones!: Phones;
  tenantId!: number;
  supervisor!: TestUser;
  supervisorToken!: string;
  readonly db: Db = createDatabase(inject('databaseUrl'), { connectionLimit: 2 });
  readonly carrierSip = inject('asteriskCarrier').sipPort;

  async start(overrides: Parameters<typeof buildTestApp>[0] = {}): Promise<this> {
    this.app = await buildTestApp(overrides, { telephony: true });
    await this.app.ari.waitUntilConnected(15_000);
    this.carrier = new AriPeer(inject('asteriskCarrier'), 'carrier');
    await this.carrier.connect();
    this.main = new AriPeer(inject('asteriskMain'), 'unused');
    await ensureTestTrunk(this.main);
    this.phones = new Phones(this.carrier);
    this.tenantId = (await createTenant(this.db)).id;
    this.supervisor = await createUser(this.db, this.tenantId, 'supervisor');
    this.supervisorToken = await tokenFor(this.app, this.supervisor);
    return this;
  }

  async stop(): Promise<void> {
    this.carrier?.close();
    await this.app?.close();
    await this.db.destroy();
  }

  agent(values: Parameters<typeof createAgent>[4] = {}): Promise<TestAgent> {
    return createAgent(this.db, this.main, this.carrierSip, this.tenantId, values);
  }

  async setState(user: TestUser, status: 'available' | 'away' | 'offline'): Promise<void> {
    const res = await this.app.inject({
      method: 'PUT',
      url: `/api/v1/agents/${user.id}/state`,
      headers: bearer(this.supervisorToken),
      payload: { status },
    });
    if (res.statusCode !== 200) throw new Error(`agent state: ${res.statusCode} ${res.body}`);
  }

  async agentStatus(user: TestUser): Promise<string> {
    await this.app.agents.get(user.id);
    return this.app.agents.peek(user.id)!.state.status;
  }

  async untilStatus(user: TestUser, status: string, timeoutMs = 10_000): Promise<void> {
    await until(
      `user ${user.id} to be ${status}`,
      async () => ((await this.agentStatus(user)) === status ? true : undefined),
      timeoutMs,
    );
  }

  post(token: string, path: string, payload?: object) {
    return this.app.inject({
      method: 'POST',
      url: `/api/v1${path}`,
      headers: bearer(token),
      ...(payload ? { payload } : {}),
    });
  }

  /** The CDR row of a call, once every write so far has landed. */
  async cdr(linkedid: string) {
    await this.app.calls.flush();
    return this.db
      .selectFrom('calls')
      .selectAll()
      .where('linkedid', '=', linkedid)
      .executeTakeFirst();
  }

  async ended(linkedid: string) {
    return until('the CDR to close', async () => {
      const row = await this.cdr(linkedid);
      return row?.state === 'ended' ? row : undefined;
    });
  }

  async events(linkedid: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
    const row = await this.cdr(linkedid);
    if (!row) return [];
    const events = await this.db
      .selectFrom('callEvents')
      .select(['type', 'data'])
      .where('callId', '=', row.id)
      .orderBy('seq')
      .execute();
    return events.map((e) => ({
      type: e.type,
      data: (typeof e.data === 'string' ? JSON.parse(e.data) : e.data) as Record<string, unknown>,
    }));
  }

  /** Waits until the call's bridge on the PBX holds `count` channels. */
  async bridged(callId: string, count: number): Promise<string[]> {
    return until(`the call's bridge to hold ${count} channels`, async () => {
      const bridgeId = this.app.calls.activeCalls().find((c) => c.id === callId)?.bridgeId;
      const bridge = (await this.app.telephony.listBridges()).find((b) => b.id === bridgeId);
      return bridge && bridge.channels.length === count ? bridge.channels : undefined;
    });
  }

  /** A customer calls a queue's DID and `agent` (available, alone in the queue) answers. */
  async connect(
    agent: TestAgent,
    options: { queue?: Parameters<typeof createQueue>[2]; from?: string } = {},
  ): Promise<ConnectedCall> {
    const queueId = await createQueue(this.db, this.tenantId, {
      members: [{ userId: agent.id }],
      ...options.queue,
    });
    const did = await createDid(this.db, this.tenantId, { type: 'queue', id: queueId });
    await this.setState(agent, 'available');
    const outside = await callDid(this.carrier, did, { from: options.from ?? '+442079460000' });
    const agentPhone = await this.phones.ringing(agent.phone);
    await this.phones.answer(agentPhone);
    const callId = await until('the call to connect', async () => {
      const call = this.app.calls.activeCalls().find((c) => c.to === did);
      return call?.agent?.answered && call.bridgeId ? call.id : undefined;
    });
    await this.bridged(callId, 2);
    await this.phones.answeredByPbx(outside);
    return { callId, outside, agentPhone, agent, queueId, did };
  }
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
