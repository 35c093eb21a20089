/**
 * Fixed-window counters in MySQL (`rate_limit_hits`) for public endpoints (widget tickets and
 * chats, logins): a control-plane restart, or a second replica, sees the same counts within the
 * window, unlike an in-memory limiter. Each limiter has a window length and a bucket prefix
 * (its scope); `sweep` drops only its own windows that are over.
 *
 *   hit(limits)    counts one request on every bucket, refuses past any maximum (hammering
 *                  keeps a client refused: refused requests count too)
 *   reserve(limit) takes one unit ahead of an expensive check (a password hash) in a single
 *                  conditional UPDATE, so a parallel burst cannot overshoot; release() gives it
 *                  back when the attempt did not count (a correct password)
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { AppError } from './errors.ts';

export interface Limit {
  bucket: string;
  max: number;
}

export class RateLimiter {
  constructor(
    private readonly db: Db,
    private readonly windowSeconds: number,
    private readonly scope: string,
    private readonly now: () => number = Date.now,
  ) {}

  private windowStart(): Date {
    const windowMs = this.windowSeconds * 1000;
    return new Date(Math.floor(this.now() / windowMs) * windowMs);
  }

  /** Whole seconds until the current window ends (at least 1). */
  retryAfter(): number {
    return Math.max(1, Math.ceil((this.windowStart().getTime() + this.windowSeconds * 1000 - this.now()) / 1000));
  }

  private key(bucket: string): string {
    return `${this.scope}:${bucket}`;
  }

  private limited(message = 'Too many requests'): AppError {
    const retryAfter = this.retryAfter();
    return new AppError('RATE_LIMITED', `${message}; try again in ${retryAfter} s`, 429, { retryAfter });
  }

  /**
   * Counts one hit on every bucket; throws 429 (with the seconds to wait) when any is over its
   * maximum.
   */
  async hit(limits: readonly Limit[], message?: string): Promise<void> {
    const windowStart = this.windowStart();
    let over = false;
    for (const limit of limits) {
      const bucket = this.key(limit.bucket);
      await this.db
        .insertInto('rateLimitHits')
        .values({ bucket, windowStart, hits: 1 })
        .onDuplicateKeyUpdate({ hits: sql`hits + 1` })
        .execute();
      const row = await this.db
        .selectFrom('rateLimitHits')
        .select('hits')
        .where('bucket', '=', bucket)
        .where('windowStart', '=', windowStart)
        .executeTakeFirst();
      if ((row?.hits ?? 0) > limit.max) over = true;
    }
    if (over) throw this.limited(message);
  }

  /** Takes one unit of `limit` in this window, or throws 429 when none is left. */
  async reserve(limit: Limit, message?: string): Promise<void> {
    const windowStart = this.windowStart();
    const bucket = this.key(limit.bucket);
    await this.db.insertInto('rateLimitHits').values({ bucket, windowStart, hits: 0 }).ignore().execute();
    const taken = await this.db
      .updateTable('rateLimitHits')
      .set({ hits: sql`hits + 1` })
      .where('bucket', '=', bucket)
      .where('windowStart', '=', windowStart)
      .where('hits', '<', limit.max)
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 0) throw this.limited(message);
  }

  /** Gives back a unit taken by `reserve` in this window. */
  async release(bucket: string): Promise<void> {
    await this.db
      .updateTable('rateLimitHits')
      .set({ hits: sql`hits - 1` })
      .where('bucket', '=', this.key(bucket))
      .where('windowStart', '=', this.windowStart())
      .where('hits', '>', 0)
      .execute();
  }

  /** Drops this limiter's windows that are over. */
  async sweep(): Promise<void> {
    await this.db
      .deleteFrom('rateLimitHits')
      .where('bucket', 'like', `${this.scope}:%`)
      .where('windowStart', '<', new Date(this.windowStart().getTime() - this.windowSeconds * 1000))
      .execute();
  }
}
