/**
 * Transfers of a connected call: blind (the agent lets go at once) and attended (the agent
 * consults the target first, the customer on hold, then completes or cancels).
 *
 * Blind, to
 *   an agent   the agent is released to wrap-up; the customer hears music while the target's phone
 *              rings (reserved like an ACD offer, for the call's queue's ring timeout); on answer
 *              they are bridged. Not answered: see "fallback".
 *   a queue    the agent is released; the customer joins the queue keeping their original
 *              arrival time (the time they entered the queue they were answered from, or the call's
 *              start): they are served before callers who arrived after them, as if they had waited
 *              there all along — being transferred is the contact center's doing, not theirs.
 *   a number   through the tenant's trunk with its caller-ID policy; the outside party then holds
 *              the agent's place in the call (their hang-up ends it).
 *   fallback   a target that does not answer sends the customer back into the call's queue (in
 *              their original place), or, for a call that had none, to an announcement.
 *
 * Attended:
 *   consult    customer on hold (music, and the agent hears nothing of them); the agent is moved to
 *              a second bridge and hears ringing until the target answers there
 *   complete   the target joins the customer (unheld); the original agent is released
 *   cancel     the consult leg is hung up; the agent is back with the customer, unheld
 *   The target not answering or hanging up ends the consult like a cancel. The agent hanging up
 *   during an answered consult completes the transfer; before that, it ends the call.
 *
 * CDR: one row per call, `agent_user_id` the final agent, `answered_at`/`wait_ms` the first answer;
 * `transferred` (state and event, with from/to/kind), `transfer_answered`, `transfer_failed`,
 * `consult_*` events keep the history.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import type { Telephony } from '../../ari/telephony.ts';
import { AppError } from '../../lib/errors.ts';
import { invalidField } from '../../lib/field-errors.ts';
import type { AgentRegistry } from '../agents/registry.ts';
import { AgentStateError } from './acd/agent-state.ts';
import { CallStatus, type ActiveCall, type AgentLeg } from './call.ts';
import type { CallEngine, CallEvent } from './engine.ts';
import { Cause, ControlLeg, agentCallerId } from './legs.ts';
import type { Dialer, ExternalRoute } from './outbound.ts';
import { loadQueue } from './queues.ts';

export type TransferTarget =
  | { type: 'agent'; userId: number }
  | { type: 'queue'; queueId: number }
  | { type: 'number'; number: string };

/** How long a transfer target rings when the call has no queue to take the ring timeout from. */
const DEFAULT_RING_SECONDS = 20;
const CONSULT_RING_SECONDS = 30;
const NOBODY_AVAILABLE = 'sound:vm-nobodyavail';

/** A blind transfer's target, ringing. */
interface Pending {
  call: ActiveCall;
  target: TransferTarget;
  channelId: string;
  /** The target agent, reserved with an offer while their phone rings. */
  userId?: number;
}

interface Consult {
  call: ActiveCall;
  target: Exclude<TransferTarget, { type: 'queue' }>;
  /** The agent who consults (the call's agent until completion). */
  agent: AgentLeg;
  bridgeId: string;
  channelId: string;
  answered: boolean;
  /** The target agent, reserved with an offer while ringing. */
  userId?: number;
  ringback?: string;
}

export interface TransferState {
  kind: 'blind' | 'consult';
  target: TransferTarget;
  answered: boolean;
}

const conflict = (code: string, message: string) => new AppError(code, message, 409);

export class CallTransfers {
  private readonly blind = new Map<string, Pending>();
  private readonly consults = new Map<string, Consult>();
  /** Calls whose other party is an outside number now: callId → that channel. */
  private readonly outside = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly telephony: Telephony,
    private readonly engine: CallEngine,
    private readonly agents: AgentRegistry,
    private readonly dialer: Dialer,
    private readonly log: FastifyBaseLogger,
  ) {
    engine.registerLeg(ControlLeg.Transfer, (event, args) =>
      this.targetAnswered(event.channel.id, args[0] ?? ''),
    );
    engine.registerLeg(ControlLeg.Consult, (event, args) =>
      this.consultAnswered(event.channel.id, args[0] ?? ''),
    );
    engine.on('call', (event: CallEvent) => {
      if (event.type === 'call.ended') this.callEnded(event.callId);
    });
  }

  /** What is going on with a call's transfer, for the live-call API. */
  state(callId: string): TransferState | null {
    const pending = this.blind.get(callId);
    if (pending) return { kind: 'blind', target: pending.target, answered: false };
    const consult = this.consults.get(callId);
    if (consult) return { kind: 'consult', target: consult.target, answered: consult.answered };
    return null;
  }

  private assertConnected(call: ActiveCall): AgentLeg {
    if (this.blind.has(call.id) || this.consults.has(call.id)) {
      throw conflict('TRANSFER_IN_PROGRESS', 'A transfer of this call is already under way');
    }
    if (call.status !== CallStatus.Connected || !call.agent) {
      throw conflict('CALL_NOT_CONNECTED', 'The call is not connected to an agent');
    }
    return call.agent;
  }

  /** Checks an agent target and reserves them (an offer) so nothing else rings them meanwhile. */
  private async reserveAgent(call: ActiveCall, userId: number, current: number): Promise<string> {
    if (userId === current) throw invalidField('userId', 'is the agent already on the call');
    const agent = await this.agents.get(userId);
    if (!agent || agent.tenantId !== call.tenantId) throw invalidField('userId', 'no such agent');
    if (!agent.endpoint) throw conflict('AGENT_UNREACHABLE', 'That agent has no phone');
    try {
      this.agents.apply(userId, { type: 'offer', callId: call.id });
    } catch (err) {
      if (err instanceof AgentStateError) {
        throw conflict(
          'AGENT_NOT_AVAILABLE',
          `That agent is ${agent.state.status.replace('_', ' ')}, not available`,
        );
      }
      throw err;
    }
    return agent.endpoint;
  }

  private async ringSeconds(call: ActiveCall): Promise<number> {
    if (call.queueId === undefined) return DEFAULT_RING_SECONDS;
    return (
      (await loadQueue(this.db, call.tenantId, call.queueId))?.ringTimeoutSeconds ??
      DEFAULT_RING_SECONDS
    );
  }

  private outsideRoute(
    call: ActiveCall,
    byUserId: number,
    number: string,
    purpose: 'transfer' | 'consult',
  ): Promise<ExternalRoute> {
    return this.dialer.external(call.tenantId, byUserId, number, purpose, { callTo: call.to });
  }

  // ── Blind ──────────────────────────────────────────────────────────────────────────────────

  async blindTransfer(call: ActiveCall, target: TransferTarget, byUserId: number): Promise<void> {
    const from = this.assertConnected(call);
    let endpoint: string | undefined;
    let route: ExternalRoute | undefined;
    if (target.type === 'agent')
      endpoint = await this.reserveAgent(call, target.userId, from.userId);
    if (target.type === 'queue' && !(await loadQueue(this.db, call.tenantId, target.queueId))) {
      throw invalidField('queueId', 'no such queue');
    }
    if (target.type === 'number')
      route = await this.outsideRoute(call, byUserId, target.number, 'transfer');
    const ringSeconds = await this.ringSeconds(call);
    if (call.ended || call.agent !== from) {
      if (target.type === 'agent') this.agents.tryApply(target.userId, { type: 'offer_cancelled' });
      throw conflict('CALL_NOT_CONNECTED', 'The call changed meanwhile');
    }

    await this.engine.unhold(call);
    void call.cdr.transition(
      'transferred',
      { state: 'transferred' },
      { kind: 'blind', to: target, fromUserId: from.userId, byUserId },
    );
    this.engine.notify(call, 'call.transferred', from.userId);
    // Claimed before the first await below: a second request now finds the transfer under way.
    const stamp = Date.now().toString(36);
    const pending: Pending | undefined =
      target.type === 'queue'
        ? undefined
        : {
            call,
            target,
            channelId:
              target.type === 'agent'
                ? `${call.id}-a${target.userId}-${stamp}`
                : `${call.id}-x${stamp}`,
            ...(target.type === 'agent' ? { userId: target.userId } : {}),
          };
    if (pending) {
      this.blind.set(call.id, pending);
      this.engine.watchChannel(pending.channelId, (cause) => this.targetFailed(pending, cause));
    }
    await this.engine.releaseAgent(call);

    if (target.type === 'queue') {
      await this.engine.requeue(call, target.queueId, call.enqueuedAt || call.startedAt);
      return;
    }
    await this.telephony.startMoh(call.id);
    // The customer may have hung up meanwhile (callEnded then dropped the pending transfer).
    if (this.blind.get(call.id) !== pending) return;
    try {
      if (route) {
        await this.dialer.dialExternal(route, {
          channelId: pending!.channelId,
          appArgs: [ControlLeg.Transfer, call.id],
          originator: call.id,
        });
      } else {
        await this.telephony.originate({
          channelId: pending!.channelId,
          endpoint: `PJSIP/${endpoint}`,
          appArgs: [ControlLeg.Transfer, call.id],
          callerId: call.from,
          timeoutSeconds: ringSeconds,
          originator: call.id,
          variables: { CALLDOCK_CALL_ID: call.id },
        });
      }
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message, callId: call.id },
        'transfer target unreachable',
      );
      this.engine.unwatchChannel(pending!.channelId);
      await this.targetFailed(pending!, Cause.Congestion);
    }
  }

  private async targetAnswered(channelId: string, callId: string): Promise<void> {
    const pending = this.blind.get(callId);
    const call = pending?.call;
    if (!pending || !call || call.ended || pending.channelId !== channelId) {
      await this.telephony.hangup(channelId, 'normal');
      return;
    }
    this.blind.delete(callId);
    this.engine.unwatchChannel(channelId);
    if (pending.userId !== undefined) this.agents.tryApply(pending.userId, { type: 'answered' });
    this.takeOver(call, pending.target, channelId, pending.userId);
    await this.telephony.stopMoh(call.id);
    await this.join(call, channelId);
  }

  /**
   * The answered target becomes the customer's other party, in the same tick as the previous
   * one let go: from here a hang-up on its side ends the call like an agent's would.
   */
  private takeOver(
    call: ActiveCall,
    target: TransferTarget,
    channelId: string,
    userId: number | undefined,
  ): void {
    if (userId !== undefined) {
      this.engine.attachAgent(call, { channelId, userId, answered: true });
      void call.cdr.transition(
        'transfer_answered',
        { state: 'answered', agentUserId: userId },
        { to: target },
      );
    } else {
      this.connectOutside(call, channelId);
      void call.cdr.transition('transfer_answered', { state: 'answered' }, { to: target });
    }
  }

  /** Puts a leg into the call's bridge with the customer (making the bridge if it is gone). */
  private async join(call: ActiveCall, channelId: string): Promise<void> {
    if (!call.bridgeId) {
      call.bridgeId = await this.telephony.createBridge('mixing', `call-${call.id}`);
      await this.telephony.addToBridge(call.bridgeId, [call.id]);
    }
    await this.telephony.addToBridge(call.bridgeId, [channelId]);
  }

  /** The customer now talks with an outside number; its hang-up ends the call. */
  private connectOutside(call: ActiveCall, channelId: string): void {
    call.status = CallStatus.Connected;
    this.outside.set(call.id, channelId);
    this.engine.watchChannel(channelId, (cause) => {
      this.outside.delete(call.id);
      return this.engine.finish(call, 'agent', cause, 'transferred_out');
    });
  }

  /** A blind transfer's target did not answer (or could not be reached). */
  private async targetFailed(pending: Pending, cause: number): Promise<void> {
    const call = pending.call;
    if (this.blind.get(call.id) !== pending) return;
    this.blind.delete(call.id);
    if (pending.userId !== undefined) {
      // Like an ACD offer: letting it ring out makes the agent not ready; declining too.
      this.agents.tryApply(pending.userId, {
        type: cause === Cause.AnsweredElsewhere ? 'offer_cancelled' : 'rang_out',
      });
    }
    void call.cdr.transition('transfer_failed', {}, { to: pending.target, cause });
    this.engine.notify(call, 'call.transfer_failed', pending.userId);
    if (call.ended) return;
    await this.telephony.stopMoh(call.id);
    if (call.queueId !== undefined) {
      await this.engine.requeue(call, call.queueId, call.enqueuedAt || call.startedAt);
    } else {
      await this.engine.endWithAnnouncement(call, NOBODY_AVAILABLE, 'transfer not answered');
    }
  }

  // ── Attended ───────────────────────────────────────────────────────────────────────────────

  async consult(call: ActiveCall, target: Consult['target'], byUserId: number): Promise<void> {
    const agent = this.assertConnected(call);
    let endpoint: string | undefined;
    let route: ExternalRoute | undefined;
    if (target.type === 'agent')
      endpoint = await this.reserveAgent(call, target.userId, agent.userId);
    else route = await this.outsideRoute(call, byUserId, target.number, 'consult');
    if (call.ended || call.agent !== agent || !call.bridgeId || this.consults.has(call.id)) {
      if (target.type === 'agent') this.agents.tryApply(target.userId, { type: 'offer_cancelled' });
      throw conflict('CALL_NOT_CONNECTED', 'The call changed meanwhile');
    }
    const stamp = Date.now().toString(36);
    const consult: Consult = {
      call,
      target,
      agent,
      bridgeId: '',
      channelId:
        target.type === 'agent' ? `${call.id}-a${target.userId}-c${stamp}` : `${call.id}-c${stamp}`,
      answered: false,
      ...(target.type === 'agent' ? { userId: target.userId } : {}),
    };
    this.consults.set(call.id, consult);
    void call.cdr.transition(
      'consult_started',
      {},
      { to: target, byUserId, agentUserId: agent.userId },
    );
    this.engine.notify(call, 'call.consult_started', agent.userId);

    await this.engine.hold(call);
    consult.bridgeId = await this.telephony.createBridge('mixing', `consult-${call.id}`);
    this.engine.watchChannel(agent.channelId, (cause) => this.agentLeftConsult(consult, cause));
    this.engine.watchChannel(consult.channelId, (cause) =>
      this.endConsult(consult, 'target_gone', cause),
    );
    await this.telephony.removeFromBridge(call.bridgeId, agent.channelId);
    await this.telephony.addToBridge(consult.bridgeId, [agent.channelId]);
    consult.ringback = await this.telephony.play(agent.channelId, 'tone:ring');
    if (this.consults.get(call.id) !== consult) return;
    try {
      if (route) {
        await this.dialer.dialExternal(route, {
          channelId: consult.channelId,
          appArgs: [ControlLeg.Consult, call.id],
          originator: agent.channelId,
          timeoutSeconds: CONSULT_RING_SECONDS,
        });
      } else {
        const who = this.agents.peek(agent.userId);
        await this.telephony.originate({
          channelId: consult.channelId,
          endpoint: `PJSIP/${endpoint}`,
          appArgs: [ControlLeg.Consult, call.id],
          ...(who ? { callerId: agentCallerId(who.displayName, who.extension) } : {}),
          timeoutSeconds: CONSULT_RING_SECONDS,
          originator: agent.channelId,
          variables: { CALLDOCK_CALL_ID: call.id },
        });
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message, callId: call.id }, 'consult target unreachable');
      this.engine.unwatchChannel(consult.channelId);
      await this.endConsult(consult, 'target_gone', Cause.Congestion);
    }
  }

  private async consultAnswered(channelId: string, callId: string): Promise<void> {
    const consult = this.consults.get(callId);
    if (!consult || consult.channelId !== channelId || consult.call.ended) {
      await this.telephony.hangup(channelId, 'normal');
      return;
    }
    consult.answered = true;
    if (consult.userId !== undefined) this.agents.tryApply(consult.userId, { type: 'answered' });
    if (consult.ringback) await this.telephony.stopPlayback(consult.ringback);
    await this.telephony.addToBridge(consult.bridgeId, [channelId]);
    void consult.call.cdr.transition('consult_answered', {}, { to: consult.target });
  }

  private activeConsult(call: ActiveCall): Consult {
    const consult = this.consults.get(call.id);
    if (!consult) throw conflict('NO_CONSULT', 'The call has no consult under way');
    return consult;
  }

  /** The target takes the customer over; the consulting agent is released. */
  async completeConsult(call: ActiveCall, byUserId: number): Promise<void> {
    const consult = this.activeConsult(call);
    if (!consult.answered)
      throw conflict('CONSULT_NOT_ANSWERED', 'The consulted party has not answered yet');
    await this.complete(consult, byUserId);
  }

  private async complete(consult: Consult, byUserId: number | undefined): Promise<void> {
    const call = consult.call;
    this.consults.delete(call.id);
    this.engine.unwatchChannel(consult.channelId);
    this.engine.unwatchChannel(consult.agent.channelId);
    void call.cdr.transition(
      'transferred',
      { state: 'transferred' },
      {
        kind: 'attended',
        to: consult.target,
        fromUserId: consult.agent.userId,
        ...(byUserId ? { byUserId } : {}),
      },
    );
    this.engine.notify(call, 'call.transferred', consult.agent.userId);
    // releaseAgent lets go of the agent before its first await; the target takes over at once.
    const released = this.engine.releaseAgent(call);
    this.takeOver(call, consult.target, consult.channelId, consult.userId);
    await released;
    await this.engine.unhold(call);
    await this.telephony.destroyBridge(consult.bridgeId);
    await this.join(call, consult.channelId);
  }

  async cancelConsult(call: ActiveCall, byUserId: number): Promise<void> {
    const consult = this.activeConsult(call);
    await this.endConsult(consult, 'cancelled', Cause.Normal, byUserId);
  }

  /** The consult is over without a transfer: the agent goes back to the customer, unheld. */
  private async endConsult(
    consult: Consult,
    why: 'cancelled' | 'target_gone',
    cause: number,
    byUserId?: number,
  ): Promise<void> {
    const call = consult.call;
    if (this.consults.get(call.id) !== consult) return;
    this.consults.delete(call.id);
    this.engine.unwatchChannel(consult.channelId);
    this.engine.unwatchChannel(consult.agent.channelId);
    this.releaseTarget(consult);
    if (why === 'cancelled') await this.telephony.hangup(consult.channelId, 'normal');
    if (consult.ringback) await this.telephony.stopPlayback(consult.ringback);
    void call.cdr.transition(
      `consult_${why === 'cancelled' ? 'cancelled' : 'ended'}`,
      {},
      {
        to: consult.target,
        answered: consult.answered,
        ...(why === 'target_gone' ? { cause } : {}),
        ...(byUserId ? { byUserId } : {}),
      },
    );
    this.engine.notify(call, 'call.consult_ended', consult.agent.userId);
    await this.telephony.removeFromBridge(consult.bridgeId, consult.agent.channelId);
    await this.telephony.destroyBridge(consult.bridgeId);
    if (call.ended || call.agent !== consult.agent || !call.bridgeId) return;
    await this.telephony.addToBridge(call.bridgeId, [consult.agent.channelId]);
    await this.engine.unhold(call);
  }

  /** The consulted agent's part is over without taking the call. */
  private releaseTarget(consult: Consult): void {
    if (consult.userId === undefined) return;
    if (consult.answered)
      this.engine.background(this.engine.wrapUp(consult.call, consult.userId, 0));
    else this.agents.tryApply(consult.userId, { type: 'offer_cancelled' });
  }

  /** The consulting agent hung up: an answered consult becomes the transfer, else the call ends. */
  private async agentLeftConsult(consult: Consult, cause: number): Promise<void> {
    const call = consult.call;
    if (this.consults.get(call.id) !== consult) return;
    if (consult.answered && !call.ended) {
      await this.complete(consult, undefined);
      return;
    }
    this.consults.delete(call.id);
    this.engine.unwatchChannel(consult.channelId);
    await this.telephony.hangup(consult.channelId, 'normal');
    this.releaseTarget(consult);
    await this.telephony.destroyBridge(consult.bridgeId);
    await this.engine.finish(call, 'agent', cause);
  }

  // ── Clean-up ───────────────────────────────────────────────────────────────────────────────

  /** The call ended (whoever hung up): nothing of its transfer may ring or talk on. */
  private callEnded(callId: string): void {
    const pending = this.blind.get(callId);
    if (pending) {
      this.blind.delete(callId);
      this.engine.unwatchChannel(pending.channelId);
      this.engine.background(this.telephony.hangup(pending.channelId, 'normal'));
      if (pending.userId !== undefined)
        this.agents.tryApply(pending.userId, { type: 'offer_cancelled' });
    }
    const consult = this.consults.get(callId);
    if (consult) {
      this.consults.delete(callId);
      this.engine.unwatchChannel(consult.channelId);
      this.engine.unwatchChannel(consult.agent.channelId);
      this.engine.background(this.telephony.hangup(consult.channelId, 'normal'));
      this.engine.background(this.telephony.destroyBridge(consult.bridgeId));
      this.releaseTarget(consult);
    }
    const outside = this.outside.get(callId);
    if (outside) {
      this.outside.delete(callId);
      this.engine.unwatchChannel(outside);
      this.engine.background(this.telephony.hangup(outside, 'normal'));
    }
  }
}
