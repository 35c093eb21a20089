/**
 * Failed authentications per source address in a sliding window: `record` answers how many the
 * address has within the last `windowMs`, so the caller can block it at the threshold.
 *
 * The state is this process's memory. Each replica that reads the log counts on its own (they
 * read the same lines, so they agree); a restart reads the log's tail again (see log-tail.ts).
 */
export interface SourceFailures {
  ip: string;
  failures: number;
  firstAt: number;
  lastAt: number;
  /** Failures by SecurityEvent name. */
  events: Record<string, number>;
  /** Accounts tried, most recent last (at most MAX_ACCOUNTS). */
  accounts: string[];
}

interface Failure {
  at: number;
  event: string;
  account: string | undefined;
}

/** Memory stays bounded under a flood: per address, and in the number of addresses. */
const MAX_PER_SOURCE = 10_000;
const MAX_SOURCES = 50_000;
const MAX_ACCOUNTS = 5;

export class FailureWindow {
  private readonly sources = new Map<string, Failure[]>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one failure (at its own time, which may lie in the past) and answers the count. */
  record(ip: string, event: string, at: number = this.now(), account?: string): number {
    const since = this.now() - this.windowMs;
    let list = this.sources.get(ip);
    if (at <= since) return list ? this.trim(ip, list, since) : 0;
    if (!list) {
      if (this.sources.size >= MAX_SOURCES) this.prune();
      list = [];
    }
    // Re-insert: the Map's order is then least recently failed first, which prune() relies on.
    this.sources.delete(ip);
    this.sources.set(ip, list);
    // Lines arrive in order; a backfilled or late one goes where its time says.
    let i = list.length;
    while (i > 0 && list[i - 1]!.at > at) i--;
    list.splice(i, 0, { at, event, account });
    if (list.length > MAX_PER_SOURCE) list.splice(0, list.length - MAX_PER_SOURCE);
    return this.trim(ip, list, since);
  }

  /** The address's count now. */
  count(ip: string): number {
    const list = this.sources.get(ip);
    return list ? this.trim(ip, list, this.now() - this.windowMs) : 0;
  }

  /** Forgets the address's failures: counting starts afresh (after it is blocked). */
  forget(ip: string): void {
    this.sources.delete(ip);
  }

  /** Every address with failures in the window, most failures first. */
  list(): SourceFailures[] {
    const since = this.now() - this.windowMs;
    const result: SourceFailures[] = [];
    for (const [ip, list] of [...this.sources]) {
      if (this.trim(ip, list, since) === 0) continue;
      const events: Record<string, number> = {};
      const accounts: string[] = [];
      for (const f of list) {
        events[f.event] = (events[f.event] ?? 0) + 1;
        if (f.account !== undefined) {
          const seen = accounts.indexOf(f.account);
          if (seen >= 0) accounts.splice(seen, 1);
          accounts.push(f.account);
        }
      }
      result.push({
        ip,
        failures: list.length,
        firstAt: list[0]!.at,
        lastAt: list[list.length - 1]!.at,
        events,
        accounts: accounts.slice(-MAX_ACCOUNTS),
      });
    }
    return result.sort((a, b) => b.failures - a.failures || b.lastAt - a.lastAt);
  }

  /** Drops what fell out of the window; answers what is left. */
  private trim(ip: string, list: Failure[], since: number): number {
    let drop = 0;
    while (drop < list.length && list[drop]!.at <= since) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length === 0) this.sources.delete(ip);
    return list.length;
  }

  private prune(): void {
    const since = this.now() - this.windowMs;
    for (const [ip, list] of [...this.sources]) this.trim(ip, list, since);
    for (const ip of this.sources.keys()) {
      if (this.sources.size < MAX_SOURCES) break;
      this.sources.delete(ip);
    }
  }
}
