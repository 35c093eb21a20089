/**
 * Callbacks: a customer called back from a queue instead of waiting on the line.
 *
 *   queued caller presses the queue's digit ──► task 'waiting' (MySQL), in the caller's place
 *   caller hangs up after the abandon threshold ─► task 'waiting', placed by when they queued
 *   admin or supervisor schedules one ────────► task 'waiting', placed by now
 *
 * A waiting task sits in the engine's queue as a call without a channel and is offered to
 * agents like any caller. The agent who answers hears ringing while the customer is dialled
 * through the tenant's trunk (Dialer.callbackRoute: the fraud guard applies, the agent's own
 * outbound permission does not); the customer's answer bridges the two and completes the task.
 * A customer who does not answer is tried again after `retrySeconds`, up to the task's
 * attempts; then the task fails. Tasks live in MySQL, so a restart loads them back in order.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import type { CallbackReason, CallbackStatus } from '../../db/schema.ts';
import type { Telephony } from '../../ari/telephony.ts';
import { AppError } from '../../lib/errors.ts';
import type { ActiveCall, AgentLeg } from './call.ts';
import { CallRecord } from './cdr.ts';
import type { CdrStore } from './cdr-store.ts';
import type { CallEngine, CallEvent, CallbackHandler } from './engine.ts';
import { ControlLeg, dispositionFor } from './legs.ts';
import type { Dialer } from './outbound.ts';
import type { QueueConfig } from './queues.ts';

const NUMBER = /^\+?[0-9]{3,20}$/;
const CUSTOMER_RING_SECONDS = 45;
const CAUSE_CONGESTION = 34;

export interface CallbackOptions {
  /** Wait before calling a customer again who did not answer (default 120 s). */
  retrySeconds?: number;
}

/** A task as the API shows it. */
export interface CallbackTask {
  id: number;
  queueId: number;
  number: string;
  reason: CallbackReason;
  status: CallbackStatus;
  originLinkedid: string | null;
  callbackLinkedid: string | null;
  queuedAt: string;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: string | null;
  agentUserId: number | null;
  lastCause: string | null;
  createdAt: string;
  /** Place among the queue's waiting callers (1 = next), while it waits in the queue. */
  position: number | null;
}

interface Dialling {
  call: ActiveCall;
  taskId: number;
}

/** The number as dialled, or undefined when it cannot be called (anonymous, too short). */
export function callableNumber(raw: string): string | undefined {
  const number = raw.replace(/[\s().-]/g, '');
  return NUMBER.test(number) ? number : undefined;
}

export class CallbackService implements CallbackHandler {
  private readonly dialling = new Map<string, Dialling>();
  private readonly retries = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly db: Db,
    private readonly cdrStore: CdrStore,
    private readonly telephony: Telephony,
    private readonly engine: CallEngine,
    private readonly dialer: Dialer,
    private readonly log: FastifyBaseLogger,
    private readonly options: CallbackOptions = {},
  ) {
    engine.setCallbackHandler(this);
    engine.registerLeg(ControlLeg.Callback, (event, args) => this.customerAnswered(event.channel.id, args[0] ?? ''));
    engine.on('call', (event: CallEvent) => {
      if (event.type === 'call.ended') this.engine.background(this.callEnded(event.callId));
    });
  }

  // ── Tasks from the engine ──────────────────────────────────────────────────────────────────

  async requested(call: ActiveCall, queue: QueueConfig, raw: string, reason: 'requested' | 'web'): Promise<number | undefined> {
    const number = callableNumber(raw);
    if (!number) return undefined;
    try {
      return await this.insert({
        tenantId: call.tenantId,
        queueId: queue.id,
        number,
        reason,
        originLinkedid: call.id,
        queuedAt: new Date(call.enqueuedAt),
        priority: call.priority,
      });
    } catch (err) {
      this.log.warn({ err, callId: call.id }, 'callback task could not be stored; the caller stays queued');
      return undefined;
    }
  }

  async abandoned(call: ActiveCall, queue: QueueConfig, waitedMs: number): Promise<void> {
    const number = callableNumber(call.from);
    if (!number) return;
    const taskId = await this.insert({
      tenantId: call.tenantId,
      queueId: queue.id,
      number,
      reason: 'abandoned',
      originLinkedid: call.id,
      queuedAt: new Date(call.enqueuedAt),
      priority: call.priority,
    });
    this.log.info({ callId: call.id, taskId, waitedMs }, 'abandoned call becomes a callback');
    await this.engine.enqueueCallback({
      id: randomUUID(),
      tenantId: call.tenantId,
      queueId: queue.id,
      taskId,
      number,
      reason: 'abandoned',
      to: call.to,
      queuedAt: call.enqueuedAt,
      priority: call.priority,
    });
  }

  async cancel(taskId: number, why: string): Promise<void> {
    await this.db
      .updateTable('callbacks')
      .set({ status: 'cancelled', lastCause: why })
      .where('id', '=', taskId)
      .where('status', 'in', ['waiting', 'dialing'])
      .execute();
  }

  /** One task per originating call: asking twice (or a retried write) finds the first. */
  private async insert(row: {
    tenantId: number;
    queueId: number;
    number: string;
    reason: CallbackReason;
    originLinkedid: string | null;
    queuedAt: Date;
    priority: number;
  }): Promise<number> {
    const result = await this.db
      .insertInto('callbacks')
      .values(row)
      .onDuplicateKeyUpdate({ originLinkedid: row.originLinkedid })
      .executeTakeFirst();
    const inserted = Number(result.insertId ?? 0);
    if (inserted > 0) return inserted;
    const existing = await this.db
      .selectFrom('callbacks')
      .select('id')
      .where('originLinkedid', '=', row.originLinkedid)
      .executeTakeFirstOrThrow();
    return existing.id;
  }

  // ── Dialling the customer ──────────────────────────────────────────────────────────────────

  async turn(call: ActiveCall, leg: AgentLeg, queue: QueueConfig): Promise<void> {
    const ticket = call.callback!;
    let route;
    try {
      route = await this.dialer.callbackRoute(call.tenantId, leg.userId, ticket.number, call.to || undefined);
    } catch (err) {
      // Refused by the fraud rules or no trunk: trying again would not help.
      const code = err instanceof AppError ? err.code : 'error';
      this.log.warn({ taskId: ticket.taskId, code }, 'callback cannot be dialled');
      await this.db.updateTable('callbacks').set({ status: 'failed', lastCause: code }).where('id', '=', ticket.taskId).execute();
      await this.engine.finish(call, 'system', CAUSE_CONGESTION, 'callback_failed');
      return;
    }
    await this.db
      .updateTable('callbacks')
      .set((eb) => ({
        status: 'dialing',
        attempts: eb('attempts', '+', 1),
        callbackLinkedid: call.id,
        agentUserId: leg.userId,
        nextAttemptAt: null,
      }))
      .where('id', '=', ticket.taskId)
      .execute();
    const startedAt = Date.now();
    call.cdr = new CallRecord(this.cdrStore, this.log, call.tenantId, call.id, {
      start: {
        tenantId: call.tenantId,
        linkedid: call.id,
        direction: 'outbound',
        channelKind: 'pstn',
        fromNumber: route.callerId ?? null,
        toNumber: route.number,
        didId: null,
        startedAt: new Date(startedAt),
      },
    });
    void call.cdr.transition(
      'callback',
      { state: 'offered', queueId: queue.id, queuedAt: new Date(call.enqueuedAt), agentUserId: leg.userId },
      { taskId: ticket.taskId, reason: ticket.reason, agentUserId: leg.userId },
    );
    this.dialling.set(call.id, { call, taskId: ticket.taskId });
    if (call.ended) return;
    ticket.ringback = await this.telephony.play(leg.channelId, 'tone:ring');
    // Until the customer answers, their leg's end is this module's (the attempt failed).
    this.engine.watchChannel(call.id, (cause) => this.customerFailed(call, cause));
    try {
      await this.dialer.dialExternal(route, {
        channelId: call.id,
        appArgs: [ControlLeg.Callback, call.id],
        originator: leg.channelId,
        timeoutSeconds: CUSTOMER_RING_SECONDS,
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, taskId: ticket.taskId }, 'callback could not be placed');
      this.engine.unwatchChannel(call.id);
      await this.customerFailed(call, CAUSE_CONGESTION);
    }
  }

  private async customerAnswered(channelId: string, callId: string): Promise<void> {
    const entry = this.dialling.get(callId);
    const call = entry?.call;
    if (!call?.callback || call.ended || channelId !== call.id || !call.agent) {
      await this.telephony.hangup(channelId, 'normal');
      return;
    }
    this.engine.unwatchChannel(call.id);
    const ticket = call.callback;
    ticket.customerAnswered = true;
    const answeredAt = Date.now();
    call.answeredAt = answeredAt;
    void call.cdr.transition(
      'answered',
      { state: 'answered', answeredAt: new Date(answeredAt), waitMs: answeredAt - call.enqueuedAt, agentUserId: call.agent.userId },
      { agentUserId: call.agent.userId, taskId: ticket.taskId },
    );
    this.engine.notify(call, 'call.answered', call.agent.userId);
    await this.db.updateTable('callbacks').set({ status: 'completed', lastCause: null }).where('id', '=', ticket.taskId).execute();
    if (ticket.ringback) await this.telephony.stopPlayback(ticket.ringback);
    if (!call.bridgeId || call.ended) return;
    await this.telephony.addToBridge(call.bridgeId, [call.id, call.agent.channelId]);
  }

  /** The customer's leg ended before answering: the call ends, and the task waits for its retry. */
  private async customerFailed(call: ActiveCall, cause: number): Promise<void> {
    await this.engine.finish(call, 'caller', cause, `callback_${dispositionFor(cause)}`);
  }

  /** Every call of a callback ends here: the task is completed, retried later, or failed. */
  private async callEnded(callId: string): Promise<void> {
    const entry = this.dialling.get(callId);
    if (!entry) return;
    this.dialling.delete(callId);
    const { call, taskId } = entry;
    if (call.callback?.customerAnswered) return;
    const task = await this.db.selectFrom('callbacks').selectAll().where('id', '=', taskId).executeTakeFirst();
    if (!task || task.status !== 'dialing') return;
    const row = await this.db.selectFrom('calls').select(['hangupCause']).where('linkedid', '=', callId).executeTakeFirst();
    const lastCause = row?.hangupCause ?? null;
    if (task.attempts >= task.maxAttempts) {
      await this.db.updateTable('callbacks').set({ status: 'failed', lastCause }).where('id', '=', taskId).execute();
      this.log.info({ taskId, attempts: task.attempts }, 'callback failed: attempts used up');
      return;
    }
    const nextAttemptAt = new Date(Date.now() + (this.options.retrySeconds ?? 120) * 1000);
    await this.db.updateTable('callbacks').set({ status: 'waiting', lastCause, nextAttemptAt }).where('id', '=', taskId).execute();
    this.schedule({ ...task, nextAttemptAt }, call.to);
  }

  // ── Loading, retries, the API ──────────────────────────────────────────────────────────────

  /**
   * Puts every waiting task into its queue (at start and after each reconnect; tasks already
   * there are left alone). A task left 'dialing' by a crash is completed if its call was
   * answered, else waits again.
   */
  async load(): Promise<void> {
    const dialing = await this.db.selectFrom('callbacks').selectAll().where('status', '=', 'dialing').execute();
    for (const task of dialing) {
      if (task.callbackLinkedid && this.dialling.has(task.callbackLinkedid)) continue;
      const call = task.callbackLinkedid
        ? await this.db.selectFrom('calls').select(['answeredAt', 'state']).where('linkedid', '=', task.callbackLinkedid).executeTakeFirst()
        : undefined;
      const status = call?.answeredAt ? 'completed' : 'waiting';
      await this.db.updateTable('callbacks').set({ status }).where('id', '=', task.id).where('status', '=', 'dialing').execute();
    }
    const waiting = await this.db
      .selectFrom('callbacks')
      .selectAll()
      .where('status', '=', 'waiting')
      .orderBy('queuedAt')
      .orderBy('id')
      .execute();
    for (const task of waiting) this.schedule(task, '');
    if (waiting.length > 0) this.log.info({ count: waiting.length }, 'callback tasks loaded');
  }

  private schedule(
    task: { id: number; tenantId: number; queueId: number; number: string; reason: string; queuedAt: Date; priority: number; nextAttemptAt: Date | null },
    to: string,
  ): void {
    if (this.engine.waitingCallback(task.id) || this.retries.has(task.id)) return;
    const enqueue = () =>
      this.engine.enqueueCallback({
        id: randomUUID(),
        tenantId: task.tenantId,
        queueId: task.queueId,
        taskId: task.id,
        number: task.number,
        reason: task.reason,
        to,
        queuedAt: task.queuedAt.getTime(),
        priority: task.priority,
      });
    const delay = (task.nextAttemptAt?.getTime() ?? 0) - Date.now();
    if (delay <= 0) {
      this.engine.background(enqueue());
      return;
    }
    const timer = setTimeout(() => {
      this.retries.delete(task.id);
      this.engine.background(this.stillWaiting(task.id).then((yes) => (yes ? enqueue() : false)));
    }, delay);
    timer.unref();
    this.retries.set(task.id, timer);
  }

  private async stillWaiting(taskId: number): Promise<boolean> {
    const row = await this.db.selectFrom('callbacks').select('status').where('id', '=', taskId).executeTakeFirst();
    return row?.status === 'waiting';
  }

  /** A callback an admin or supervisor asks for: placed in the queue by now. */
  async scheduleTask(tenantId: number, queueId: number, raw: string): Promise<number> {
    const number = callableNumber(raw);
    if (!number) {
      throw new AppError('VALIDATION_FAILED', 'Invalid body', 400, [{ field: 'number', message: 'is not a phone number' }]);
    }
    const queue = await this.db.selectFrom('queues').select('id').where('tenantId', '=', tenantId).where('id', '=', queueId).executeTakeFirst();
    if (!queue) {
      throw new AppError('VALIDATION_FAILED', 'Invalid body', 400, [{ field: 'queueId', message: 'is not a queue of this tenant' }]);
    }
    const queuedAt = new Date();
    const taskId = await this.insert({ tenantId, queueId, number, reason: 'scheduled', originLinkedid: null, queuedAt, priority: 0 });
    this.schedule({ id: taskId, tenantId, queueId, number, reason: 'scheduled', queuedAt, priority: 0, nextAttemptAt: null }, '');
    return taskId;
  }

  /** Cancels a task that has not been answered; a task being dialled right now cannot be. */
  async cancelTask(tenantId: number, taskId: number): Promise<void> {
    const task = await this.db.selectFrom('callbacks').select(['status']).where('tenantId', '=', tenantId).where('id', '=', taskId).executeTakeFirst();
    if (!task) throw new AppError('NOT_FOUND', 'No such callback', 404);
    if (task.status !== 'waiting') throw new AppError('CALLBACK_NOT_WAITING', `The callback is ${task.status}`, 409);
    if (!this.engine.dropCallback(taskId)) throw new AppError('CALLBACK_NOT_WAITING', 'The callback is being dialled', 409);
    const timer = this.retries.get(taskId);
    if (timer) clearTimeout(timer);
    this.retries.delete(taskId);
    await this.cancel(taskId, 'cancelled');
  }

  /** The queue position of a waiting task's call (1 = next), if it is in its queue. */
  position(taskId: number): number | null {
    const call = this.engine.waitingCallback(taskId);
    if (!call || call.queueId === undefined) return null;
    const position = this.engine.placeInQueue(call);
    return position > 0 ? position : null;
  }

  close(): void {
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
  }
}
