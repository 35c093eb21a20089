/**
 * Calls agents place: from their own phone (a WebRTC or desk phone dialling enters Stasis with
 * ['webrtc', <dialled>]) or with click-to-call (POST /calls/dial rings the agent's phone first).
 *
 *   dialled is another agent's extension ──► internal call: ring that agent (CDR 'internal')
 *   dialled is a number ─────────────────► outbound through the tenant's trunk, with the caller
 *                                           ID its policy gives (CDR 'outbound')
 *   not allowed / no trunk / unknown ───► refused: the phone is hung up with the cause, and the
 *                                           attempt gets a CDR row ('refused' event)
 *
 * The agent's phone hears ringing while the other side rings, and is bridged with it on answer.
 * An outbound call's id is the outside party's channel (the "customer" of hold and transfer); an
 * internal call's is the dialling agent's channel, and the colleague who answers is its agent.
 *
 * Numbers go through `checkNumber` (the user's outbound permission, then a pluggable guard: the
 * place for fraud rules such as international or premium prefixes), also for transfers and
 * consults to outside numbers.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import type { AriChannel, StasisStartEvent } from '../../ari/events.ts';
import type { Telephony } from '../../ari/telephony.ts';
import { AppError } from '../../lib/errors.ts';
import type { AgentRegistry } from '../agents/registry.ts';
import { AgentStatus } from './acd/agent-state.ts';
import { ActiveCall, type AgentLeg } from './call.ts';
import { CallRecord, type NewCall } from './cdr.ts';
import type { CdrStore } from './cdr-store.ts';
import { LegKind, type CallEngine, type CallEvent } from './engine.ts';
import {
  Cause,
  ControlLeg,
  agentCallerId,
  dispositionFor,
  hangUpAndFinish,
  reasonFor,
} from './legs.ts';

/** How long an outside number or a colleague rings before the call gives up. */
const OUTBOUND_RING_SECONDS = 60;
export const INTERNAL_RING_SECONDS = 30;
const NUMBER = /^\+?[0-9]{3,20}$/;

export interface Trunk {
  id: number;
  asteriskId: string;
  callerIdPolicy: 'tenant_default' | 'did' | 'agent' | 'fixed' | null;
  callerIdNumber: string | null;
}

/** Why a number may not be dialled, or undefined when it may. */
export type OutboundGuard = (request: {
  tenantId: number;
  userId: number;
  number: string;
  purpose: 'outbound' | 'transfer' | 'consult' | 'callback';
}) => Promise<string | undefined>;

/** An outside number, ready to dial: the trunk and the caller ID to present. */
export interface ExternalRoute {
  number: string;
  trunk: Trunk;
  callerId: string | undefined;
}

/** The person behind a phone, as far as placing calls goes. */
interface Dialler {
  tenantId: number;
  userId: number;
  displayName: string;
  extension: string | null;
  outboundAllowed: boolean;
  endpoint: string;
}

type Plan =
  | { kind: 'internal'; userId: number; endpoint: string }
  | { kind: 'external'; route: ExternalRoute }
  | { kind: 'refused'; reason: string; cause: number; direction: NewCall['direction']; message?: string };

/** A call this module placed, until it ends. */
interface Placed {
  call: ActiveCall;
  kind: 'outbound' | 'internal';
  dialler: AgentLeg;
  /** The far side's leg until it answers (internal: the colleague's phone). */
  ringing: string;
  /** Internal: the colleague being rung. */
  colleague?: number;
  /** The colleague was reserved with an ACD offer while ringing (they were available). */
  reserved?: number;
  /** Ringback played to a phone that was already answered (click-to-call). */
  ringback?: string;
  answered: boolean;
}

export class Dialer {
  private guard: OutboundGuard = async () => undefined;
  private readonly placed = new Map<string, Placed>();

  constructor(
    private readonly db: Db,
    private readonly cdrStore: CdrStore,
    private readonly telephony: Telephony,
    private readonly engine: CallEngine,
    private readonly agents: AgentRegistry,
    private readonly log: FastifyBaseLogger,
  ) {
    engine.registerLeg(LegKind.WebRtc, (event, args) =>
      this.fromPhone(event, args[0] ?? event.channel.dialplan.exten),
    );
    engine.registerLeg(ControlLeg.ClickToCall, (event, args) =>
      this.fromPhone(event, args[0] ?? ''),
    );
    engine.registerLeg(ControlLeg.Outbound, (event, args) =>
      this.farEndAnswered(event.channel.id, args[0] ?? ''),
    );
    engine.registerLeg(ControlLeg.Internal, (event, args) =>
      this.farEndAnswered(event.channel.id, args[0] ?? ''),
    );
    engine.on('call', (event: CallEvent) => {
      if (event.type === 'call.ended') this.ended(event.callId);
    });
  }

  /** Fraud rules (international, premium prefixes, rate limits) plug in here. */
  setGuard(guard: OutboundGuard): void {
    this.guard = guard;
  }

  // ── Numbers, trunks and caller IDs ─────────────────────────────────────────────────────────

  /**
   * The route to an outside number for this user, or an AppError saying why not: the user may
   * not call out (403), the guard refuses (403), the tenant has no trunk (409).
   */
  async external(
    tenantId: number,
    userId: number,
    dialled: string,
    purpose: 'outbound' | 'transfer' | 'consult',
    context: { callTo?: string } = {},
  ): Promise<ExternalRoute> {
    const number = dialled.replace(/[\s().-]/g, '');
    if (!NUMBER.test(number))
      throw new AppError('INVALID_NUMBER', `${dialled} is not a phone number`, 400);
    const user = await this.db
      .selectFrom('users')
      .select(['outboundAllowed'])
      .where('tenantId', '=', tenantId)
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!user?.outboundAllowed) {
      throw new AppError('OUTBOUND_NOT_ALLOWED', 'This user may not call outside numbers', 403);
    }
    const refusal = await this.guard({ tenantId, userId, number, purpose });
    if (refusal) throw new AppError('OUTBOUND_REFUSED', refusal, 403);
    const trunk = await this.trunkOf(tenantId);
    if (!trunk)
      throw new AppError(
        'NO_TRUNK',
        'The tenant has no enabled SIP trunk to call out through',
        409,
      );
    return {
      number,
      trunk,
      callerId: await this.callerIdFor(tenantId, trunk, userId, context.callTo),
    };
  }

  /**
   * The route to call a customer back for a queue: the queue's decision, not the agent's, so
   * the agent's own outbound permission does not apply; the guard (fraud rules) does.
   */
  async callbackRoute(tenantId: number, userId: number, dialled: string, callTo?: string): Promise<ExternalRoute> {
    const number = dialled.replace(/[\s().-]/g, '');
    if (!NUMBER.test(number)) throw new AppError('INVALID_NUMBER', `${dialled} is not a phone number`, 400);
    const refusal = await this.guard({ tenantId, userId, number, purpose: 'callback' });
    if (refusal) throw new AppError('OUTBOUND_REFUSED', refusal, 403);
    const trunk = await this.trunkOf(tenantId);
    if (!trunk) throw new AppError('NO_TRUNK', 'The tenant has no enabled SIP trunk to call out through', 409);
    return { number, trunk, callerId: await this.callerIdFor(tenantId, trunk, userId, callTo) };
  }

  /** The tenant's trunk for outbound calls: its first enabled one. */
  private async trunkOf(tenantId: number): Promise<Trunk | undefined> {
    return this.db
      .selectFrom('sipEndpoints')
      .select(['id', 'asteriskId', 'callerIdPolicy', 'callerIdNumber'])
      .where('tenantId', '=', tenantId)
      .where('kind', '=', 'trunk')
      .where('enabled', '=', 1)
      .orderBy('id')
      .executeTakeFirst();
  }

  /**
   * The number an outbound call presents, by the trunk's policy:
   *   fixed           the trunk's number;
   *   did             the DID the customer called (a transfer of an inbound call), else default;
   *   agent           a DID routed to the agent themselves, else default;
   *   tenant_default  the trunk's number if it has one, else the tenant's first DID.
   */
  private async callerIdFor(
    tenantId: number,
    trunk: Trunk,
    userId: number,
    callTo?: string,
  ): Promise<string | undefined> {
    const dids = () =>
      this.db.selectFrom('dids').select('number').where('tenantId', '=', tenantId).orderBy('id');
    const tenantDefault = async () =>
      trunk.callerIdNumber ?? (await dids().executeTakeFirst())?.number;
    switch (trunk.callerIdPolicy) {
      case 'fixed':
        return trunk.callerIdNumber ?? (await tenantDefault());
      case 'did': {
        const did = callTo
          ? await dids().where('number', '=', callTo).executeTakeFirst()
          : undefined;
        return did?.number ?? (await tenantDefault());
      }
      case 'agent': {
        const own = await dids()
          .where('targetType', '=', 'user')
          .where('targetId', '=', userId)
          .executeTakeFirst();
        return own?.number ?? (await tenantDefault());
      }
      default:
        return tenantDefault();
    }
  }

  /** Originates an outside leg through the route's trunk. */
  async dialExternal(
    route: ExternalRoute,
    request: { channelId: string; appArgs: string[]; originator: string; timeoutSeconds?: number },
  ): Promise<void> {
    await this.telephony.originate({
      channelId: request.channelId,
      endpoint: `PJSIP/${route.number}@${route.trunk.asteriskId}`,
      appArgs: request.appArgs,
      ...(route.callerId ? { callerId: route.callerId } : {}),
      timeoutSeconds: request.timeoutSeconds ?? OUTBOUND_RING_SECONDS,
      originator: request.originator,
    });
  }

  // ── Calls from an agent's phone ────────────────────────────────────────────────────────────

  /** The agent whose phone this channel is (`PJSIP/t42-agent-7-0000001a`). */
  private async diallerOf(channel: AriChannel): Promise<Dialler | undefined> {
    const endpoint = /^PJSIP\/(.+)-[0-9a-f]+$/.exec(channel.name)?.[1];
    if (!endpoint) return undefined;
    const row = await this.db
      .selectFrom('sipEndpoints')
      .innerJoin('users', 'users.id', 'sipEndpoints.userId')
      .select([
        'users.tenantId',
        'users.id',
        'users.displayName',
        'users.extension',
        'users.outboundAllowed',
        'users.status',
      ])
      .where('sipEndpoints.asteriskId', '=', endpoint)
      .where('sipEndpoints.kind', '=', 'agent')
      .where('sipEndpoints.enabled', '=', 1)
      .executeTakeFirst();
    if (!row || row.tenantId === null || row.status !== 'active') return undefined;
    return {
      tenantId: row.tenantId,
      userId: row.id,
      displayName: row.displayName,
      extension: row.extension,
      outboundAllowed: Boolean(row.outboundAllowed),
      endpoint,
    };
  }

  /** What `dialled` means for this agent. */
  private async plan(dialler: Dialler, dialled: string): Promise<Plan> {
    const colleague = await this.db
      .selectFrom('users')
      .select(['id'])
      .where('tenantId', '=', dialler.tenantId)
      .where('extension', '=', dialled)
      .where('status', '=', 'active')
      .executeTakeFirst();
    if (colleague) {
      const agent =
        colleague.id === dialler.userId ? undefined : await this.agents.get(colleague.id);
      if (!agent?.endpoint)
        return {
          kind: 'refused',
          reason: 'extension_unreachable',
          cause: Cause.Absent,
          direction: 'internal',
        };
      if (agent.state.status === AgentStatus.OnCall || agent.state.status === AgentStatus.Ringing) {
        return {
          kind: 'refused',
          reason: 'extension_busy',
          cause: Cause.Busy,
          direction: 'internal',
        };
      }
      return { kind: 'internal', userId: colleague.id, endpoint: agent.endpoint };
    }
    try {
      return {
        kind: 'external',
        route: await this.external(dialler.tenantId, dialler.userId, dialled, 'outbound'),
      };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const refusal: Record<string, [string, number]> = {
        INVALID_NUMBER: ['unknown_number', Cause.Unallocated],
        OUTBOUND_NOT_ALLOWED: ['outbound_not_allowed', Cause.Rejected],
        OUTBOUND_REFUSED: ['outbound_refused', Cause.Rejected],
        NO_TRUNK: ['no_trunk', Cause.Congestion],
      };
      const [reason, cause] = refusal[err.code] ?? ['failed', Cause.Congestion];
      return { kind: 'refused', reason, cause, direction: 'outbound', message: err.message };
    }
  }

  /** An agent's phone dialled `dialled` (from the phone itself, or click-to-call's first leg). */
  private async fromPhone(event: StasisStartEvent, dialled: string): Promise<void> {
    const channel = event.channel;
    const dialler = await this.diallerOf(channel);
    if (!dialler) {
      // Not an agent's phone (a widget visitor is the widget's to route): nothing to do here yet.
      this.log.warn({ channel: channel.name, dialled }, 'call from an unknown phone refused');
      await this.telephony.hangup(channel.id, 'rejected');
      return;
    }
    const startedAt = Date.now();
    const record = await this.agents.get(dialler.userId);
    const busy =
      record?.state.status === AgentStatus.OnCall || record?.state.status === AgentStatus.Ringing;
    const plan: Plan = busy
      ? { kind: 'refused', reason: 'agent_busy', cause: Cause.Busy, direction: 'outbound' }
      : await this.plan(dialler, dialled);
    const from = dialler.extension ?? dialler.endpoint;

    if (plan.kind === 'refused') {
      const call = this.newCall(channel.id, dialler, startedAt, {
        direction: plan.direction,
        channelKind: plan.direction === 'internal' ? 'internal' : 'pstn',
        fromNumber: from,
        toNumber: dialled,
      });
      this.log.info(
        { userId: dialler.userId, dialled, reason: plan.reason },
        'call from an agent refused',
      );
      void call.cdr.transition(
        'refused',
        { agentUserId: dialler.userId },
        { reason: plan.reason, cause: plan.cause, dialled, ...(plan.message ? { message: plan.message } : {}) },
      );
      await hangUpAndFinish(
        this.engine,
        this.telephony,
        call,
        channel.id,
        reasonFor(plan.cause),
        'system',
        plan.reason,
        plan.cause,
      );
      return;
    }

    const phone: AgentLeg = { channelId: channel.id, userId: dialler.userId, answered: true };
    let placed: Placed;
    if (plan.kind === 'internal') {
      const call = this.newCall(channel.id, dialler, startedAt, {
        direction: 'internal',
        channelKind: 'internal',
        fromNumber: from,
        toNumber: dialled,
      });
      const leg = `${call.id}-a${plan.userId}-${startedAt.toString(36)}`;
      placed = {
        call,
        kind: 'internal',
        dialler: phone,
        ringing: leg,
        colleague: plan.userId,
        answered: false,
      };
      // An available colleague is reserved so the ACD does not ring them at the same time.
      if (this.agents.tryApply(plan.userId, { type: 'offer', callId: call.id }))
        placed.reserved = plan.userId;
      void call.cdr.transition('dialled', {}, { byUserId: dialler.userId, toUserId: plan.userId });
    } else {
      const call = this.newCall(randomUUID(), dialler, startedAt, {
        direction: 'outbound',
        channelKind: 'pstn',
        fromNumber: plan.route.callerId ?? from,
        toNumber: plan.route.number,
      });
      placed = { call, kind: 'outbound', dialler: phone, ringing: call.id, answered: false };
      void call.cdr.transition(
        'dialled',
        { agentUserId: dialler.userId },
        {
          byUserId: dialler.userId,
          trunk: plan.route.trunk.asteriskId,
          callerId: plan.route.callerId ?? null,
        },
      );
    }
    const call = placed.call;
    this.placed.set(call.id, placed);
    this.agents.tryApply(dialler.userId, { type: 'direct_call', callId: call.id });

    // Until the far side answers, the ends of both phones are this module's to handle.
    this.engine.watchChannel(phone.channelId, (cause) =>
      this.engine.finish(call, placed.kind === 'outbound' ? 'agent' : 'caller', cause, 'cancelled'),
    );
    this.engine.watchChannel(placed.ringing, (cause) => this.farEndFailed(placed, cause));

    if (channel.state === 'Up') {
      placed.ringback = await this.telephony.play(phone.channelId, 'tone:ring');
    } else {
      await this.telephony.ring(phone.channelId);
    }
    // Hung up meanwhile: `ended` has cleaned up, and nothing may ring now.
    if (call.ended) return;
    try {
      if (plan.kind === 'internal') {
        await this.telephony.originate({
          channelId: placed.ringing,
          endpoint: `PJSIP/${plan.endpoint}`,
          appArgs: [ControlLeg.Internal, call.id],
          callerId: agentCallerId(dialler.displayName, dialler.extension),
          timeoutSeconds: INTERNAL_RING_SECONDS,
          originator: phone.channelId,
          variables: { CALLDOCK_CALL_ID: call.id },
        });
      } else {
        await this.dialExternal(plan.route, {
          channelId: call.id,
          appArgs: [ControlLeg.Outbound, call.id],
          originator: phone.channelId,
        });
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message, callId: call.id }, 'could not place the call');
      this.engine.unwatchChannel(placed.ringing);
      await this.farEndFailed(placed, Cause.Congestion);
    }
  }

  private newCall(
    id: string,
    dialler: Dialler,
    startedAt: number,
    values: Pick<NewCall, 'direction' | 'channelKind' | 'fromNumber' | 'toNumber'>,
  ): ActiveCall {
    const cdr = new CallRecord(this.cdrStore, this.log, dialler.tenantId, id, {
      start: {
        tenantId: dialler.tenantId,
        linkedid: id,
        didId: null,
        startedAt: new Date(startedAt),
        ...values,
      },
    });
    const call = new ActiveCall(
      id,
      dialler.tenantId,
      startedAt,
      values.fromNumber ?? '',
      values.toNumber ?? '',
      cdr,
    );
    this.engine.adopt(call);
    return call;
  }

  /** The far side (outside number or colleague) answered: bridge it with the dialling phone. */
  private async farEndAnswered(channelId: string, callId: string): Promise<void> {
    const placed = this.placed.get(callId);
    const call = placed?.call;
    if (!placed || !call || call.ended || placed.ringing !== channelId || placed.answered) {
      await this.telephony.hangup(channelId, 'normal');
      return;
    }
    // Outbound: the dialling agent is the call's agent. Internal: the colleague who answered is.
    // Both phones become the engine's in this tick, so no hang-up goes unseen.
    placed.answered = true;
    this.engine.unwatchChannel(channelId);
    this.engine.unwatchChannel(placed.dialler.channelId);
    const agent: AgentLeg =
      placed.kind === 'outbound'
        ? placed.dialler
        : { channelId, userId: placed.colleague!, answered: true };
    if (placed.kind === 'internal') {
      this.agents.tryApply(
        agent.userId,
        placed.reserved !== undefined
          ? { type: 'answered' }
          : { type: 'direct_call', callId: call.id },
      );
    }
    this.engine.attachAgent(call, agent);
    const answeredAt = call.answeredAt ?? Date.now();
    void call.cdr.transition(
      'answered',
      {
        state: 'answered',
        agentUserId: agent.userId,
        answeredAt: new Date(answeredAt),
        waitMs: answeredAt - call.startedAt,
      },
      { agentUserId: agent.userId },
    );

    if (placed.ringback) await this.telephony.stopPlayback(placed.ringback);
    await this.telephony.answer(placed.dialler.channelId);
    const bridgeId = await this.telephony.createBridge('mixing', `call-${call.id}`);
    call.bridgeId = bridgeId;
    if (call.ended) {
      await this.telephony.destroyBridge(bridgeId);
      return;
    }
    await this.telephony.addToBridge(bridgeId, [call.id, agent.channelId]);
  }

  /** The far side ended before answering (busy, no answer, unreachable): so does the call. */
  private async farEndFailed(placed: Placed, cause: number): Promise<void> {
    const call = placed.call;
    if (call.ended || placed.answered) return;
    this.engine.unwatchChannel(placed.dialler.channelId);
    if (placed.reserved !== undefined) {
      this.agents.tryApply(placed.reserved, { type: 'offer_cancelled' });
      placed.reserved = undefined;
    }
    void call.cdr.transition('not_answered', {}, { cause });
    const side = placed.kind === 'outbound' ? 'caller' : 'agent';
    await hangUpAndFinish(
      this.engine,
      this.telephony,
      call,
      placed.dialler.channelId,
      reasonFor(cause),
      side,
      dispositionFor(cause),
      cause,
    );
  }

  /** Whatever ended the call: nothing of it may ring on, and the dialling agent is free again. */
  private ended(callId: string): void {
    const placed = this.placed.get(callId);
    if (!placed) return;
    this.placed.delete(callId);
    this.engine.unwatchChannel(placed.dialler.channelId);
    if (!placed.answered) {
      this.engine.unwatchChannel(placed.ringing);
      this.engine.background(this.telephony.hangup(placed.ringing, 'normal'));
      this.engine.background(this.telephony.hangup(placed.dialler.channelId, 'normal'));
      if (placed.reserved !== undefined)
        this.agents.tryApply(placed.reserved, { type: 'offer_cancelled' });
    }
    // The engine frees the call's agent; the dialler of an internal call (or of an outbound call
    // that never connected) is this module's to free.
    if (placed.kind === 'internal' || !placed.answered) {
      const state = this.agents.peek(placed.dialler.userId)?.state;
      if (state?.status === AgentStatus.OnCall && state.callId === callId) {
        this.engine.background(this.engine.wrapUp(placed.call, placed.dialler.userId));
      }
    }
  }

  // ── Click-to-call ──────────────────────────────────────────────────────────────────────────

  /**
   * Rings the user's own phone; when they answer, it dials `dialled` as if they had dialled it
   * on the phone. Refusals that can be known now are errors now.
   */
  async clickToCall(
    tenantId: number,
    userId: number,
    dialled: string,
  ): Promise<{ kind: 'internal' | 'external'; channelId: string }> {
    const agent = await this.agents.get(userId);
    if (!agent || agent.tenantId !== tenantId || !agent.endpoint) {
      throw new AppError('NO_PHONE', 'You have no phone to call from', 409);
    }
    if (agent.state.status === AgentStatus.OnCall || agent.state.status === AgentStatus.Ringing) {
      throw new AppError('AGENT_BUSY', 'You are on a call already', 409);
    }
    const user = await this.db
      .selectFrom('users')
      .select(['displayName', 'extension'])
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    const dialler: Dialler = {
      tenantId,
      userId,
      displayName: user.displayName,
      extension: user.extension,
      outboundAllowed: true,
      endpoint: agent.endpoint,
    };
    const plan = await this.plan(dialler, dialled);
    if (plan.kind === 'refused') {
      if (plan.reason === 'outbound_not_allowed')
        throw new AppError('OUTBOUND_NOT_ALLOWED', 'You may not call outside numbers', 403);
      if (plan.reason === 'outbound_refused')
        throw new AppError('OUTBOUND_REFUSED', plan.message ?? 'This number may not be called', 403);
      if (plan.reason === 'no_trunk')
        throw new AppError(
          'NO_TRUNK',
          'The tenant has no enabled SIP trunk to call out through',
          409,
        );
      if (plan.reason === 'extension_busy')
        throw new AppError('EXTENSION_BUSY', `Extension ${dialled} is on a call`, 409);
      if (plan.reason === 'extension_unreachable')
        throw new AppError('EXTENSION_UNREACHABLE', `Extension ${dialled} has no phone`, 409);
      throw new AppError(
        'INVALID_NUMBER',
        `${dialled} is neither an extension nor a phone number`,
        400,
      );
    }
    const channelId = randomUUID();
    try {
      await this.telephony.originate({
        channelId,
        endpoint: `PJSIP/${agent.endpoint}`,
        appArgs: [ControlLeg.ClickToCall, dialled],
        callerId: `"Calling ${dialled}" <${dialled}>`,
        timeoutSeconds: INTERNAL_RING_SECONDS,
      });
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message, userId },
        'click-to-call: the phone cannot be reached',
      );
      throw new AppError('PHONE_UNREACHABLE', 'Your phone cannot be reached', 409);
    }
    return { kind: plan.kind, channelId };
  }
}
