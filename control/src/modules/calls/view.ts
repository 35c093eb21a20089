/**
 * The engine's reads of MySQL (routes, queues, members, limits), remembered. Every read goes to
 * MySQL first, so changes apply to the next call; when MySQL cannot be reached, the last answer
 * read for the same question is used instead, and calls keep being routed through an outage.
 * Only questions asked before the outage can be answered during it.
 *
 * One exception keeps the hot path short: the same question asked again within `freshMs`
 * (ROUTING_FRESH_MS, default 250 ms) gets the answer just read, and questions asked while the
 * same read is under way share it. An answer a little older (up to REVALIDATE × freshMs) still
 * serves the call that asks, while a fresh read goes on behind it for the next one: under load
 * (20 calls a second into one queue) no call waits for MySQL. A change made through this
 * process's API clears every answer at once (`forget`: the next call reads), and one made
 * elsewhere applies within about a second.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import { isConnectionError } from './cdr-store.ts';
import type { DialRules } from './dial-rules.ts';
import type { RouteDecision, RouteResolver } from './engine.ts';
import {
  loadDialRules,
  loadMembers,
  loadQueue,
  loadTenantLimits,
  queuesByUser,
  type QueueConfig,
  type QueueMember,
  type TenantLimits,
} from './queues.ts';

/** How many times `freshMs` an answer may serve a call while it is read again. */
const REVALIDATE = 4;

export class RoutingView {
  private readonly memory = new Map<string, unknown>();
  private readonly readAt = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private degraded = false;
  private forgotAt = 0;

  constructor(
    private readonly db: Db,
    private readonly resolver: RouteResolver,
    private readonly log: FastifyBaseLogger,
    private readonly freshMs = 250,
  ) {}

  /** Every remembered answer is stale from now on (an admin changed something). */
  forget(): void {
    this.readAt.clear();
    this.inFlight.clear();
    this.forgotAt = performance.now();
  }

  private forgottenSince(at: number): boolean {
    return this.forgotAt >= at;
  }

  /** True while answers come from memory because MySQL is away. */
  get fromMemory(): boolean {
    return this.degraded;
  }

  private read<T>(key: string, load: () => Promise<T>): Promise<T> {
    const at = this.readAt.get(key);
    const age = at === undefined ? Number.POSITIVE_INFINITY : performance.now() - at;
    if (age < this.freshMs) return Promise.resolve(this.memory.get(key) as T);
    if (age < this.freshMs * REVALIDATE) {
      // Served as it is. A read for the next call starts once this I/O round is over: building
      // and sending a query is not the business of the call asking now.
      if (!this.inFlight.has(key)) {
        this.start(key, () => new Promise<void>((resolve) => setImmediate(resolve)).then(load)).catch(
          (err: unknown) => this.log.warn({ err, key }, 'routing read failed'),
        );
      }
      return Promise.resolve(this.memory.get(key) as T);
    }
    return (this.inFlight.get(key) ?? this.start(key, load)) as Promise<T>;
  }

  private start<T>(key: string, load: () => Promise<T>): Promise<T> {
    const started = this.load(key, load).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  private async load<T>(key: string, load: () => Promise<T>): Promise<T> {
    const asked = performance.now();
    try {
      const value = await load();
      this.memory.set(key, value);
      // Fresh from when it was asked: a forget() during the read leaves it stale.
      if (!this.forgottenSince(asked)) this.readAt.set(key, asked);
      if (this.degraded) {
        this.degraded = false;
        this.log.info('MySQL is back: routing reads from it again');
      }
      return value;
    } catch (err) {
      if (!isConnectionError(err) || !this.memory.has(key)) throw err;
      if (!this.degraded) {
        this.degraded = true;
        this.log.warn({ err: (err as Error).message }, 'MySQL unreachable: routing from memory');
      }
      return this.memory.get(key) as T;
    }
  }

  route(number: string, at: Date): Promise<RouteDecision | undefined> {
    return this.read(`route:${number}`, () => this.resolver(number, at));
  }

  queue(tenantId: number, queueId: number): Promise<QueueConfig | undefined> {
    return this.read(`queue:${queueId}`, () => loadQueue(this.db, tenantId, queueId));
  }

  members(tenantId: number, queueId: number): Promise<QueueMember[]> {
    return this.read(`members:${queueId}`, () => loadMembers(this.db, tenantId, queueId));
  }

  limits(tenantId: number): Promise<TenantLimits | undefined> {
    return this.read(`limits:${tenantId}`, () => loadTenantLimits(this.db, tenantId));
  }

  dialRules(tenantId: number): Promise<DialRules | undefined> {
    return this.read(`dial-rules:${tenantId}`, () => loadDialRules(this.db, tenantId));
  }

  async queuesOfUser(tenantId: number, userId: number): Promise<readonly number[]> {
    const byUser = await this.read(`user-queues:${tenantId}`, () => queuesByUser(this.db, tenantId));
    return byUser.get(userId) ?? [];
  }
}
