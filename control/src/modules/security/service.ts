/**
 * Failed SIP authentications per source address, and blocks of the sources that pass a threshold.
 *
 *   Asterisk log ──LogTail──► parseSecurityLine ──► FailureWindow (per address, sliding)
 *                                                        │ threshold reached, not never-block
 *                                                        ▼
 *                          security_blocks row (MySQL: the truth) ──► PJSIP acl `deny=ADDR`
 *                                                        │ expires / admin lifts
 *                                                        ▼
 *                                 lifted_at set ──► acl deleted
 *
 * MySQL holds every block; Asterisk holds an `acl` object per active one (ari/pjsip-acl.ts).
 * They are brought back in line on every ARI (re)connect: active blocks are pushed again (a
 * restarted Asterisk has forgotten them) and the objects of recently lifted ones deleted (a
 * lift may have happened while Asterisk was out of reach). A push or delete that fails in
 * between is retried by the next sweep.
 *
 * Expiry: a timer set to the earliest expires_at (and at least every SWEEP_MAX_MS, for blocks
 * other replicas made), and a sweep on start. With several replicas reading the same log, the
 * unique active_ip column lets only one of them insert the block; the others see a duplicate.
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { AriUnavailableError, type AriConnection } from '../../ari/connection.ts';
import { PjsipAcl } from '../../ari/pjsip-acl.ts';
import type { SecurityConfig } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { audit } from '../../lib/audit.ts';
import { isDuplicateKey } from '../../lib/db-errors.ts';
import { AppError, createError } from '../../lib/errors.ts';
import { ipMatchesOverlap, parseIpMatch, type IpMatch } from '../../lib/ip-match.ts';
import { Mutex } from '../../lib/mutex.ts';
import type { ListQuery, Page } from '../../lib/pagination.ts';
import { requireAuth } from '../../plugins/auth.ts';
import { FailureWindow } from './failure-window.ts';
import { LogTail } from './log-tail.ts';
import * as repo from './repository.ts';
import type { BlockFilters, BlockRow } from './repository.ts';
import { FAILED_AUTH_EVENTS, parseSecurityLine, type SecurityEvent } from './security-log.ts';

/** Sweep at least this often: blocks made by other replicas expire too. */
const SWEEP_MAX_MS = 30_000;
/** On reconnect, the acl objects of blocks lifted this recently are deleted again. */
const RECENT_LIFT_MS = 24 * 3600_000;

export const blockNotFound = createError('BLOCK_NOT_FOUND', 'Block %s not found', 404);
const notActive = (id: number) =>
  new AppError('BLOCK_NOT_ACTIVE', `Block ${id} is already lifted`, 409);

/** The acl object of a block in Asterisk. */
export const aclId = (blockId: number) => `calldock-block-${blockId}`;

export interface Block {
  id: number;
  ip: string;
  reason: string;
  failures: number;
  active: boolean;
  blockedAt: string;
  expiresAt: string;
  liftedAt: string | null;
  liftReason: 'expired' | 'admin' | null;
  liftedBy: number | null;
}

export interface AuthFailures {
  watching: boolean;
  threshold: number;
  windowSeconds: number;
  blockSeconds: number;
  items: Array<{
    ip: string;
    failures: number;
    firstAt: string;
    lastAt: string;
    events: Record<string, number>;
    accounts: string[];
    neverBlock: boolean;
    blocked: boolean;
  }>;
}

export function toBlock(row: BlockRow): Block {
  return {
    id: row.id,
    ip: row.ip,
    reason: row.reason,
    failures: row.failures,
    active: row.liftedAt === null,
    blockedAt: row.blockedAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    liftedAt: row.liftedAt?.toISOString() ?? null,
    liftReason: row.liftReason,
    liftedBy: row.liftedBy,
  };
}

function describeFailures(count: number, windowSeconds: number, events: Record<string, number>) {
  const kinds = Object.entries(events)
    .sort((a, b) => b[1] - a[1])
    .map(([event, n]) => `${event} ×${n}`)
    .join(', ');
  return `${count} failed SIP authentications within ${windowSeconds} s (${kinds})`.slice(0, 255);
}

export class SecurityService {
  private readonly window: FailureWindow;
  private readonly acl: PjsipAcl;
  private readonly neverBlock: IpMatch[];
  private readonly tail: LogTail | undefined;
  /** Addresses blocked now: their late lines are not counted again. */
  private readonly blocked = new Set<string>();
  /** Per address, failures at or before this time are not counted (it was blocked or lifted). */
  private readonly countFrom = new Map<string, number>();
  /** Blocks whose acl object could not be pushed / deleted yet: the next sweep retries. */
  private readonly pendingPush = new Map<number, string>();
  private readonly pendingRemove = new Set<number>();
  /** Asterisk changes of blocks, one at a time (a lift must not overtake its block's push). */
  private readonly lock = new Mutex();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly ari: AriConnection,
    private readonly config: SecurityConfig,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.window = new FailureWindow(config.windowSeconds * 1000, now);
    this.acl = new PjsipAcl(ari);
    this.neverBlock = config.neverBlock.flatMap((e) => parseIpMatch(e) ?? []);
    this.tail = config.logFile
      ? new LogTail(config.logFile, (line) => this.onLine(line), log)
      : undefined;
  }

  get watching(): boolean {
    return this.tail !== undefined;
  }

  async start(): Promise<void> {
    try {
      await this.loadState();
    } catch (err) {
      // The database may come later; the sweep keeps trying.
      this.log.warn({ err }, 'security blocks not loaded at start');
    }
    this.tail?.start();
    await this.sweep();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tail?.stop();
    await this.lock.run(async () => {});
  }

  onLine(line: string): void {
    const event = parseSecurityLine(line);
    if (event) this.onEvent(event);
  }

  onEvent(event: SecurityEvent): void {
    if (!FAILED_AUTH_EVENTS.has(event.event) || this.blocked.has(event.ip)) return;
    const at = event.at ?? this.now();
    if (at <= (this.countFrom.get(event.ip) ?? -Infinity)) return;
    const count = this.window.record(event.ip, event.event, at, event.accountId);
    if (count < this.config.threshold || this.isNeverBlocked(event.ip)) return;
    const events = this.window.list().find((s) => s.ip === event.ip)?.events ?? {};
    this.window.forget(event.ip);
    this.blocked.add(event.ip);
    this.countFrom.set(event.ip, at);
    this.block(event.ip, count, events).catch((err: unknown) => {
      // Not stored: let the next failures try again.
      this.blocked.delete(event.ip);
      this.log.error({ err, ip: event.ip }, 'blocking a source failed');
    });
  }

  failures(filter: { ip?: string; limit?: number } = {}): AuthFailures {
    const items = this.window
      .list()
      .filter((s) => filter.ip === undefined || s.ip === filter.ip)
      .slice(0, filter.limit ?? 100)
      .map((s) => ({
        ip: s.ip,
        failures: s.failures,
        firstAt: new Date(s.firstAt).toISOString(),
        lastAt: new Date(s.lastAt).toISOString(),
        events: s.events,
        accounts: s.accounts,
        neverBlock: this.isNeverBlocked(s.ip),
        blocked: this.blocked.has(s.ip),
      }));
    return {
      watching: this.watching,
      threshold: this.config.threshold,
      windowSeconds: this.config.windowSeconds,
      blockSeconds: this.config.blockSeconds,
      items,
    };
  }

  async list(query: ListQuery & BlockFilters): Promise<Page<Block>> {
    const page = await repo.listBlocks(this.db, query);
    return { items: page.items.map(toBlock), nextCursor: page.nextCursor };
  }

  async get(id: number): Promise<Block> {
    const row = await repo.findBlock(this.db, id);
    if (!row) throw blockNotFound(id);
    return toBlock(row);
  }

  /** An admin lifts a block now. */
  async lift(request: FastifyRequest, id: number): Promise<Block> {
    const userId = requireAuth(request).userId;
    return this.lock.run(async () => {
      const row = await this.db.transaction().execute(async (trx) => {
        const before = await repo.findBlock(trx, id, true);
        if (!before) throw blockNotFound(id);
        if (before.liftedAt) throw notActive(id);
        await repo.markLifted(trx, id, {
          liftedAt: new Date(this.now()),
          liftReason: 'admin',
          liftedBy: userId,
        });
        const after = (await repo.findBlock(trx, id))!;
        await audit(trx, request, {
          action: 'security_block.lift',
          entityType: 'security_block',
          entityId: id,
          tenantId: null,
          before: toBlock(before),
          after: toBlock(after),
        });
        return after;
      });
      this.forgetBlock(row);
      this.log.info({ blockId: id, ip: row.ip, userId }, 'block lifted by an admin');
      await this.removeAcl(row.id);
      return toBlock(row);
    });
  }

  /** Lifts expired blocks, retries failed pushes and deletes, and sets the timer again. */
  async sweep(): Promise<void> {
    if (this.stopped) return;
    let next: Date | undefined;
    try {
      await this.lock.run(async () => {
        const now = new Date(this.now());
        for (const row of await repo.expiredBlocks(this.db, now)) {
          if (await repo.markLifted(this.db, row.id, { liftedAt: now, liftReason: 'expired', liftedBy: null })) {
            this.log.info({ blockId: row.id, ip: row.ip }, 'block expired');
          }
          this.forgetBlock({ ...row, liftedAt: now });
          this.oweRemoval(row.id);
        }
        for (const [ip, at] of this.countFrom) {
          if (at <= now.getTime() - this.config.windowSeconds * 1000) this.countFrom.delete(ip);
        }
        await this.retryPending();
      });
      next = await repo.nextExpiry(this.db);
    } catch (err) {
      this.log.warn({ err }, 'security sweep failed; trying again later');
    }
    if (this.stopped) return;
    const delay = next ? Math.max(0, next.getTime() - this.now()) + 5 : SWEEP_MAX_MS;
    // Sweeps can overlap (a block's own, the timer's): one timer only.
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.sweep(), Math.min(delay, SWEEP_MAX_MS));
    this.timer.unref();
  }

  /** On every ARI (re)connect: Asterisk holds exactly the active blocks again. */
  async resync(): Promise<void> {
    await this.lock.run(async () => {
      const now = this.now();
      for (const row of await repo.liftedSince(this.db, new Date(now - RECENT_LIFT_MS))) {
        this.oweRemoval(row.id);
      }
      for (const row of await repo.activeBlocks(this.db)) {
        this.blocked.add(row.ip);
        // Expired: the sweep lifts it and deletes the object; pushing it again is pointless.
        if (row.expiresAt.getTime() <= now) continue;
        if (!(await this.acl.exists(aclId(row.id)))) this.pendingPush.set(row.id, row.ip);
      }
      await this.retryPending();
    });
  }

  private async block(ip: string, failures: number, events: Record<string, number>) {
    await this.lock.run(async () => {
      const now = new Date(this.now());
      const expiresAt = new Date(now.getTime() + this.config.blockSeconds * 1000);
      const reason = describeFailures(failures, this.config.windowSeconds, events);
      const { id, expired } = await this.db.transaction().execute(async (trx) => {
        // An expired block the sweep has not reached yet still holds the address's unique slot.
        const expired = await repo.expiredBlocks(trx, now, ip);
        for (const row of expired) {
          await repo.markLifted(trx, row.id, { liftedAt: now, liftReason: 'expired', liftedBy: null });
        }
        try {
          const values = { ip, reason, failures, blockedAt: now, expiresAt };
          return { id: await repo.insertBlock(trx, values), expired };
        } catch (err) {
          if (isDuplicateKey(err)) return { id: undefined, expired };
          throw err;
        }
      });
      for (const row of expired) this.oweRemoval(row.id);
      if (id === undefined) {
        this.log.info({ ip }, 'source already blocked (by another replica)');
        return;
      }
      this.log.warn({ blockId: id, ip, failures, expiresAt }, 'blocked a source of failed SIP authentications');
      this.pendingPush.set(id, ip);
      await this.retryPending();
    });
    // The timer may be set for later than this block's expiry.
    await this.sweep();
  }

  private async removeAcl(id: number): Promise<void> {
    this.oweRemoval(id);
    await this.retryPending();
  }

  private oweRemoval(id: number): void {
    this.pendingPush.delete(id);
    this.pendingRemove.add(id);
  }

  /** Pushes and deletes what is owed to Asterisk; what fails stays owed. Runs under the lock. */
  private async retryPending(): Promise<void> {
    for (const id of [...this.pendingRemove]) {
      try {
        await this.acl.remove(aclId(id));
        this.pendingRemove.delete(id);
      } catch (err) {
        this.logAriFailure(err, 'deleting a block from Asterisk', id);
      }
    }
    for (const [id, ip] of [...this.pendingPush]) {
      try {
        await this.acl.denyAddress(aclId(id), ip);
        this.pendingPush.delete(id);
        // Another replica may have lifted it between our read and our push; its delete ran
        // before the push only if its commit came before this read, so this read catches it.
        const row = await repo.findBlock(this.db, id);
        if (!row || row.liftedAt) {
          this.oweRemoval(id);
          await this.acl.remove(aclId(id));
          this.pendingRemove.delete(id);
        }
      } catch (err) {
        this.logAriFailure(err, 'pushing a block to Asterisk', id);
      }
    }
  }

  private logAriFailure(err: unknown, what: string, blockId: number): void {
    if (err instanceof AriUnavailableError) {
      this.log.warn({ blockId }, `${what} waits for Asterisk`);
    } else {
      this.log.error({ err, blockId }, `${what} failed; retrying later`);
    }
  }

  private forgetBlock(row: Pick<BlockRow, 'ip' | 'liftedAt'>): void {
    this.blocked.delete(row.ip);
    this.window.forget(row.ip);
    this.countFrom.set(row.ip, (row.liftedAt ?? new Date(this.now())).getTime());
  }

  private async loadState(): Promise<void> {
    for (const row of await repo.activeBlocks(this.db)) {
      this.blocked.add(row.ip);
      this.countFrom.set(row.ip, row.blockedAt.getTime());
    }
    // Lines read back from the log's tail must not count against an address lifted since.
    const since = new Date(this.now() - this.config.windowSeconds * 1000);
    for (const row of await repo.liftedSince(this.db, since)) {
      if (!this.blocked.has(row.ip)) this.countFrom.set(row.ip, row.liftedAt!.getTime());
    }
  }

  private isNeverBlocked(ip: string): boolean {
    const m = parseIpMatch(ip);
    return m !== undefined && this.neverBlock.some((n) => ipMatchesOverlap(n, m));
  }
}
