/**
 * Where CDR and call-event writes go. Normally straight to MySQL; when MySQL cannot be reached,
 * to a durable local outbox (a JSON-lines file, fsync'd per write), replayed in order once MySQL
 * answers again. Every write is idempotent — keyed on the call's linkedid and the event's
 * per-call sequence — so a replay after a crash in the middle of a replay duplicates nothing.
 *
 *   direct ──(connection error)──► outbox ──(replayed to the last line)──► direct
 *
 * While the outbox holds anything, new writes are appended to it too: order is kept across the
 * outage, not just within one call.
 *
 * Writes go in batches: what was written during one turn of the event loop (and, under load,
 * while the previous batch was on its way) becomes one INSERT per table and one UPDATE per call,
 * in the order written. A call's transition is an update and an event at once; 20 calls a second
 * are some 300 writes a second, and a statement each cost the control plane and MySQL more CPU
 * than the calls' own signalling on this machine.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import { CompiledQuery, sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import { toJson } from '../../db/json.ts';
import type { AgentStateLogTable, CallTable } from '../../db/schema.ts';
import type { Insertable, Updateable } from 'kysely';

export type CallPatch = Omit<Updateable<CallTable>, 'id' | 'tenantId' | 'linkedid' | 'createdAt'>;
export type NewCallRow = Omit<Insertable<CallTable>, 'id'>;

export type CdrOp =
  | { op: 'insert'; row: NewCallRow }
  | { op: 'update'; linkedid: string; patch: CallPatch }
  | { op: 'event'; linkedid: string; tenantId: number; seq: number; type: string; occurredAt: Date; data: unknown }
  | { op: 'agent_state'; row: Insertable<AgentStateLogTable> };

/** Most writes in one batch (one statement per table stays well under max_allowed_packet). */
const MAX_BATCH = 200;

interface Queued {
  op: CdrOp;
  done: () => void;
  failed: (err: unknown) => void;
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);

/** The database is unreachable (as opposed to refusing this particular write). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; fatal?: boolean; message?: string } | undefined;
  if (!e) return false;
  if (e.code && CONNECTION_ERRORS.has(e.code)) return true;
  return e.fatal === true || /connect|closed state|Pool is closed/i.test(e.message ?? '');
}

const DATE_FIELDS = ['startedAt', 'queuedAt', 'answeredAt', 'endedAt', 'occurredAt'];

/** JSON round trip for ops: Dates come back as Dates. */
function revive(key: string, value: unknown): unknown {
  return (DATE_FIELDS.includes(key) && typeof value === 'string') ? new Date(value) : value;
}

export class CdrStore {
  private fd: number | undefined;
  private pending = 0;
  private replaying: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private queue: Queued[] = [];
  private flushing = false;

  /**
   * @param batchDb a connection that takes several statements per query: a batch's statements
   *   then go to MySQL in one round trip. Without it, one after the other.
   */
  constructor(
    private readonly db: Db,
    private readonly log: FastifyBaseLogger,
    private readonly outboxFile: string,
    private readonly batchDb?: Db,
  ) {
    mkdirSync(path.dirname(outboxFile), { recursive: true });
    // Left over from a crash while MySQL was away: replay it first.
    if (existsSync(outboxFile) && readFileSync(outboxFile, 'utf8').trim() !== '') {
      this.pending = readFileSync(outboxFile, 'utf8').trim().split('\n').length;
      this.scheduleReplay(0);
    }
  }

  /** Writes waiting in the outbox. */
  get backlog(): number {
    return this.pending;
  }

  /**
   * Resolves once the write is in MySQL or in the outbox; rejects only when MySQL refuses this
   * write itself. Writes are applied in the order they are made.
   */
  write(op: CdrOp): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ op, done: resolve, failed: reject });
      // Off the call's path: a call's first writes are made on its way to an agent's phone, and
      // building a query and writing it to MySQL's socket must not come before the dial does.
      // The batch starts once this I/O round is over.
      if (this.queue.length === 1 && !this.flushing) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) await this.settle(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.flushing = false;
    }
  }

  /** Applies one batch, or keeps it in the outbox; each write's promise is settled either way. */
  private async settle(batch: Queued[]): Promise<void> {
    if (this.pending > 0) return this.keep(batch);
    try {
      await this.applyBatch(batch.map((q) => q.op));
      for (const q of batch) q.done();
      return;
    } catch (err) {
      if (isConnectionError(err)) {
        this.log.warn({ err: (err as Error).message }, 'MySQL unreachable: CDR writes go to the outbox');
        // Some of the batch may be in already: every write is idempotent, replaying it is safe.
        return this.keep(batch);
      }
    }
    // MySQL refused the batch: one write it will not take must not take the others with it.
    for (const [i, q] of batch.entries()) {
      try {
        await this.apply(q.op);
        q.done();
      } catch (err) {
        if (isConnectionError(err)) return this.keep(batch.slice(i));
        q.failed(err);
      }
    }
  }

  private keep(batch: Queued[]): void {
    this.append(batch.map((q) => q.op));
    for (const q of batch) q.done();
  }

  private append(ops: CdrOp[]): void {
    this.fd ??= openSync(this.outboxFile, 'a');
    writeSync(this.fd, ops.map((op) => `${JSON.stringify(op)}\n`).join(''));
    // Durable before the writes count as done: a crash now loses nothing.
    fsyncSync(this.fd);
    this.pending += ops.length;
    this.scheduleReplay(1_000);
  }

  private scheduleReplay(ms: number): void {
    if (this.timer || this.replaying) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.replaying = this.replay().finally(() => (this.replaying = undefined));
    }, ms);
    this.timer.unref();
  }

  /** Applies the outbox in order; stops at the first connection error and tries again later. */
  private async replay(): Promise<void> {
    for (;;) {
      const lines = existsSync(this.outboxFile) ? readFileSync(this.outboxFile, 'utf8').split('\n').filter(Boolean) : [];
      let applied = 0;
      for (const line of lines) {
        const op = JSON.parse(line, revive) as CdrOp;
        try {
          await this.apply(op);
        } catch (err) {
          if (isConnectionError(err)) {
            this.log.debug('MySQL still unreachable; outbox kept');
            this.scheduleReplay(1_000);
            return;
          }
          this.log.error({ err, op: op.op }, 'outbox write refused by MySQL; dropped');
        }
        applied += 1;
      }
      // Lines appended while this pass ran are still to do; everything read is now in MySQL.
      const now = readFileSync(this.outboxFile, 'utf8').split('\n').filter(Boolean);
      if (now.length === applied) {
        this.fd ??= openSync(this.outboxFile, 'a');
        ftruncateSync(this.fd, 0);
        fsyncSync(this.fd);
        this.pending = 0;
        this.log.info({ replayed: applied }, 'CDR outbox replayed into MySQL');
        return;
      }
    }
  }

  /** Resolves when the outbox is empty (tests, shutdown) or after `timeoutMs`. */
  async drained(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < deadline) {
      this.scheduleReplay(0);
      await (this.replaying ?? new Promise((r) => setTimeout(r, 100)));
    }
    return this.pending === 0;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * Writes as few statements: new calls in one INSERT, each call's updates merged into one
   * UPDATE (later fields win, as they would one after the other), the events in one INSERT, the
   * agent states in one INSERT. Inserting the calls first keeps the writes' meaning: an update
   * or event of a call inserted in the same batch finds its row. Every statement is idempotent.
   */
  private statements(ops: readonly CdrOp[]): CompiledQuery[] {
    const statements: CompiledQuery[] = [];
    const inserts: NewCallRow[] = [];
    const patches = new Map<string, CallPatch>();
    const events: Array<Extract<CdrOp, { op: 'event' }>> = [];
    const states: Array<Insertable<AgentStateLogTable>> = [];
    for (const op of ops) {
      if (op.op === 'insert') inserts.push(op.row);
      else if (op.op === 'update') patches.set(op.linkedid, { ...patches.get(op.linkedid), ...op.patch });
      else if (op.op === 'event') events.push(op);
      else states.push(op.row);
    }
    if (inserts.length > 0) {
      statements.push(this.db.insertInto('calls').values(inserts).onDuplicateKeyUpdate({ linkedid: sql`linkedid` }).compile());
    }
    for (const [linkedid, patch] of patches) {
      if (Object.keys(patch).length > 0) statements.push(this.db.updateTable('calls').set(patch).where('linkedid', '=', linkedid).compile());
    }
    if (events.length > 0) {
      const rows = sql.join(
        events.map(
          (e) =>
            sql`SELECT ${e.linkedid} AS linkedid, ${e.tenantId} AS tenant_id, ${e.seq} AS seq, ${e.type} AS type, ${e.occurredAt} AS occurred_at, ${toJson(e.data)} AS data`,
        ),
        sql` UNION ALL `,
      );
      statements.push(sql`
        INSERT INTO call_events (tenant_id, call_id, seq, type, occurred_at, data)
        SELECT e.tenant_id, c.id, e.seq, e.type, e.occurred_at, e.data
        FROM (${rows}) AS e JOIN calls c ON c.linkedid = e.linkedid
        ON DUPLICATE KEY UPDATE type = call_events.type`.compile(this.db));
    }
    if (states.length > 0) {
      statements.push(this.db.insertInto('agentStateLog').values(states).onDuplicateKeyUpdate({ status: sql`status` }).compile());
    }
    return statements;
  }

  /**
   * A batch's statements. With `batchDb` they go as one query, in one transaction (one commit,
   * one redo-log flush); when MySQL refuses a statement the batch is rolled back whole and the
   * caller applies it write by write.
   */
  private async applyBatch(ops: readonly CdrOp[]): Promise<void> {
    const statements = this.statements(ops);
    if (!this.batchDb || statements.length < 2) {
      for (const query of statements) await this.db.executeQuery(query);
      return;
    }
    const text = ['START TRANSACTION', ...statements.map((q) => q.sql), 'COMMIT'].join(';\n');
    try {
      await this.batchDb.executeQuery(CompiledQuery.raw(text, statements.flatMap((q) => [...q.parameters])));
    } catch (err) {
      // MySQL stopped at the statement it refused, inside the transaction: end it (the pool
      // has this one connection, so this reaches the same session).
      if (!isConnectionError(err)) await this.batchDb.executeQuery(CompiledQuery.raw('ROLLBACK')).catch(() => undefined);
      throw err;
    }
  }

  /** One write on its own (outbox replay, or a refused batch taken apart). */
  private async apply(op: CdrOp): Promise<void> {
    for (const query of this.statements([op])) await this.db.executeQuery(query);
  }
}
