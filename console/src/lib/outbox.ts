/**
 * Wrap-up notes and manual call logs typed while offline (or while the server is unreachable)
 * are kept in localStorage and sent once online. Each entry has a client-generated id and is removed only
 * after the server accepted it; sending is a PATCH that sets values, so a retry after a lost
 * answer changes nothing: never duplicated, never lost.
 */

export interface OutboxEntry {
  id: string;
  /** The live call id (the CDR's linkedid). */
  callId: string;
  notes: string;
  disposition: string | null;
  createdAt: string;
}

export interface OutboxStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** What every kept entry has: its own id, the key a newer entry replaces it by, when it was typed. */
export interface Kept {
  id: string;
  callId: string;
  createdAt: string;
}

export type Sender<T extends Kept = OutboxEntry> = (entry: T) => Promise<void>;

const KEY = 'calldock.outbox';

export class Outbox<T extends Kept = OutboxEntry> {
  private flushing: Promise<number> | null = null;
  /** Why the last flush stopped, if it did. */
  lastError: string | undefined;

  constructor(
    private readonly storage: OutboxStorage,
    private readonly send: Sender<T>,
    private readonly key = KEY,
  ) {}

  entries(): T[] {
    try {
      return JSON.parse(this.storage.getItem(this.key) ?? '[]') as T[];
    } catch {
      return [];
    }
  }

  private save(entries: T[]): void {
    this.storage.setItem(this.key, JSON.stringify(entries));
  }

  /** Keeps an entry; a newer one for the same call replaces the older (last words win). */
  add(entry: Omit<T, 'id' | 'createdAt'> & { id?: string }): T {
    const full = {
      id: entry.id ?? crypto.randomUUID(),
      createdAt: new Date().toISOString(),
      ...entry,
    } as T;
    this.save([...this.entries().filter((e) => e.callId !== full.callId), full]);
    return full;
  }

  /** Sends what is waiting, oldest first; stops at the first failure. Returns how many went. */
  flush(): Promise<number> {
    // One flush at a time; cleared when it settles (not inside it: a flush with nothing to do
    // finishes before it could be stored, and would then be stored for ever).
    if (this.flushing) return this.flushing;
    const run = this.sendAll();
    this.flushing = run;
    void run.finally(() => {
      if (this.flushing === run) this.flushing = null;
    });
    return run;
  }

  private async sendAll(): Promise<number> {
    let sent = 0;
    this.lastError = undefined;
    try {
      for (const entry of this.entries()) {
        await this.send(entry);
        // Remove by id: an entry added meanwhile for another call stays.
        this.save(this.entries().filter((e) => e.id !== entry.id));
        sent++;
      }
    } catch (err) {
      // Offline or refused for now: the rest waits for the next flush.
      this.lastError = (err as Error).message;
    }
    return sent;
  }
}
