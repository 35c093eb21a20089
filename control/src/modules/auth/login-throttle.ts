/**
 * Failed logins per account: at most `max` failures in a fixed window that starts at the first
 * failure. An attempt is counted as failed *before* the password is checked and given back when
 * it succeeds, so a burst of parallel guesses cannot all slip past the count while argon2 runs.
 * A success does not wipe earlier failures: that would hand a guesser a fresh allowance each time
 * the real user logs in.
 *
 * The state lives in this process's memory: enough for one control-plane replica, and a restart
 * forgets it. With several replicas each counts on its own (so a guesser gets `max` per replica);
 * moving it to Redis (INCR + PEXPIRE, DECR) keeps this interface.
 */
export interface ThrottleDecision {
  allowed: boolean;
  /** Whole seconds until the window ends (0 when allowed). */
  retryAfterSeconds: number;
}

interface Window {
  failures: number;
  endsAt: number;
}

/** Above this many keys, expired windows are swept on the next reservation. */
const SWEEP_AT = 10_000;
/** Memory stays bounded under a spray of made-up emails: the oldest windows go first. */
const HARD_CAP = 100_000;

export class FailureThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one failure for `key` ahead of the check, unless `key` has none left. */
  reserve(key: string): ThrottleDecision {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      if (this.windows.size >= SWEEP_AT) this.sweep(now);
      window = { failures: 0, endsAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    if (window.failures >= this.max) {
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((window.endsAt - now) / 1000)),
      };
    }
    window.failures += 1;
    return { allowed: true, retryAfterSeconds: 0 };
  }

  /** The reserved attempt was not a failed guess: give it back. */
  release(key: string): void {
    const window = this.windows.get(key);
    if (window && window.failures > 0) window.failures -= 1;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.endsAt <= now) this.windows.delete(key);
    }
    for (const key of this.windows.keys()) {
      if (this.windows.size < HARD_CAP) break;
      this.windows.delete(key);
    }
  }
}
