/**
 * Every agent's live state, in memory (the ACD reads it on every decision) and in
 * `agent_state_log` (reports, and the state an agent had when the control plane restarts).
 *
 * All transitions go through `apply`, which is synchronous for the in-memory part: the ACD
 * reserves an agent (`offer`) in the same tick it chose them, so no other decision can see that
 * agent as available in between.
 */
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import type { CdrStore } from '../calls/cdr-store.ts';
import {
  AgentStatus,
  initialAgentState,
  transition,
  type AgentEvent,
  type AgentState,
} from '../calls/acd/agent-state.ts';

export interface AgentRecord {
  tenantId: number;
  userId: number;
  displayName: string;
  extension: string | null;
  /** Asterisk endpoint id of the agent's phone (softphone or desk phone), if any. */
  endpoint: string | null;
  state: AgentState;
  /** Calls answered since midnight UTC (fewest-calls strategy). */
  callsAnswered: number;
  countedDay: string;
}

export interface AgentStateChange {
  tenantId: number;
  userId: number;
  state: AgentState;
  previous: AgentStatus;
}

const today = () => new Date().toISOString().slice(0, 10);

export class AgentRegistry extends EventEmitter {
  private readonly agents = new Map<number, AgentRecord>();
  private readonly loading = new Map<number, Promise<AgentRecord | undefined>>();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly store: CdrStore,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.setMaxListeners(50);
  }

  /** The agent as already loaded (the ACD's synchronous view). */
  peek(userId: number): AgentRecord | undefined {
    return this.agents.get(userId);
  }

  /** Loads the agent (user, phone, last stored state) the first time it is needed. */
  async get(userId: number): Promise<AgentRecord | undefined> {
    const known = this.agents.get(userId);
    if (known) return known;
    let pending = this.loading.get(userId);
    if (!pending) {
      pending = this.load(userId).finally(() => this.loading.delete(userId));
      this.loading.set(userId, pending);
    }
    return pending;
  }

  /** Every record, when all are loaded already (the ACD's hot path: no promise per agent). */
  peekMany(userIds: readonly number[]): AgentRecord[] | undefined {
    const records: AgentRecord[] = [];
    for (const id of userIds) {
      const record = this.agents.get(id);
      if (!record) return undefined;
      records.push(record);
    }
    return records;
  }

  async getMany(userIds: readonly number[]): Promise<AgentRecord[]> {
    const records = await Promise.all(userIds.map((id) => this.get(id)));
    return records.filter((r): r is AgentRecord => r !== undefined);
  }

  listTenant(tenantId: number): AgentRecord[] {
    return [...this.agents.values()].filter((a) => a.tenantId === tenantId);
  }

  /** Loads every agent of a tenant (for lists and wallboards). */
  async loadTenant(tenantId: number): Promise<AgentRecord[]> {
    const users = await this.db
      .selectFrom('users')
      .select('id')
      .where('tenantId', '=', tenantId)
      .where('role', 'in', ['agent', 'supervisor', 'helpdesk'])
      .execute();
    return this.getMany(users.map((u) => u.id));
  }

  private async load(userId: number): Promise<AgentRecord | undefined> {
    const user = await this.db
      .selectFrom('users')
      .leftJoin('sipEndpoints', (join) =>
        join.onRef('sipEndpoints.userId', '=', 'users.id').on('sipEndpoints.kind', '=', 'agent'),
      )
      .select([
        'users.id',
        'users.tenantId',
        'users.displayName',
        'users.extension',
        'sipEndpoints.asteriskId',
      ])
      .where('users.id', '=', userId)
      .executeTakeFirst();
    if (!user || user.tenantId === null) return undefined;
    const last = await this.db
      .selectFrom('agentStateLog')
      .select(['status', 'reason', 'startedAt'])
      .where('tenantId', '=', user.tenantId)
      .where('userId', '=', userId)
      .orderBy('startedAt', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const state = initialAgentState(this.now());
    // After a restart an agent keeps the availability they chose; a call they were on is the
    // call engine's to re-attach, and it moves them on from there.
    if (last?.status === AgentStatus.Away) Object.assign(state, { status: AgentStatus.Away, reason: last.reason ?? undefined });
    else if (last && last.status !== AgentStatus.Offline) state.status = AgentStatus.Available;
    const record: AgentRecord = {
      tenantId: user.tenantId,
      userId,
      displayName: user.displayName,
      extension: user.extension,
      endpoint: user.asteriskId ?? null,
      state,
      callsAnswered: 0,
      countedDay: today(),
    };
    // A concurrent caller may have loaded it first; keep one record per agent.
    const existing = this.agents.get(userId);
    if (existing) return existing;
    this.agents.set(userId, record);
    return record;
  }

  /** Forgets cached user data (name, phone) after an admin changed it; keeps the live state. */
  async refresh(userId: number): Promise<void> {
    const record = this.agents.get(userId);
    if (!record) return;
    this.agents.delete(userId);
    const fresh = await this.get(userId);
    if (fresh) {
      fresh.state = record.state;
      fresh.callsAnswered = record.callsAnswered;
    }
  }

  /**
   * Applies an event to a loaded agent: synchronous in memory, then stored in the background
   * in order. Throws AgentStateError when the event does not fit the state.
   */
  apply(userId: number, event: AgentEvent): AgentRecord {
    const record = this.agents.get(userId);
    if (!record) throw new Error(`agent ${userId} is not loaded`);
    const previous = record.state.status;
    const next = transition(record.state, event, this.now());
    if (next === record.state) return record;
    record.state = next;
    if (event.type === 'answered') {
      if (record.countedDay !== today()) {
        record.countedDay = today();
        record.callsAnswered = 0;
      }
      record.callsAnswered += 1;
    }
    if (next.status !== previous || event.type === 'set_away') this.persist(record);
    this.emit('change', { tenantId: record.tenantId, userId, state: next, previous } satisfies AgentStateChange);
    return record;
  }

  /**
   * Puts a loaded agent straight into a state, bypassing the transitions: only for rebuilding
   * the picture after a control-plane restart (an agent found talking on a live call).
   */
  async restore(userId: number, status: AgentStatus, callId?: string, reason?: string): Promise<void> {
    const record = await this.get(userId);
    if (!record) return;
    const previous = record.state.status;
    const { reason: _old, callId: _oldCall, ...rest } = record.state;
    record.state = { ...rest, status, since: this.now(), ...(callId ? { callId } : {}), ...(reason ? { reason } : {}) };
    if (status !== previous) this.persist(record);
    this.emit('change', { tenantId: record.tenantId, userId, state: record.state, previous } satisfies AgentStateChange);
  }

  /** Like apply, but a no-op (logged) when the event does not fit: for cleanup paths. */
  tryApply(userId: number, event: AgentEvent): AgentRecord | undefined {
    try {
      return this.apply(userId, event);
    } catch (err) {
      this.log.debug({ userId, event: event.type, err: (err as Error).message }, 'agent event ignored');
      return undefined;
    }
  }

  private persist(record: AgentRecord): void {
    const row = {
      tenantId: record.tenantId,
      userId: record.userId,
      status: record.state.status,
      reason: record.state.reason ?? null,
      callLinkedid: record.state.callId ?? null,
      startedAt: new Date(record.state.since),
    };
    this.writes = this.writes
      .then(() => this.store.write({ op: 'agent_state', row }))
      .then(
        () => undefined,
        (err: unknown) => this.log.error({ err, userId: record.userId }, 'agent state not stored'),
      );
  }

  /** Resolves once every state change so far is stored (tests, shutdown). */
  flush(): Promise<void> {
    return this.writes;
  }
}
