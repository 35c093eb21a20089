/**
 * The engine's reads of MySQL (routes, queues, members, limits), remembered. Every read goes to
 * MySQL first, so changes apply to the next call; when MySQL cannot be reached, the last answer
 * read for the same question is used instead, and calls keep being routed through an outage.
 * Only questions asked before the outage can be answered during it.
 *
 * One exception keeps the hot path short: the same question asked again within `FRESH_MS` (a
 * call's enqueue and its first ACD round both need the queue's members) gets the answer just
 * read, and questions asked while the same read is under way share it.
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
  queuesOfUser,
  type QueueConfig,
  type QueueMember,
  type TenantLimits,
} from './queues.ts';

const FRESH_MS = 50;

export class RoutingView {
  private readonly memory = new Map<string, unknown>();
  private readonly readAt = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private degraded = false;

  constructor(
    private readonly db: Db,
    private readonly resolver: RouteResolver,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** True while answers come from memory because MySQL is away. */
  get fromMemory(): boolean {
    return this.degraded;
  }

  private async read<T>(key: string, load: () => Promise<T>, reuse = false): Promise<T> {
    if (reuse) {
      const at = this.readAt.get(key);
      if (at !== undefined && performance.now() - at < FRESH_MS) return this.memory.get(key) as T;
      const pending = this.inFlight.get(key);
      if (pending) return pending as Promise<T>;
      const started = this.read(key, load).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, started);
      return started;
    }
    try {
      const value = await load();
      this.memory.set(key, value);
      this.readAt.set(key, performance.now());
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
    return this.read(`queue:${queueId}`, () => loadQueue(this.db, tenantId, queueId), true);
  }

  members(tenantId: number, queueId: number): Promise<QueueMember[]> {
    return this.read(`members:${queueId}`, () => loadMembers(this.db, tenantId, queueId), true);
  }

  limits(tenantId: number): Promise<TenantLimits | undefined> {
    return this.read(`limits:${tenantId}`, () => loadTenantLimits(this.db, tenantId));
  }

  dialRules(tenantId: number): Promise<DialRules | undefined> {
    return this.read(`dial-rules:${tenantId}`, () => loadDialRules(this.db, tenantId));
  }

  queuesOfUser(tenantId: number, userId: number): Promise<number[]> {
    return this.read(`user-queues:${userId}`, () => queuesOfUser(this.db, tenantId, userId));
  }
}
