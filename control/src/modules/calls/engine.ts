/**
 * The call engine: every channel that enters Stasis(calldock) is decided here.
 *
 * One dispatcher owns the map from channel to call. Inbound trunk calls are routed by DID (and
 * business hours) to a target; queue targets wait in the queue's holding bridge with music on
 * hold while the ACD offers them to agents (one originated leg per agent, ring-all rings several);
 * the first leg to answer is bridged with the caller and the others stop ringing at once.
 *
 * Handlers never trust that a channel still exists after an await: a caller can hang up at any
 * moment, and every path checks `call.ended` before acting again.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/database.ts';
import { AriEvent, type AnyAriEvent, type StasisStartEvent } from '../../ari/events.ts';
import type { HangupReason, Telephony } from '../../ari/telephony.ts';
import { AgentStatus, MISSED_CALL_REASON } from './acd/agent-state.ts';
import { planOffers, serviceOrder, type Candidate } from './acd/strategy.ts';
import type { AgentRecord, AgentRegistry } from '../agents/registry.ts';
import { ActiveCall, CallStatus, type AgentLeg, type CallbackTicket } from './call.ts';
import { CallRecord } from './cdr.ts';
import type { CdrStore } from './cdr-store.ts';
import type { QueueConfig, QueueMember, Target } from './queues.ts';
import { RoutingView } from './view.ts';

/** Members' user ids, per members list: the view hands out the same array until it reloads. */
const idsOfMembers = new WeakMap<readonly QueueMember[], number[]>();
function memberIds(members: readonly QueueMember[]): number[] {
  let ids = idsOfMembers.get(members);
  if (!ids) {
    ids = members.map((m) => m.userId);
    idsOfMembers.set(members, ids);
  }
  return ids;
}

/** First Stasis argument of each kind of channel the engine creates or receives. */
export enum LegKind {
  Trunk = 'trunk',
  WebRtc = 'webrtc',
  Agent = 'agent',
}

export interface RouteDecision {
  tenantId: number;
  didId: number;
  /** The DID's business hours are closed: this is the after-hours target. */
  afterHours: boolean;
  /** Caller priority of the line: served before lower priorities in a queue. */
  priority: number;
  target: Target | undefined;
}

export type RouteResolver = (number: string, at: Date) => Promise<RouteDecision | undefined>;

/**
 * Handles one kind of routing target (IVR menus, voicemail, ...), registered by the module that
 * owns it. It owns the call until it ends it or routes it on with `engine.routeTo`.
 */
export type TargetHandler = (call: ActiveCall, target: Target) => Promise<void>;

/**
 * Takes the channels of one kind (the first Stasis argument) that another module creates or
 * receives: transfer and consult legs, snoops, outbound calls. `args` are the remaining arguments.
 */
export type LegHandler = (event: StasisStartEvent, args: string[]) => Promise<void>;

/**
 * Looks at a channel from a WebRTC/SIP phone (first Stasis argument 'webrtc') before the
 * dialer does, and takes it if it is its own (a website visitor's short-lived endpoint).
 */
export type WebRtcClaimer = (event: StasisStartEvent, dialled: string) => Promise<boolean>;

/** Told when a watched channel ends; a promise it returns is run like any unawaited step. */
export type ChannelWatcher = (cause: number) => void | Promise<void>;

/**
 * Callbacks (callbacks.ts) plug in here: the engine keeps a waiting callback in its queue place
 * and offers it like any caller; the handler owns the tasks in MySQL and dialling the customer.
 */
export interface CallbackHandler {
  /**
   * A queued caller asked to be called back at `number`: the task's id, or undefined when no
   * callback can be taken (no usable number, database away).
   */
  requested(call: ActiveCall, queue: QueueConfig, number: string, reason: 'requested' | 'web'): Promise<number | undefined>;
  /** The caller hung up after waiting `waitedMs` in a queue that calls abandoned callers back. */
  abandoned(call: ActiveCall, queue: QueueConfig, waitedMs: number): Promise<void>;
  /** A task the engine could not keep (the caller was answered meanwhile): cancel it. */
  cancel(taskId: number, why: string): Promise<void>;
  /** An agent took a callback (their answered leg is `leg`; `call.bridgeId` is made): dial the customer. */
  turn(call: ActiveCall, leg: AgentLeg, queue: QueueConfig): Promise<void>;
}

/** What a waiting callback needs to take its place in a queue. */
export interface WaitingCallback {
  /** The call's id, and the channel id the customer's leg will get. */
  id: string;
  tenantId: number;
  queueId: number;
  taskId: number;
  number: string;
  reason: string;
  /** The number the customer had called (shown to the agent), if any. */
  to: string;
  queuedAt: number;
  priority: number;
}

/** Who ended a call, as the CDR says it. */
export type HangupSide = 'caller' | 'agent' | 'system';

interface QueueRuntime {
  config: QueueConfig;
  waiting: ActiveCall[];
  holdingBridgeId: string | undefined;
  lastOfferedUserId: number | undefined;
  running: boolean;
  rerun: boolean;
  relaxTimer?: NodeJS.Timeout;
}

export interface EngineOptions {
  /** Seconds a customer waits for a crashed agent's softphone to return (default 30). */
  agentReconnectGraceSeconds?: number;
  /** How long a routing read (DID, queue, members, limits) is reused (RoutingView; default 250). */
  routingFreshMs?: number;
}

export interface CallEvent {
  tenantId: number;
  type: string;
  callId: string;
  queueId?: number;
  agentUserId?: number;
  /** `call.offered`: what the ringing agent's console shows. */
  offer?: OfferDetails;
}

/** What an agent's console shows while a call rings: the queue, the line called, since when. */
export interface OfferDetails {
  queue: string;
  did: string;
  startedAt: string;
}

/** Asterisk hangup causes the engine reads (Q.850). */
const CAUSE_NO_ANSWER = 19;
const CAUSE_ANSWERED_ELSEWHERE = 26;
/**
 * Causes that mean the agent's side failed rather than hung up: no response, out of order,
 * network or temporary failure, timer expiry. A deliberate hang-up is normal clearing (16).
 */
const AGENT_FAILURE_CAUSES = new Set([18, 27, 38, 41, 42, 47, 102]);
/** Recorded when a channel was found gone without us seeing its hang-up (Q.850 "unspecified"). */
const CAUSE_LOST = 31;
const RECONNECT_RETRY_MS = 2_000;

const NO_SERVICE = 'sound:ss-noservice';

export function offerDetails(call: Pick<ActiveCall, 'to' | 'startedAt'>, config: Pick<QueueConfig, 'name'>): OfferDetails {
  return { queue: config.name, did: call.to, startedAt: new Date(call.startedAt).toISOString() };
}

/**
 * The X-Calldock-Offer header of an agent leg's INVITE, as a query string with URL-encoded
 * values. The dialplan gives trunk callers `call=<id>` only (asterisk/config/main/extensions.conf);
 * legs given one by the engine carry the offer's details too: `call=…&queue=…&did=…&started=…`.
 */
export function offerHeader(call: Pick<ActiveCall, 'id' | 'to' | 'startedAt'>, config: Pick<QueueConfig, 'name'>): string {
  const { queue, did, startedAt } = offerDetails(call, config);
  return new URLSearchParams({ call: call.id, queue, did, started: startedAt }).toString();
}

/** Asterisk refused an originate because the channel it was to be linked to does not exist. */
function isOriginatorGone(err: unknown): boolean {
  return /originator channel was not found/i.test((err as Error | undefined)?.message ?? '');
}

/** The agent's user id from an agent leg's channel id (`<linkedid>-a<user>-…`, `cb-a<user>-…`). */
export function agentOfLeg(channelId: string, linkedid: string): number | null {
  const rest = channelId.startsWith(`${linkedid}-a`) ? channelId.slice(linkedid.length + 2) : channelId.startsWith('cb-a') ? channelId.slice(4) : undefined;
  const match = rest === undefined ? null : /^(\d+)-/.exec(rest);
  return match ? Number(match[1]) : null;
}

export class CallEngine extends EventEmitter {
  private readonly calls = new Map<string, ActiveCall>();
  /** Every channel the engine knows (callers and agent legs) → its call. */
  private readonly byChannel = new Map<string, ActiveCall>();
  private readonly queues = new Map<number, QueueRuntime>();
  private arrivals = 0;
  /** Whether someone is taken by another channel (chats): no call is offered to them. */
  private busyElsewhere: (tenantId: number, userId: number) => boolean = () => false;
  private readonly hangupCauses = new Map<string, number>();
  private readonly targetHandlers = new Map<string, TargetHandler>();
  /** Call starts in the last second, per tenant (calls-per-second limit). */
  private readonly recentStarts = new Map<number, number[]>();
  /** MySQL reads with a memory for outages. */
  readonly view: RoutingView;
  /** CDR writes of calls that have ended but may still be on their way to MySQL. */
  private readonly finishing = new Set<Promise<unknown>>();
  private readonly legHandlers = new Map<string, LegHandler>();
  /** Channels another module watches: their end goes to it, before the engine's own handling. */
  private readonly watched = new Map<string, ChannelWatcher>();
  private callbacks: CallbackHandler | undefined;
  private readonly webRtcClaimers: WebRtcClaimer[] = [];

  constructor(
    private readonly db: Db,
    private readonly cdrStore: CdrStore,
    private readonly telephony: Telephony,
    private readonly agents: AgentRegistry,
    private readonly resolveRoute: RouteResolver,
    private readonly log: FastifyBaseLogger,
    private readonly options: EngineOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.setMaxListeners(50);
    this.view = new RoutingView(db, resolveRoute, log, options.routingFreshMs);
  }

  /** Lets a module take calls routed to its kind of target ('ivr', 'voicemail', ...). */
  registerTarget(type: Target['type'], handler: TargetHandler): void {
    this.targetHandlers.set(type, handler);
  }

  /** A live call by id, if it belongs to the tenant. */
  getCall(tenantId: number, callId: string): ActiveCall | undefined {
    const call = this.calls.get(callId);
    return call && call.tenantId === tenantId ? call : undefined;
  }

  /** The call an agent is connected to, if any. */
  callOfAgent(tenantId: number, userId: number): ActiveCall | undefined {
    return [...this.calls.values()].find((c) => c.tenantId === tenantId && c.agent?.userId === userId);
  }

  /** Live calls (for wallboards and tests). */
  activeCalls(): ActiveCall[] {
    return [...this.calls.values()];
  }

  queueDepth(queueId: number): number {
    return this.queues.get(queueId)?.waiting.length ?? 0;
  }

  /** A waiting call's place in its queue, by the order the ACD serves (1 = next; 0 = not queued). */
  placeInQueue(call: ActiveCall): number {
    const queue = call.queueId === undefined ? undefined : this.queues.get(call.queueId);
    if (!queue || call.status !== CallStatus.Queued) return 0;
    const order = serviceOrder(queue.waiting);
    return order.indexOf(call) + 1;
  }

  /** The Stasis handler: called for every StasisStart of the calldock app. */
  async onStasisStart(event: StasisStartEvent): Promise<void> {
    const [kind, ...args] = event.args;
    if (kind === LegKind.WebRtc) {
      const dialled = args[0] ?? event.channel.dialplan.exten;
      for (const claim of this.webRtcClaimers) if (await claim(event, dialled)) return;
    }
    switch (kind) {
      case LegKind.Trunk:
        return this.inbound(event, args[0] ?? event.channel.dialplan.exten);
      case LegKind.Agent:
        return this.agentAnswered(event.channel.id, args[0] ?? '');
      default: {
        // LegKind.WebRtc (an agent's phone dialling out) is handled by modules/calls/outbound.ts.
        const handler = kind === undefined ? undefined : this.legHandlers.get(kind);
        if (handler) return handler(event, args);
        this.log.warn({ kind, channel: event.channel.name }, 'no handler for this kind of channel');
        await this.telephony.hangup(event.channel.id, 'congestion');
      }
    }
  }

  /**
   * Every ARI event: the engine cares about channels it knows going away. A channel that entered
   * Stasis ends with StasisEnd (its ChannelDestroyed is not sent to the app any more); an agent
   * leg that never answered ends with ChannelDestroyed. Whichever comes first counts, with the
   * cause from the hang-up request when the event itself has none.
   */
  onAriEvent(event: AnyAriEvent): void {
    const channelId = (event.channel as { id?: string } | undefined)?.id;
    if (!channelId) return;
    if (event.type === AriEvent.ChannelDtmfReceived) {
      const call = this.byChannel.get(channelId);
      // Only a queued caller's own keypad: an IVR or a transfer reads digits its own way.
      if (call && call.id === channelId && call.status === CallStatus.Queued && !call.callback) {
        this.spawn(this.callbackDigit(call, String(event.digit)));
      }
      return;
    }
    if (event.type === AriEvent.ChannelHangupRequest) {
      // A soft hang-up request (ours, through ARI) carries Asterisk's soft-hangup flags, not a Q.850 cause.
      if ((this.byChannel.has(channelId) || this.watched.has(channelId)) && event.cause !== undefined && !event.soft) {
        this.hangupCauses.set(channelId, Number(event.cause));
      }
      return;
    }
    if (event.type !== AriEvent.ChannelDestroyed && event.type !== AriEvent.StasisEnd) return;
    const call = this.byChannel.get(channelId);
    const cause = Number(event.cause ?? this.hangupCauses.get(channelId) ?? 16);
    this.hangupCauses.delete(channelId);
    const watcher = this.watched.get(channelId);
    if (watcher) {
      this.watched.delete(channelId);
      const step = watcher(cause);
      if (step) this.spawn(step);
      return;
    }
    if (!call) return;
    this.byChannel.delete(channelId);
    this.channelGone(call, channelId, cause);
  }

  // ── Inbound routing ────────────────────────────────────────────────────────────────────────

  private async inbound(event: StasisStartEvent, dialled: string): Promise<void> {
    const stasisAt = performance.now();
    const channel = event.channel;
    const route = await this.view.route(dialled, new Date(this.now()));
    if (!route) {
      this.log.warn({ dialled, from: channel.caller.number, channel: channel.name }, 'call to an unknown DID refused');
      await this.announceAndHangup(channel.id, NO_SERVICE, 'unallocated');
      return;
    }
    const startedAt = this.now();
    const cdr = new CallRecord(this.cdrStore, this.log, route.tenantId, channel.id, {
      start: {
        tenantId: route.tenantId,
        linkedid: channel.id,
        direction: 'inbound',
        channelKind: 'pstn',
        fromNumber: channel.caller.number || null,
        toNumber: dialled,
        didId: route.didId,
        startedAt: new Date(startedAt),
      },
    });
    const call = new ActiveCall(channel.id, route.tenantId, startedAt, channel.caller.number, dialled, cdr);
    call.offerHeaderInherited = true;
    call.priority = route.priority;
    call.stasisAt = stasisAt;
    this.calls.set(call.id, call);
    this.byChannel.set(call.id, call);
    this.publish(call, 'call.created');
    if (!(await this.withinLimits(call))) return;
    if (route.afterHours) void cdr.transition('after_hours', {}, { target: route.target ?? null });
    await this.routeTo(call, route.target);
  }

  /**
   * The tenant's limits at call start: a suspended tenant, too many calls at once or per
   * second is refused unanswered with congestion (SIP 503), and the refusal is in the CDR. A
   * call within limits gets the tenant's maximum duration as a timer.
   */
  private async withinLimits(call: ActiveCall): Promise<boolean> {
    const limits = await this.view.limits(call.tenantId);
    if (!limits) return false;
    const now = this.now();
    const starts = (this.recentStarts.get(call.tenantId) ?? []).filter((t) => now - t < 1_000);
    let concurrent = 0;
    for (const c of this.calls.values()) if (c.tenantId === call.tenantId) concurrent += 1;
    let refused: string | undefined;
    if (limits.status !== 'active') refused = 'tenant_suspended';
    else if (concurrent > limits.maxConcurrentCalls) refused = 'max_concurrent_calls';
    else if (starts.length >= limits.maxCallsPerSecond) refused = 'max_calls_per_second';
    if (refused) {
      this.log.warn({ tenantId: call.tenantId, callId: call.id, limit: refused }, 'call refused by a tenant limit');
      void call.cdr.transition('refused', { disposition: `refused_${refused}` }, { limit: refused, concurrent, perSecond: starts.length });
      await this.telephony.hangup(call.id, 'congestion');
      return false;
    }
    starts.push(now);
    this.recentStarts.set(call.tenantId, starts);
    call.setDeadline(limits.maxCallSeconds * 1000, () => {
      if (call.ended) return;
      void call.cdr.transition('max_duration', {}, { seconds: limits.maxCallSeconds });
      this.spawn(this.hangupCall(call));
    });
    return true;
  }

  /** Sends a call (not connected to an agent) to a target: queue, announcement, or a handler's. */
  async routeTo(call: ActiveCall, target: Target | undefined): Promise<void> {
    if (call.ended) return;
    if (!target) {
      await this.endWithAnnouncement(call, NO_SERVICE, 'no route');
      return;
    }
    switch (target.type) {
      case 'queue':
        if (target.id === null) return this.endWithAnnouncement(call, NO_SERVICE, 'queue target without id');
        return this.enqueue(call, target.id);
      case 'hangup':
        return this.endWithAnnouncement(call, target.value ?? 'sound:vm-goodbye', 'hangup target');
      default: {
        const handler = this.targetHandlers.get(target.type);
        if (!handler) {
          this.log.error({ callId: call.id, target }, 'no handler for this target type');
          return this.endWithAnnouncement(call, NO_SERVICE, `no handler for ${target.type}`);
        }
        void call.cdr.transition('routed', {}, { target });
        return handler(call, target);
      }
    }
  }

  async endWithAnnouncement(call: ActiveCall, media: string, why: string): Promise<void> {
    void call.cdr.transition('announced', {}, { media, why });
    await this.announceAndHangup(call.id, media, 'normal');
  }

  private async announceAndHangup(channelId: string, media: string, reason: HangupReason): Promise<void> {
    await this.telephony.answer(channelId);
    await this.telephony.playAndWait(channelId, media, 30_000);
    await this.telephony.hangup(channelId, reason);
  }

  // ── Queues ─────────────────────────────────────────────────────────────────────────────────

  private async runtime(tenantId: number, queueId: number): Promise<QueueRuntime | undefined> {
    // The members are read too (the ACD round after it needs them): at the same time.
    const [config] = await Promise.all([this.view.queue(tenantId, queueId), this.view.members(tenantId, queueId)]);
    if (!config) return undefined;
    let runtime = this.queues.get(queueId);
    if (!runtime) {
      runtime = { config, waiting: [], holdingBridgeId: undefined, lastOfferedUserId: undefined, running: false, rerun: false };
      this.queues.set(queueId, runtime);
    }
    runtime.config = config;
    return runtime;
  }

  /**
   * `head`: before everyone waiting. `arrivedAt`: a call transferred in keeps its place by this
   * time (see `seqForArrival`) instead of joining the back of the queue.
   */
  private async enqueue(call: ActiveCall, queueId: number, options: { head?: boolean; arrivedAt?: number } = {}): Promise<void> {
    const queue = await this.runtime(call.tenantId, queueId);
    if (call.ended) return;
    if (!queue) return this.endWithAnnouncement(call, NO_SERVICE, `queue ${queueId} not found`);
    const config = queue.config;

    const members = await this.view.members(call.tenantId, queueId);
    const agents = this.agents.peekMany(memberIds(members)) ?? (await this.loadAgents(members));
    if (call.ended) return;
    if (!agents.some((a) => a !== undefined && a.state.status !== AgentStatus.Offline)) {
      this.log.info({ callId: call.id, queue: config.name }, 'no agent logged in: overflow');
      return this.overflow(call, config, 'no_agents');
    }

    call.status = CallStatus.Queued;
    call.queueId = queueId;
    // A caller whose agent was lost goes before everyone waiting (and before later such callers).
    call.seq = options.head
      ? ++this.arrivals - Number.MAX_SAFE_INTEGER / 2
      : options.arrivedAt !== undefined
        ? this.seqForArrival(queue, options.arrivedAt)
        : ++this.arrivals;
    call.enqueuedAt = this.now();
    queue.waiting.push(call);
    void call.cdr.transition('queued', { state: 'queued', queueId, queuedAt: new Date(call.enqueuedAt) }, { queue: config.name });
    this.publish(call, 'call.queued');

    call.after(config.maxWaitSeconds * 1000, () => {
      if (call.status === CallStatus.Queued && call.queueId === queueId) this.spawn(this.overflow(call, config, 'max_wait'));
    });
    // Decide first: an available agent should ring before the caller hears a single note, and
    // the agent's INVITE leaves before the caller's answer is even asked for.
    const round = this.runAcd(queueId);
    this.spawn(round);
    call.parking = round.then(() => this.park(call, queue));
    await call.parking;
  }

  /**
   * Answers a queued caller and puts them in the holding bridge. Whoever takes the caller out
   * again (an answer, an overflow) waits for this first: an agent who answers within
   * milliseconds must not have the caller land in the holding bridge after being bridged.
   */
  private async park(call: ActiveCall, queue: QueueRuntime): Promise<void> {
    const config = queue.config;
    await this.telephony.answer(call.id);
    if (call.ended || call.status !== CallStatus.Queued) return;
    queue.holdingBridgeId ??= await this.holdingBridge(config);
    if (call.ended || call.status !== CallStatus.Queued) return;
    await this.telephony.addToBridge(queue.holdingBridgeId, [call.id]);
    if (config.announcePositionSeconds > 0) {
      call.every(config.announcePositionSeconds * 1000, () => this.spawn(this.announcePosition(call, queue)));
    }
  }

  /** Waits until the caller is parked (or not) in the holding bridge; never throws. */
  private async parked(call: ActiveCall): Promise<void> {
    await call.parking?.catch(() => undefined);
  }

  /**
   * The queue's holding bridge has an id of its own (`queue-<id>`): two callers parked in the
   * same tick, or a control plane restarted while callers wait, find the one bridge instead of
   * each making one that nobody would ever take down.
   */
  private async holdingBridge(config: QueueConfig): Promise<string> {
    const bridgeId = await this.telephony.createBridge('holding', `queue-${config.id}`, `queue-${config.id}`);
    await this.telephony.bridgeMoh(bridgeId, config.mohClass);
    return bridgeId;
  }

  private async announcePosition(call: ActiveCall, queue: QueueRuntime): Promise<void> {
    if (call.status !== CallStatus.Queued || call.offers.size > 0) return;
    const position = queue.waiting.indexOf(call) + 1;
    if (position < 1) return;
    const media = ['sound:queue-thereare', `number:${position}`, 'sound:queue-callswaiting'];
    // "To be called back, press 1" (keeping your place).
    if (queue.config.callbackEnabled && this.callbacks) media.push('sound:vm-tocallback', 'sound:vm-press', `digits:${queue.config.callbackDigit}`);
    await this.telephony.play(call.id, media);
  }

  private removeFromQueue(call: ActiveCall): QueueRuntime | undefined {
    if (call.queueId === undefined) return undefined;
    const queue = this.queues.get(call.queueId);
    if (queue) queue.waiting = queue.waiting.filter((c) => c !== call);
    call.clearTimers();
    return queue;
  }

  private async overflow(call: ActiveCall, config: QueueConfig, reason: string): Promise<void> {
    if (call.ended) return;
    const queue = this.removeFromQueue(call);
    this.cancelOffers(call);
    call.status = CallStatus.Routing;
    await this.parked(call);
    if (queue?.holdingBridgeId) await this.telephony.removeFromBridge(queue.holdingBridgeId, call.id);
    void call.cdr.transition('overflow', {}, { queue: config.name, reason, target: config.overflow ?? null });
    this.publish(call, 'call.overflow');
    if (config.overflow?.type === 'queue' && config.overflow.id === config.id) {
      return this.endWithAnnouncement(call, NO_SERVICE, 'queue overflows to itself');
    }
    await this.routeTo(call, config.overflow ?? { type: 'hangup', id: null, value: 'sound:vm-goodbye' });
  }

  /**
   * One ACD round for a queue. Rounds of one queue never overlap (a request during a round
   * makes it go again), and offers are reserved in the same tick they are planned.
   */
  private async runAcd(queueId: number): Promise<void> {
    const queue = this.queues.get(queueId);
    if (!queue) return;
    if (queue.running) {
      queue.rerun = true;
      return;
    }
    queue.running = true;
    try {
      do {
        queue.rerun = false;
        const waiting = queue.waiting.filter((c) => c.status === CallStatus.Queued && c.offers.size === 0);
        if (waiting.length === 0) break;
        const members = await this.view.members(queue.config.tenantId, queueId);
        const records = this.agents.peekMany(memberIds(members)) ?? (await this.loadAgents(members));
        // From here to the last reservation nothing awaits: the plan cannot go stale.
        // A plain loop over records aligned with members: this runs once per call on its way to
        // an agent, over every member of the queue (a flatMap with a Map was ~7x slower).
        const candidates: Candidate[] = [];
        for (let i = 0; i < members.length; i++) {
          const member = members[i]!;
          const agent = records[i];
          if (!agent?.endpoint || agent.state.status === AgentStatus.Offline) continue;
          if (this.busyElsewhere(queue.config.tenantId, member.userId)) continue;
          candidates.push({
            userId: member.userId,
            status: agent.state.status,
            penalty: member.penalty,
            skills: member.skills,
            idleSince: agent.state.idleSince,
            callsAnswered: agent.callsAnswered,
          });
        }
        const now = this.now();
        const stillWaiting = waiting.filter((c) => c.status === CallStatus.Queued && c.offers.size === 0);
        const offers = planOffers(
          queue.config,
          stillWaiting.map((c) => ({ callId: c.id, priority: c.priority, seq: c.seq, waitedMs: now - c.enqueuedAt })),
          candidates,
          queue.lastOfferedUserId,
        );
        for (const offer of offers) {
          const call = this.calls.get(offer.callId);
          if (!call) continue;
          for (const userId of offer.userIds) {
            const agent = this.agents.peek(userId);
            if (!agent?.endpoint) continue;
            this.agents.apply(userId, { type: 'offer', callId: call.id });
            queue.lastOfferedUserId = userId;
            // A callback's customer leg gets the call's id later, and Asterisk finds channels by
            // id prefix when checking that an id is free: its agent legs must not start with it.
            const channelId = call.callback
              ? `cb-a${userId}-${now.toString(36)}-${call.id}`
              : `${call.id}-a${userId}-${now.toString(36)}`;
            const leg: AgentLeg = { channelId, userId, answered: false };
            call.offers.set(channelId, leg);
            this.byChannel.set(channelId, call);
            this.spawn(this.ringAgent(call, queue.config, leg, agent.endpoint));
          }
        }
      } while (queue.rerun);
      this.scheduleRelax(queue);
    } catch (err) {
      this.log.error({ err, queueId }, 'ACD round failed');
    } finally {
      queue.running = false;
    }
  }

  /**
   * Callers nobody could take may become offerable just by waiting (the next penalty tier
   * opens): plan another round for the moment the first of them crosses a tier boundary.
   */
  private scheduleRelax(queue: QueueRuntime): void {
    const step = queue.config.penaltyRelaxSeconds * 1000;
    if (queue.relaxTimer) clearTimeout(queue.relaxTimer);
    queue.relaxTimer = undefined;
    if (step <= 0) return;
    const now = this.now();
    const waits = queue.waiting
      .filter((c) => c.status === CallStatus.Queued && c.offers.size === 0)
      .map((c) => step - ((now - c.enqueuedAt) % step));
    if (waits.length === 0) return;
    queue.relaxTimer = setTimeout(() => {
      queue.relaxTimer = undefined;
      this.spawn(this.runAcd(queue.config.id));
    }, Math.min(...waits) + 10);
    queue.relaxTimer.unref();
  }

  /** Members' agent records, index for index (undefined: no such agent), loading those not loaded yet. */
  private async loadAgents(members: readonly QueueMember[]): Promise<Array<AgentRecord | undefined>> {
    const ids = memberIds(members);
    await this.agents.getMany(ids);
    return ids.map((id) => this.agents.peek(id));
  }

  private async ringAgent(call: ActiveCall, config: QueueConfig, leg: AgentLeg, endpoint: string): Promise<void> {
    void call.cdr.transition('offered', { state: 'offered' }, { agentUserId: leg.userId });
    this.publish(call, 'call.offered', leg.userId, offerDetails(call, config));
    try {
      await this.telephony.originate({
        channelId: leg.channelId,
        endpoint: `PJSIP/${endpoint}`,
        appArgs: [LegKind.Agent, call.id],
        callerId: call.from,
        timeoutSeconds: config.ringTimeoutSeconds,
        // A waiting callback has no channel yet to be the originator.
        ...(call.callback ? {} : { originator: call.id }),
        // What the softphone shows while it rings comes in two parts: the call's id in the
        // INVITE's X-Calldock-Offer header, the rest (queue, line, since when) in the console's
        // `call.offered` event. A caller from the dialplan hands its header down to the leg by
        // itself; any other leg is given one, which costs a wait on the SIP session's thread.
        ...(call.offerHeaderInherited && !call.callback
          ? {}
          : { variables: { 'PJSIP_HEADER(add,X-Calldock-Offer)': offerHeader(call, config) } }),
      });
      if (call.stasisAt !== undefined) {
        // Routing's price: from the call's StasisStart to its first agent being dialled.
        this.emit('decision', performance.now() - call.stasisAt);
        call.stasisAt = undefined;
      }
    } catch (err) {
      if (isOriginatorGone(err)) {
        // The caller is gone before their agent could be dialled: not the agent's doing.
        this.log.info({ callId: call.id, userId: leg.userId }, 'caller gone before the agent was dialled');
        if (this.byChannel.get(leg.channelId) === call) {
          this.byChannel.delete(leg.channelId);
          call.offers.delete(leg.channelId);
          this.agents.tryApply(leg.userId, { type: 'offer_cancelled' });
        }
        await this.endCall(call, 'system', CAUSE_LOST, 'caller_gone');
        this.spawn(this.agentFreed(call.tenantId, leg.userId));
        return;
      }
      // The phone cannot be reached at all (not registered, unknown): the agent is not there.
      this.log.warn({ err: (err as Error).message, userId: leg.userId }, 'agent phone unreachable');
      if (this.byChannel.get(leg.channelId) === call) {
        this.byChannel.delete(leg.channelId);
        call.offers.delete(leg.channelId);
        this.agents.tryApply(leg.userId, { type: 'offer_cancelled' });
        this.agents.tryApply(leg.userId, { type: 'set_away', reason: 'unreachable' });
        this.spawn(this.runAcd(config.id));
      }
    }
  }

  private cancelOffers(call: ActiveCall, except?: string): void {
    for (const [channelId, leg] of call.offers) {
      if (channelId === except) continue;
      call.offers.delete(channelId);
      this.byChannel.delete(channelId);
      this.agents.tryApply(leg.userId, { type: 'offer_cancelled' });
      this.spawn(this.telephony.hangup(channelId, 'answered_elsewhere'));
      this.spawn(this.agentFreed(call.tenantId, leg.userId));
    }
  }

  // ── Answer, bridge, hang-up ────────────────────────────────────────────────────────────────

  private async agentAnswered(channelId: string, callId: string): Promise<void> {
    const call = this.calls.get(callId);
    const leg = call?.offers.get(channelId);
    if (call && leg && call.status === CallStatus.AgentLost && leg.userId === call.lostAgentUserId) {
      return this.agentBack(call, leg);
    }
    if (!call || !leg || call.status !== CallStatus.Queued) {
      // Answered a moment too late (ring-all race, caller gone): not this agent's call.
      this.log.info({ callId, channelId, status: call?.status, offered: leg !== undefined }, 'late answer hung up');
      await this.telephony.hangup(channelId, 'answered_elsewhere');
      return;
    }
    // Claim the call in this tick: a second answer arriving now finds it connected.
    call.status = CallStatus.Connected;
    leg.answered = true;
    call.agent = leg;
    call.offers.delete(channelId);
    this.cancelOffers(call);
    const queue = this.removeFromQueue(call);
    if (call.callback) return this.callbackTaken(call, leg, queue);
    // A call answered again (transferred to a queue) keeps its first answer and wait on the row.
    const firstAnswer = call.answeredAt === undefined;
    call.answeredAt ??= this.now();
    this.agents.tryApply(leg.userId, { type: 'answered' });

    void call.cdr.transition(
      'answered',
      firstAnswer
        ? { state: 'answered', agentUserId: leg.userId, answeredAt: new Date(call.answeredAt), waitMs: call.answeredAt - call.startedAt }
        : { state: 'answered', agentUserId: leg.userId },
      { agentUserId: leg.userId },
    );
    this.publish(call, 'call.answered', leg.userId);

    await this.parked(call);
    if (queue?.holdingBridgeId) await this.telephony.removeFromBridge(queue.holdingBridgeId, call.id);
    const bridgeId = await this.telephony.createBridge('mixing', `call-${call.id}`);
    call.bridgeId = bridgeId;
    if (call.ended) {
      await this.telephony.destroyBridge(bridgeId);
      return;
    }
    await this.telephony.addToBridge(bridgeId, [call.id, channelId]);
    if (queue?.config.recordingEnabled) {
      const name = `calldock-${call.tenantId}-${call.id}`;
      if (await this.telephony.recordBridge(bridgeId, name)) {
        void call.cdr.transition('recording', { recordingPath: `${name}.wav` }, { name });
      }
    }
  }

  private channelGone(call: ActiveCall, channelId: string, cause: number): void {
    if (channelId === call.id) {
      // The caller hung up.
      if (call.status === CallStatus.Connected) this.spawn(this.endCall(call, 'caller', cause));
      else if (call.callbackRequested) this.spawn(this.endCall(call, 'caller', cause, 'callback_requested'));
      else if (call.status === CallStatus.Queued) this.abandon(call, cause);
      else this.spawn(this.endCall(call, 'caller', cause));
      return;
    }
    if (call.agent?.channelId === channelId) {
      if (AGENT_FAILURE_CAUSES.has(cause) && (this.options.agentReconnectGraceSeconds ?? 30) > 0) {
        this.spawn(this.agentLost(call, cause));
      } else {
        this.spawn(this.endCall(call, 'agent', cause));
      }
      return;
    }
    const leg = call.offers.get(channelId);
    if (!leg) return;
    if (call.status === CallStatus.AgentLost) {
      // The call back to the lost agent did not get through: try again while the grace lasts.
      call.offers.delete(channelId);
      call.after(RECONNECT_RETRY_MS, () => this.spawn(this.callLostAgentBack(call)));
      return;
    }
    // An offer ended without an answer: rang out, declined or failed.
    call.offers.delete(channelId);
    if (cause === CAUSE_ANSWERED_ELSEWHERE) {
      this.agents.tryApply(leg.userId, { type: 'offer_cancelled' });
    } else {
      this.agents.tryApply(leg.userId, { type: 'rang_out' });
      void call.cdr.transition('offer_missed', {}, { agentUserId: leg.userId, cause, reason: MISSED_CALL_REASON });
      this.log.info({ callId: call.id, userId: leg.userId, cause, noAnswer: cause === CAUSE_NO_ANSWER }, 'offer not answered');
    }
    if (call.status === CallStatus.Queued && call.queueId !== undefined) this.spawn(this.runAcd(call.queueId));
  }

  /**
   * The agent's leg failed mid-call (browser crashed, reloaded, lost the network): the customer
   * stays, on hold, while the same agent is called back; after the grace period the customer
   * goes back to the head of the queue.
   */
  private async agentLost(call: ActiveCall, cause: number): Promise<void> {
    const agent = call.agent;
    if (!agent || call.ended) return;
    call.status = CallStatus.AgentLost;
    call.agent = undefined;
    call.lostAgentUserId = agent.userId;
    const graceSeconds = this.options.agentReconnectGraceSeconds ?? 30;
    void call.cdr.transition('agent_lost', {}, { agentUserId: agent.userId, cause, graceSeconds });
    this.publish(call, 'call.agent_lost', agent.userId);
    this.log.warn({ callId: call.id, userId: agent.userId, cause }, 'agent leg lost mid-call; holding the customer');
    await this.telephony.startMoh(call.id);
    call.after(graceSeconds * 1000, () => this.spawn(this.lostAgentGaveUp(call)));
    call.after(RECONNECT_RETRY_MS, () => this.spawn(this.callLostAgentBack(call)));
  }

  private async callLostAgentBack(call: ActiveCall): Promise<void> {
    const userId = call.lostAgentUserId;
    if (call.status !== CallStatus.AgentLost || userId === undefined || call.offers.size > 0) return;
    const agent = await this.agents.get(userId);
    if (!agent?.endpoint || call.status !== CallStatus.AgentLost) return;
    const channelId = `${call.id}-a${userId}-r${this.now().toString(36)}`;
    const leg: AgentLeg = { channelId, userId, answered: false };
    call.offers.set(channelId, leg);
    this.byChannel.set(channelId, call);
    try {
      await this.telephony.originate({
        channelId,
        endpoint: `PJSIP/${agent.endpoint}`,
        appArgs: [LegKind.Agent, call.id],
        callerId: call.from,
        timeoutSeconds: 15,
        originator: call.id,
        variables: { CALLDOCK_CALL_ID: call.id, CALLDOCK_RECONNECT: '1' },
      });
    } catch {
      // Not registered again yet.
      call.offers.delete(channelId);
      this.byChannel.delete(channelId);
      call.after(RECONNECT_RETRY_MS, () => this.spawn(this.callLostAgentBack(call)));
    }
  }

  private async agentBack(call: ActiveCall, leg: AgentLeg): Promise<void> {
    call.offers.delete(leg.channelId);
    call.status = CallStatus.Connected;
    call.lostAgentUserId = undefined;
    leg.answered = true;
    call.agent = leg;
    call.clearTimers();
    void call.cdr.transition('agent_reconnected', {}, { agentUserId: leg.userId });
    this.publish(call, 'call.agent_reconnected', leg.userId);
    await this.telephony.stopMoh(call.id);
    if (call.bridgeId) await this.telephony.addToBridge(call.bridgeId, [leg.channelId]);
  }

  private async lostAgentGaveUp(call: ActiveCall): Promise<void> {
    const userId = call.lostAgentUserId;
    if (call.status !== CallStatus.AgentLost || userId === undefined) return;
    call.lostAgentUserId = undefined;
    this.cancelOffers(call);
    await this.agents.restore(userId, AgentStatus.Away, undefined, 'connection_lost');
    void call.cdr.transition('agent_not_back', {}, { agentUserId: userId });
    await this.telephony.stopMoh(call.id);
    if (call.bridgeId) {
      await this.telephony.destroyBridge(call.bridgeId);
      call.bridgeId = undefined;
    }
    call.answeredAt = undefined;
    call.status = CallStatus.Routing;
    if (call.queueId === undefined) return this.endWithAnnouncement(call, NO_SERVICE, 'agent lost, no queue');
    await this.enqueue(call, call.queueId, { head: true });
  }

  // ── Callbacks (the tasks and the dialling are callbacks.ts's) ───────────────────────────────

  setCallbackHandler(handler: CallbackHandler): void {
    this.callbacks = handler;
  }

  /** A caller hung up while queued: abandoned, and called back if they waited long enough. */
  private abandon(call: ActiveCall, cause: number): void {
    const config = call.queueId === undefined ? undefined : this.queues.get(call.queueId)?.config;
    const waitedMs = this.now() - call.enqueuedAt;
    this.spawn(this.endCall(call, 'caller', cause, 'abandoned'));
    if (config && this.callbacks && config.abandonCallbackSeconds > 0 && waitedMs >= config.abandonCallbackSeconds * 1000) {
      this.spawn(this.callbacks.abandoned(call, config, waitedMs));
    }
  }

  /** A digit from a queued caller: the queue's callback digit turns their wait into a callback. */
  private async callbackDigit(call: ActiveCall, digit: string): Promise<void> {
    const queue = call.queueId === undefined ? undefined : this.queues.get(call.queueId);
    if (!queue?.config.callbackEnabled || digit !== queue.config.callbackDigit) return;
    await this.requestCallback(call, call.from, 'requested');
  }

  /**
   * Turns a queued caller into a waiting callback in the same place in the queue, then says
   * goodbye to them. False when the call cannot be called back (not queued, no usable number).
   */
  async requestCallback(call: ActiveCall, number: string, reason: 'requested' | 'web'): Promise<boolean> {
    const queue = call.queueId === undefined ? undefined : this.queues.get(call.queueId);
    if (!this.callbacks || !queue || call.status !== CallStatus.Queued || call.callback || call.callbackRequested) return false;
    call.callbackRequested = true;
    const taskId = await this.callbacks.requested(call, queue.config, number, reason);
    if (taskId === undefined) {
      call.callbackRequested = false;
      if (!call.ended) this.spawn(this.telephony.play(call.id, 'sound:unidentified-no-callback'));
      return false;
    }
    if (call.status !== CallStatus.Queued || call.queueId !== queue.config.id) {
      // Answered (or gone) while the task was written: it is not needed.
      call.callbackRequested = call.ended;
      await this.callbacks.cancel(taskId, call.ended ? 'caller_gone' : 'answered_meanwhile');
      return false;
    }
    // The callback takes the caller's place (same order number) in this tick.
    const seq = call.seq;
    this.removeFromQueue(call);
    this.cancelOffers(call);
    call.status = CallStatus.Routing;
    this.addCallback(queue, {
      id: randomUUID(),
      tenantId: call.tenantId,
      queueId: queue.config.id,
      taskId,
      number,
      reason,
      to: call.to,
      queuedAt: call.enqueuedAt,
      priority: call.priority,
    }, seq);
    void call.cdr.transition('callback_requested', {}, { taskId, number });
    this.publish(call, 'call.callback_requested');
    await this.parked(call);
    if (queue.holdingBridgeId) await this.telephony.removeFromBridge(queue.holdingBridgeId, call.id);
    if (call.ended) return true;
    if (reason === 'requested') await this.telephony.playAndWait(call.id, 'sound:auth-thankyou', 10_000);
    await this.endCall(call, 'system', 16, 'callback_requested');
    return true;
  }

  /** A callback task (new, or loaded after a restart) takes its place in its queue. */
  async enqueueCallback(waiting: WaitingCallback): Promise<boolean> {
    if (this.waitingCallback(waiting.taskId)) return true;
    const queue = await this.runtime(waiting.tenantId, waiting.queueId);
    if (!queue) return false;
    this.addCallback(queue, waiting, this.seqForArrival(queue, waiting.queuedAt));
    return true;
  }

  /** The live call (waiting or being dialled) of a callback task. */
  waitingCallback(taskId: number): ActiveCall | undefined {
    return [...this.calls.values()].find((c) => c.callback?.taskId === taskId);
  }

  /** Takes a waiting callback out of its queue (cancelled). False once it is being dialled. */
  dropCallback(taskId: number): boolean {
    const call = this.waitingCallback(taskId);
    if (!call) return true;
    if (call.status !== CallStatus.Queued) return false;
    this.removeFromQueue(call);
    this.cancelOffers(call);
    call.status = CallStatus.Ended;
    this.calls.delete(call.id);
    this.publish(call, 'call.ended');
    return true;
  }

  private addCallback(queue: QueueRuntime, waiting: WaitingCallback, seq: number): void {
    // No row until it is dialled: a waiting callback is a task in MySQL, not a call.
    const cdr = new CallRecord(this.cdrStore, this.log, waiting.tenantId, waiting.id, { lastSeq: 0 });
    const call = new ActiveCall(waiting.id, waiting.tenantId, this.now(), waiting.number, waiting.to, cdr);
    const ticket: CallbackTicket = { taskId: waiting.taskId, number: waiting.number, reason: waiting.reason, customerAnswered: false };
    call.callback = ticket;
    call.priority = waiting.priority;
    call.status = CallStatus.Queued;
    call.queueId = queue.config.id;
    call.seq = seq;
    call.enqueuedAt = waiting.queuedAt;
    queue.waiting.push(call);
    this.calls.set(call.id, call);
    this.publish(call, 'call.callback_waiting');
    this.spawn(this.runAcd(queue.config.id));
  }

  /** An agent answered a callback's offer: they hear ringing while the customer is dialled. */
  private async callbackTaken(call: ActiveCall, leg: AgentLeg, queue: QueueRuntime | undefined): Promise<void> {
    this.agents.tryApply(leg.userId, { type: 'answered' });
    this.publish(call, 'call.callback_dialing', leg.userId);
    // From now on the customer's channel (call.id) is the engine's to follow, like a caller's.
    this.byChannel.set(call.id, call);
    const bridgeId = await this.telephony.createBridge('mixing', `call-${call.id}`);
    call.bridgeId = bridgeId;
    if (call.ended) {
      await this.telephony.destroyBridge(bridgeId);
      return;
    }
    const config = queue?.config ?? (call.queueId === undefined ? undefined : await this.view.queue(call.tenantId, call.queueId));
    if (!config || !this.callbacks) {
      await this.endCall(call, 'system', 34, 'callback_failed');
      return;
    }
    await this.callbacks.turn(call, leg, config);
  }

  private async endCall(call: ActiveCall, side: 'caller' | 'agent' | 'system', cause: number, disposition?: string): Promise<void> {
    if (call.ended) return;
    const wasConnected = call.status === CallStatus.Connected;
    const lostAgent = call.lostAgentUserId;
    call.lostAgentUserId = undefined;
    call.status = CallStatus.Ended;
    call.clearDeadline();
    if (lostAgent !== undefined) this.spawn(this.agents.restore(lostAgent, AgentStatus.Away, undefined, 'connection_lost'));
    call.clearTimers();
    const queue = this.removeFromQueue(call);
    this.cancelOffers(call);
    this.calls.delete(call.id);
    this.byChannel.delete(call.id);

    const endedAt = this.now();
    if (call.holdStartedAt !== undefined) call.holdMs += endedAt - call.holdStartedAt;
    const talkMs = call.answeredAt !== undefined ? endedAt - call.answeredAt - call.holdMs : 0;
    void call.cdr.transition(
      'ended',
      {
        state: 'ended',
        endedAt: new Date(endedAt),
        talkMs: Math.max(0, talkMs),
        holdMs: call.holdMs,
        ...(call.answeredAt === undefined ? { waitMs: endedAt - call.startedAt } : {}),
        hangupCause: String(cause),
        hangupSide: side,
        ...(disposition ? { disposition } : {}),
      },
      { side, cause },
    );
    const written = call.cdr.flush();
    this.finishing.add(written);
    void written.finally(() => this.finishing.delete(written));
    this.publish(call, 'call.ended');

    if (call.agent) {
      const agentChannel = call.agent.channelId;
      this.byChannel.delete(agentChannel);
      await this.telephony.hangup(side === 'agent' ? call.id : agentChannel);
      if (wasConnected) {
        const wrapUpSeconds = queue?.config.wrapupSeconds ?? (await this.wrapUpOf(call));
        this.agents.tryApply(call.agent.userId, { type: 'call_ended', wrapUpSeconds });
        const userId = call.agent.userId;
        if (wrapUpSeconds > 0) {
          setTimeout(() => {
            this.agents.tryApply(userId, { type: 'wrap_up_over' });
            this.spawn(this.agentFreed(call.tenantId, userId));
          }, wrapUpSeconds * 1000).unref();
        } else {
          this.spawn(this.agentFreed(call.tenantId, userId));
        }
      }
    } else if (side !== 'caller') {
      await this.telephony.hangup(call.id);
    }
    if (call.bridgeId) await this.telephony.destroyBridge(call.bridgeId);
  }

  private async wrapUpOf(call: ActiveCall): Promise<number> {
    if (call.queueId === undefined) return 0;
    return (await this.view.queue(call.tenantId, call.queueId))?.wrapupSeconds ?? 0;
  }

  /** An agent became free: every queue they serve may have a caller for them. */
  private async agentFreed(tenantId: number, userId: number): Promise<void> {
    for (const queueId of await this.view.queuesOfUser(tenantId, userId)) {
      if (this.queues.has(queueId)) this.spawn(this.runAcd(queueId));
    }
  }

  /** An agent changed availability through the API (or logged in). */
  async agentAvailabilityChanged(tenantId: number, userId: number): Promise<void> {
    await this.agentFreed(tenantId, userId);
  }

  private publish(call: ActiveCall, type: string, agentUserId?: number, offer?: OfferDetails): void {
    this.emit('call', {
      tenantId: call.tenantId,
      type,
      callId: call.id,
      ...(call.queueId !== undefined ? { queueId: call.queueId } : {}),
      ...(agentUserId !== undefined ? { agentUserId } : {}),
      ...(offer ? { offer } : {}),
    } satisfies CallEvent);
  }

  // ── Restart and reconnect ──────────────────────────────────────────────────────────────────

  /**
   * Makes the engine's picture match Asterisk's after every ARI (re)connect: after a control
   * plane restart, a dropped event stream, or an Asterisk restart.
   *
   *   - calls in memory whose channels are gone are ended (their hang-up was missed);
   *   - open CDR rows of calls whose caller is still there are re-attached: to their agent when
   *     the call's bridge still holds both, otherwise back into their queue in their original
   *     order (any half-rung offer is hung up and tried again);
   *   - open CDR rows whose caller is gone are closed, with the cause saying why.
   */
  async reconcile(): Promise<void> {
    const started = this.now();
    const channels = new Set((await this.telephony.listChannels()).map((c) => c.id));
    const bridges = await this.telephony.listBridges();

    // Callers that vanished unseen (Asterisk restarted, or the event stream dropped) leave their
    // queues before anything here awaits: an agent freed meanwhile must not be offered a ghost.
    // A waiting callback has no channel of its own yet.
    const vanished = new Set(
      [...this.calls.values()].filter((c) => !(c.callback !== undefined && c.status === CallStatus.Queued) && !channels.has(c.id)),
    );
    for (const call of vanished) this.removeFromQueue(call);
    for (const call of [...this.calls.values()]) {
      if (vanished.has(call)) {
        await this.endCall(call, 'system', CAUSE_LOST, 'lost_while_control_plane_away');
        continue;
      }
      for (const channelId of [call.agent?.channelId, ...call.offers.keys()]) {
        if (channelId && !channels.has(channelId) && this.byChannel.get(channelId) === call) {
          this.byChannel.delete(channelId);
          this.channelGone(call, channelId, CAUSE_LOST);
        }
      }
    }
    const bridgeIds = new Set(bridges.map((b) => b.id));
    for (const queue of this.queues.values()) {
      if (queue.holdingBridgeId && !bridgeIds.has(queue.holdingBridgeId)) queue.holdingBridgeId = undefined;
    }

    const open = await this.db
      .selectFrom('calls')
      .selectAll()
      .where('state', '!=', 'ended')
      .orderBy('queuedAt')
      .orderBy('id')
      .execute();
    let reattached = 0;
    let requeued = 0;
    let closed = 0;
    const touchedQueues = new Set<number>();
    for (const row of open) {
      if (this.calls.has(row.linkedid)) continue;
      const lastSeq = await this.db
        .selectFrom('callEvents')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('callId', '=', row.id)
        .executeTakeFirst();
      const cdr = new CallRecord(this.cdrStore, this.log, row.tenantId, row.linkedid, { lastSeq: Number(lastSeq?.seq ?? 0) });
      if (!channels.has(row.linkedid)) {
        closed += 1;
        await this.closeLost(row, cdr);
        continue;
      }
      const call = new ActiveCall(row.linkedid, row.tenantId, row.startedAt.getTime(), row.fromNumber ?? '', row.toNumber ?? '', cdr);
      call.holdMs = row.holdMs;
      const bridge = bridges.find((b) => b.name === `call-${row.linkedid}` && b.channels.includes(row.linkedid));
      const agentChannel = bridge?.channels.find((c) => c !== row.linkedid);
      // Agent legs still ringing for this call from before: they are tried again below.
      for (const id of channels) if (id.startsWith(`${row.linkedid}-a`) && id !== agentChannel) this.spawn(this.telephony.hangup(id, 'normal'));

      this.calls.set(call.id, call);
      this.byChannel.set(call.id, call);
      // Asterisk is the truth about who talks: the row may lag (its answer still on its way to
      // MySQL when the old process died), the agent is in the leg's channel id.
      const agentUserId = agentChannel ? (row.agentUserId ?? agentOfLeg(agentChannel, row.linkedid)) : null;
      if (bridge && agentChannel && agentUserId !== null) {
        call.status = CallStatus.Connected;
        call.bridgeId = bridge.id;
        call.queueId = row.queueId ?? undefined;
        call.answeredAt = row.answeredAt?.getTime() ?? this.now();
        call.agent = { channelId: agentChannel, userId: agentUserId, answered: true };
        this.byChannel.set(agentChannel, call);
        await this.agents.restore(agentUserId, AgentStatus.OnCall, call.id);
        const answer = row.answeredAt
          ? {}
          : { state: 'answered' as const, agentUserId, answeredAt: new Date(call.answeredAt), waitMs: call.answeredAt - call.startedAt };
        void cdr.transition('reattached', answer, { agentUserId });
        reattached += 1;
      } else if (row.queueId !== null) {
        const queue = await this.runtime(row.tenantId, row.queueId);
        if (!queue) {
          await this.endCall(call, 'system', CAUSE_LOST);
          continue;
        }
        queue.holdingBridgeId ??= bridges.find((b) => b.name === `queue-${row.queueId}`)?.id;
        call.status = CallStatus.Queued;
        call.queueId = row.queueId;
        call.seq = ++this.arrivals;
        call.enqueuedAt = (row.queuedAt ?? row.startedAt).getTime();
        queue.waiting.push(call);
        queue.waiting.sort((a, b) => a.enqueuedAt - b.enqueuedAt || a.seq - b.seq);
        if (row.state !== 'queued') void cdr.transition('requeued', { state: 'queued' }, {});
        const remaining = queue.config.maxWaitSeconds * 1000 - (this.now() - call.enqueuedAt);
        call.after(Math.max(0, remaining), () => {
          if (call.status === CallStatus.Queued) this.spawn(this.overflow(call, queue.config, 'max_wait'));
        });
        touchedQueues.add(row.queueId);
        requeued += 1;
      } else {
        // Caught in routing (an IVR, say): nothing to resume mid-prompt, so it ends politely.
        await this.endWithAnnouncement(call, NO_SERVICE, 'interrupted by a restart');
      }
    }
    // A call bridge nobody took over (the process died between creating it and bridging the
    // two legs, or its call was put back in the queue) would stay in Asterisk for good.
    const owned = new Set([...this.calls.values()].map((c) => c.bridgeId));
    let swept = 0;
    for (const bridge of bridges) {
      if (!bridge.name.startsWith('call-') || owned.has(bridge.id)) continue;
      swept += 1;
      this.spawn(this.telephony.destroyBridge(bridge.id));
    }
    for (const queueId of touchedQueues) this.spawn(this.runAcd(queueId));
    this.log.info({ reattached, requeued, closed, swept, live: this.calls.size, ms: this.now() - started }, 'calls reconciled with Asterisk');
  }

  /** An open CDR row whose caller is gone: the call ended while nobody was watching. */
  private async closeLost(row: { tenantId: number; linkedid: string; answeredAt: Date | null; holdMs: number; agentUserId: number | null; startedAt: Date }, cdr: CallRecord): Promise<void> {
    const endedAt = this.now();
    void cdr.transition(
      'ended',
      {
        state: 'ended',
        endedAt: new Date(endedAt),
        hangupCause: String(CAUSE_LOST),
        hangupSide: 'system',
        disposition: 'lost_while_control_plane_away',
        ...(row.answeredAt ? { talkMs: Math.max(0, endedAt - row.answeredAt.getTime() - row.holdMs) } : { waitMs: endedAt - row.startedAt.getTime() }),
      },
      { reason: 'channel gone when the control plane reconnected' },
    );
    const written = cdr.flush();
    this.finishing.add(written);
    void written.finally(() => this.finishing.delete(written));
    if (row.agentUserId !== null) {
      const agent = await this.agents.get(row.agentUserId);
      if (agent && agent.state.callId === row.linkedid) await this.agents.restore(row.agentUserId, AgentStatus.Available);
    }
  }

  // ── In-call control ────────────────────────────────────────────────────────────────────────

  /**
   * Customer on hold: music on hold for them, and nothing of them for the agent. ARI's hold
   * alone plays music to the customer while the agent still hears the customer, so the
   * customer's inbound audio is muted too.
   */
  async hold(call: ActiveCall): Promise<void> {
    if (call.status !== CallStatus.Connected || call.holdStartedAt !== undefined) return;
    call.holdStartedAt = this.now();
    await this.telephony.mute(call.id, 'in');
    await this.telephony.startMoh(call.id);
    void call.cdr.transition('held', { state: 'held' });
    this.publish(call, 'call.held', call.agent?.userId);
  }

  async unhold(call: ActiveCall): Promise<void> {
    if (call.holdStartedAt === undefined) return;
    call.holdMs += this.now() - call.holdStartedAt;
    call.holdStartedAt = undefined;
    await this.telephony.stopMoh(call.id);
    await this.telephony.unmute(call.id, 'in');
    void call.cdr.transition('unheld', { state: 'answered', holdMs: call.holdMs });
    this.publish(call, 'call.unheld', call.agent?.userId);
  }

  /** Mutes the agent's microphone towards the customer (or unmutes it). */
  async muteAgent(call: ActiveCall, muted: boolean): Promise<void> {
    if (!call.agent) return;
    if (muted) await this.telephony.mute(call.agent.channelId, 'in');
    else await this.telephony.unmute(call.agent.channelId, 'in');
    call.agentMuted = muted;
    void call.cdr.transition(muted ? 'muted' : 'unmuted', {});
  }

  /** Sends DTMF to the customer's side (navigating a remote IVR, say). */
  async sendDtmf(call: ActiveCall, digits: string): Promise<void> {
    await this.telephony.sendDtmf(call.id, digits);
  }

  /** Hangs the call up from the agent's side. */
  async hangupCall(call: ActiveCall): Promise<void> {
    await this.telephony.hangup(call.agent?.channelId ?? call.id);
    if (!call.agent) await this.telephony.hangup(call.id);
  }

  /**
   * Runs an async step nobody awaits (timers, event handlers) so that a failure is logged, never
   * an unhandled rejection that would take the process down with every call on it.
   */
  private spawn(step: Promise<unknown>): void {
    step.catch((err: unknown) => this.log.error({ err }, 'call step failed'));
  }

  // ── Hooks for transfer, monitoring and outbound calls (transfer.ts, monitor.ts, outbound.ts) ──

  /** Lets a module take the channels it originates (or receives) under its own first argument. */
  registerLeg(kind: string, handler: LegHandler): void {
    this.legHandlers.set(kind, handler);
  }

  /**
   * Tells `onGone` when the channel ends (with the Q.850 cause), instead of the engine's own
   * handling of it: a ringing transfer target, a consult leg, a snoop, a call not yet answered.
   * Taking over a call's own channel (its caller or agent) this way is allowed.
   */
  watchChannel(channelId: string, onGone: ChannelWatcher): void {
    this.watched.set(channelId, onGone);
  }

  unwatchChannel(channelId: string): void {
    this.watched.delete(channelId);
  }

  /** Lets a module take some 'webrtc' channels before the dialer (see WebRtcClaimer). */
  claimWebRtc(claimer: WebRtcClaimer): void {
    this.webRtcClaimers.push(claimer);
  }

  /**
   * A call that did not come in on a trunk (a website visitor's) starts like one: it joins the
   * engine's calls, passes the tenant's limits and is routed to the target (a queue: same ACD,
   * same CDR as a PSTN call).
   */
  async admit(call: ActiveCall, target: Target): Promise<void> {
    this.adopt(call);
    if (!(await this.withinLimits(call))) return;
    await this.routeTo(call, target);
  }

  /**
   * Another channel's claim on people (the chat service: someone holding chats takes no call):
   * asked in the ACD's planning, so it must answer at once, from memory.
   */
  setCapacityCheck(busy: (tenantId: number, userId: number) => boolean): void {
    this.busyElsewhere = busy;
  }

  /** 1-based place of a waiting call in its queue, or undefined when it is not waiting. */
  queuePosition(tenantId: number, callId: string): number | undefined {
    const call = this.getCall(tenantId, callId);
    const place = call ? this.placeInQueue(call) : 0;
    return place > 0 ? place : undefined;
  }

  /** A call that did not come in on a trunk (outbound, internal) joins the engine's calls. */
  adopt(call: ActiveCall): void {
    this.calls.set(call.id, call);
    this.byChannel.set(call.id, call);
    this.publish(call, 'call.created');
  }

  /** Makes an answered leg the call's agent: their hang-up now ends the call. */
  attachAgent(call: ActiveCall, leg: AgentLeg): void {
    leg.answered = true;
    call.agent = leg;
    call.status = CallStatus.Connected;
    call.answeredAt ??= this.now();
    this.byChannel.set(leg.channelId, call);
    this.publish(call, 'call.answered', leg.userId);
  }

  /**
   * Lets the call's agent go without ending the call (a transfer): their leg is hung up and they
   * move on to wrap-up. The call waits, agentless, for what the caller of this does next.
   */
  async releaseAgent(call: ActiveCall): Promise<void> {
    const agent = call.agent;
    if (!agent) return;
    call.agent = undefined;
    call.agentMuted = false;
    call.status = CallStatus.Routing;
    this.byChannel.delete(agent.channelId);
    this.watched.delete(agent.channelId);
    await this.telephony.hangup(agent.channelId);
    await this.wrapUp(call, agent.userId);
  }

  /** An agent's part in a call is over: wrap-up (the call's queue's), then free for the next. */
  async wrapUp(call: ActiveCall, userId: number, seconds?: number): Promise<void> {
    const wrapUpSeconds = seconds ?? (await this.wrapUpOf(call));
    this.agents.tryApply(userId, { type: 'call_ended', wrapUpSeconds });
    if (wrapUpSeconds <= 0) return this.agentFreed(call.tenantId, userId);
    setTimeout(() => {
      this.agents.tryApply(userId, { type: 'wrap_up_over' });
      this.spawn(this.agentFreed(call.tenantId, userId));
    }, wrapUpSeconds * 1000).unref();
  }

  /** Puts an agentless call (transferred) into a queue, in its place by `arrivedAt`. */
  async requeue(call: ActiveCall, queueId: number, arrivedAt: number): Promise<void> {
    if (call.bridgeId) {
      await this.telephony.destroyBridge(call.bridgeId);
      call.bridgeId = undefined;
    }
    call.status = CallStatus.Routing;
    await this.enqueue(call, queueId, { arrivedAt });
  }

  /**
   * The order number that places a call arriving at `arrivedAt` among those waiting: after the
   * callers who entered the queue before that time, ahead of those who came later.
   */
  private seqForArrival(queue: QueueRuntime, arrivedAt: number): number {
    const before = queue.waiting.filter((c) => c.enqueuedAt <= arrivedAt).map((c) => c.seq);
    const after = queue.waiting.filter((c) => c.enqueuedAt > arrivedAt).map((c) => c.seq);
    if (after.length === 0) return ++this.arrivals;
    const next = Math.min(...after);
    const previous = before.length > 0 ? Math.max(...before) : next - 1;
    return previous < next ? (previous + next) / 2 : next - 0.5;
  }

  /** Ends a call from the side that ended it (a transfer target hung up, a refused dial). */
  async finish(call: ActiveCall, side: HangupSide, cause: number, disposition?: string): Promise<void> {
    await this.endCall(call, side, cause, disposition);
  }

  /** Runs a step nobody awaits, logging its failure (see `spawn`). */
  background(step: Promise<unknown>): void {
    this.spawn(step);
  }

  /** Publishes a call event to the tenant's consoles. */
  notify(call: ActiveCall, type: string, agentUserId?: number): void {
    this.publish(call, type, agentUserId);
  }

  /** Waits for every CDR write queued so far (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.calls.values()].map((c) => c.cdr.flush()));
    await Promise.all(this.finishing);
    await this.agents.flush();
  }
}
