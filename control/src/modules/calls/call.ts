/**
 * One call as the engine holds it while it lives: the caller's channel, the agent legs being
 * offered, the agent it is connected to, and the timers that belong to it.
 *
 *   routing ──► queued ──(agent answers)──► connected ──► ended
 *      │          │  ▲                                      ▲
 *      │          │  └── overflow to another queue          │
 *      └──────────┴──────────── caller hangs up / overflow to an announcement ──┘
 *
 *   connected ──(agent's leg fails)──► agent_lost ──(same agent answers again)──► connected
 *                                          └──(grace period over)──► queued, at the head
 */
import type { CallRecord } from './cdr.ts';

export enum CallStatus {
  Routing = 'routing',
  Queued = 'queued',
  Connected = 'connected',
  /** The agent's leg failed mid-call: the customer waits on hold for that agent to return. */
  AgentLost = 'agent_lost',
  Ended = 'ended',
}

/** A callback waiting in a queue in place of the customer who asked for it (see callbacks.ts). */
export interface CallbackTicket {
  taskId: number;
  /** The customer's number, dialled through the tenant's trunk once an agent takes it. */
  number: string;
  reason: string;
  /** The customer's leg answered: from here on it is an ordinary connected call. */
  customerAnswered: boolean;
  /** The agent's ringback while the customer rings. */
  ringback?: string;
}

export interface AgentLeg {
  channelId: string;
  userId: number;
  answered: boolean;
}

export class ActiveCall {
  status = CallStatus.Routing;
  queueId: number | undefined;
  /** Arrival order in the current queue (a counter: same-millisecond calls stay ordered). */
  seq = 0;
  priority = 0;
  enqueuedAt = 0;
  readonly offers = new Map<string, AgentLeg>();
  agent: AgentLeg | undefined;
  bridgeId: string | undefined;
  answeredAt: number | undefined;
  holdStartedAt: number | undefined;
  holdMs = 0;
  agentMuted = false;
  /** The agent whose leg failed, while the call waits for them (agent_lost). */
  lostAgentUserId: number | undefined;
  /**
   * Set on a callback waiting in a queue: the call has no channel until an agent takes it, and
   * its id is the channel id the customer's leg will get.
   */
  callback: CallbackTicket | undefined;
  /** Answering and parking the caller in the queue's holding bridge, while it is under way. */
  parking: Promise<void> | undefined;
  /** performance.now() at the call's StasisStart, until its first agent is dialled (decision latency). */
  stasisAt: number | undefined;
  /**
   * The caller came from a trunk, and the dialplan gave its channel an inheritable
   * `X-Calldock-Offer: call=<id>` header: every agent leg it originates carries it at no cost.
   */
  offerHeaderInherited = false;
  /** The caller left the queue for a callback (their CDR says so however they hang up). */
  callbackRequested = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The tenant's maximum call duration: outlives the queue's timers, cleared only at the end. */
  private deadline: NodeJS.Timeout | undefined;

  constructor(
    /** The caller's channel id; also the call's id and Asterisk linkedid. */
    readonly id: string,
    readonly tenantId: number,
    readonly startedAt: number,
    readonly from: string,
    readonly to: string,
    /** Replaced once, when a waiting callback becomes a real call (it has no row until then). */
    public cdr: CallRecord,
  ) {}

  get ended(): boolean {
    return this.status === CallStatus.Ended;
  }

  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    this.timers.add(timer);
  }

  setDeadline(ms: number, fn: () => void): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = setTimeout(fn, ms);
    this.deadline.unref();
  }

  clearDeadline(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
