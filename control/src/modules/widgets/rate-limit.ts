/**
 * Fixed-window counters in MySQL (`rate_limit_hits`) for public endpoints: a control-plane
 * restart (or a second replica) sees the same counts within the window, unlike an in-memory
 * limiter. One upsert per hit; old windows are swept by `sweep`.
 */
import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { AppError } from '../../lib/errors.ts';

export interface Limit {
  bucket: string;
  max: number;
}

export class RateLimiter {
  constructor(
    private readonly db: Db,
    private readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  private windowStart(): Date {
    const windowMs = this.windowSeconds * 1000;
    return new Date(Math.floor(this.now() / windowMs) * windowMs);
  }

  /**
   * Counts one hit on every bucket; throws 429 (with the seconds to wait) when any is over its
   * maximum. Hits are counted even when refused, so hammering keeps a client refused.
   */
  async hit(limits: readonly Limit[]): Promise<void> {
    const windowStart = this.windowStart();
    let over = false;
    for (const limit of limits) {
      await this.db
        .insertInto('rateLimitHits')
        .values({ bucket: limit.bucket, windowStart, hits: 1 })
        .onDuplicateKeyUpdate({ hits: sql`hits + 1` })
        .execute();
      const row = await this.db
        .selectFrom('rateLimitHits')
        .select('hits')
        .where('bucket', '=', limit.bucket)
        .where('windowStart', '=', windowStart)
        .executeTakeFirst();
      if ((row?.hits ?? 0) > limit.max) over = true;
    }
    if (over) {
      const retryAfter = Math.max(
        1,
        Math.ceil((windowStart.getTime() + this.windowSeconds * 1000 - this.now()) / 1000),
      );
      throw new AppError('RATE_LIMITED', `Too many requests; try again in ${retryAfter} s`, 429, {
        retryAfter,
      });
    }
  }

  /** Drops windows that are over. */
  async sweep(): Promise<void> {
    await this.db
      .deleteFrom('rateLimitHits')
      .where('windowStart', '<', new Date(this.windowStart().getTime() - this.windowSeconds * 1000))
      .execute();
  }
}
