/**
 * The CDR of one call, written by the call's own state machine: a `calls` row when the call
 * starts, updated at every transition, and a `call_events` row per transition. Writes for one
 * call are queued in order and never block the call: the media goes on whatever the database
 * does, and when MySQL is away they wait in the CdrStore's outbox.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { CallPatch, CdrOp, CdrStore } from './cdr-store.ts';

export type { CallPatch } from './cdr-store.ts';

export interface NewCall {
  tenantId: number;
  linkedid: string;
  direction: 'inbound' | 'outbound' | 'internal';
  channelKind: 'pstn' | 'webrtc' | 'internal' | 'web';
  fromNumber: string | null;
  toNumber: string | null;
  didId: number | null;
  startedAt: Date;
  /** Web calls: the widget, the page the visitor called from, their pre-call form. */
  widgetId?: number | null;
  pageUrl?: string | null;
  visitorName?: string | null;
  visitorEmail?: string | null;
}

export class CallRecord {
  private chain: Promise<void> = Promise.resolve();
  private seq: number;

  constructor(
    private readonly store: CdrStore,
    private readonly log: FastifyBaseLogger,
    readonly tenantId: number,
    readonly linkedid: string,
    /** A new call to insert, or the last event sequence of a call seen before a restart. */
    init: { start: NewCall } | { lastSeq: number },
  ) {
    if ('lastSeq' in init) {
      this.seq = init.lastSeq;
      return;
    }
    this.seq = 0;
    const start = init.start;
    this.enqueue([
      { op: 'insert', row: { ...start, state: 'ringing' } },
      this.event('created', start.startedAt, { from: start.fromNumber, to: start.toNumber }),
    ]);
  }

  /** The store applies writes in the order they are made: no need to wait between them. */
  private enqueue(ops: CdrOp[]): void {
    const written = Promise.all(ops.map((op) => this.store.write(op))).then(
      () => undefined,
      (err: unknown) => this.log.error({ err, linkedid: this.linkedid }, 'CDR write failed'),
    );
    this.chain = this.chain.then(() => written);
  }

  private event(type: string, at: Date, data: Record<string, unknown>): CdrOp {
    this.seq += 1;
    return { op: 'event', linkedid: this.linkedid, tenantId: this.tenantId, seq: this.seq, type, occurredAt: at, data };
  }

  /** Updates the row and adds the transition to call_events, in order with earlier writes. */
  transition(type: string, patch: CallPatch, data: Record<string, unknown> = {}, at = new Date()): Promise<void> {
    const update: CdrOp[] = Object.keys(patch).length > 0 ? [{ op: 'update', linkedid: this.linkedid, patch }] : [];
    this.enqueue([...update, this.event(type, at, data)]);
    return this.chain;
  }

  /** Resolves when every write queued so far is done (in MySQL or in the outbox). */
  flush(): Promise<void> {
    return this.chain;
  }
}
