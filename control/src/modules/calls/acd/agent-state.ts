/**
 * An agent's availability, as the ACD sees it.
 *
 *                 login / set available
 *   offline ───────────────────────────────► available ◄──────────── wrap-up over
 *      ▲                                      │    ▲  ▲                    │
 *      │ logout / softphone gone              │    │  │ other agent won    │
 *      │ (from any state but on-call)   offer │    │  │ (ring-all)      wrap_up
 *      │                                      ▼    │  │                    ▲
 *      │                         away ◄──── ringing ─┘                     │ call ended
 *      │                    (missed: rang out)  │ answered                  │
 *      │                                        ▼                           │
 *      └──────────────────────────────────── on_call ───────────────────────┘
 *
 *   away (with a reason) ⇄ available at the agent's choice; an agent in wrap-up may also go away,
 *   and an offline agent may log in as away (not ready).
 *   A direct call (the agent dialled out, or answered a colleague's internal call) takes an
 *   available or wrapping-up agent to on-call; away and offline agents stay as they are.
 * Only an `available` agent is offered a call, so an agent never rings for two calls at once.
 */

export enum AgentStatus {
  Offline = 'offline',
  Available = 'available',
  Ringing = 'ringing',
  OnCall = 'on_call',
  WrapUp = 'wrap_up',
  Away = 'away',
}

export interface AgentState {
  status: AgentStatus;
  /** Why the agent is away ('lunch', 'missed', ...). */
  reason?: string;
  /** When the status last changed (ms since epoch). */
  since: number;
  /** When the agent last became free for calls: longest-idle orders by it. */
  idleSince: number;
  /** The call the agent is ringing for, talking on or wrapping up. */
  callId?: string;
  /** Wrap-up ends at this time (ms since epoch). */
  wrapUpUntil?: number;
}

export type AgentEvent =
  | { type: 'login' }
  | { type: 'logout' }
  | { type: 'set_available' }
  | { type: 'set_away'; reason: string }
  | { type: 'offer'; callId: string }
  | { type: 'offer_cancelled' }
  | { type: 'rang_out' }
  | { type: 'answered' }
  | { type: 'call_ended'; wrapUpSeconds: number }
  | { type: 'wrap_up_over' }
  /** A call outside the ACD: the agent dialled out, or a colleague's internal call was answered. */
  | { type: 'direct_call'; callId: string };

export class AgentStateError extends Error {
  override name = 'AgentStateError';
}

export const MISSED_CALL_REASON = 'missed';

export function initialAgentState(now: number): AgentState {
  return { status: AgentStatus.Offline, since: now, idleSince: now };
}

function to(state: AgentState, status: AgentStatus, now: number, extra: Partial<AgentState> = {}): AgentState {
  const next: AgentState = { status, since: now, idleSince: state.idleSince, ...extra };
  if (status === AgentStatus.Available && state.status !== AgentStatus.Available) {
    // Becoming free again restarts the idle clock — except when a ring-all offer was lost to
    // another agent, which must not send this agent to the back of the longest-idle order.
    next.idleSince = state.status === AgentStatus.Ringing ? state.idleSince : now;
  }
  return next;
}

/** The next state; throws AgentStateError when the event makes no sense in this state. */
export function transition(state: AgentState, event: AgentEvent, now: number): AgentState {
  const s = state.status;
  const refuse = (): never => {
    throw new AgentStateError(`cannot ${event.type.replace('_', ' ')} while ${s.replace('_', '-')}`);
  };
  switch (event.type) {
    case 'login':
    case 'set_available':
      if (s === AgentStatus.Offline || s === AgentStatus.Away || s === AgentStatus.Available) {
        return s === AgentStatus.Available ? state : to(state, AgentStatus.Available, now);
      }
      if (s === AgentStatus.WrapUp && event.type === 'set_available') {
        return to(state, AgentStatus.Available, now);
      }
      return refuse();
    case 'logout':
      if (s === AgentStatus.OnCall) return refuse();
      return to(state, AgentStatus.Offline, now);
    case 'set_away':
      // Offline → away is logging in as not ready.
      if (s === AgentStatus.OnCall || s === AgentStatus.Ringing) return refuse();
      return to(state, AgentStatus.Away, now, { reason: event.reason });
    case 'offer':
      if (s !== AgentStatus.Available) return refuse();
      return to(state, AgentStatus.Ringing, now, { callId: event.callId });
    case 'offer_cancelled':
      if (s !== AgentStatus.Ringing) return refuse();
      return to(state, AgentStatus.Available, now);
    case 'rang_out':
      if (s !== AgentStatus.Ringing) return refuse();
      return to(state, AgentStatus.Away, now, { reason: MISSED_CALL_REASON });
    case 'answered':
      if (s !== AgentStatus.Ringing) return refuse();
      return to(state, AgentStatus.OnCall, now, { callId: state.callId });
    case 'call_ended':
      if (s !== AgentStatus.OnCall) return refuse();
      if (event.wrapUpSeconds <= 0) return to(state, AgentStatus.Available, now);
      return to(state, AgentStatus.WrapUp, now, {
        callId: state.callId,
        wrapUpUntil: now + event.wrapUpSeconds * 1000,
      });
    case 'wrap_up_over':
      if (s !== AgentStatus.WrapUp) return state; // already moved on (went away, logged out)
      return to(state, AgentStatus.Available, now);
    case 'direct_call':
      // While on it no offer rings them; an agent away or logged out stays so (not offered anyway).
      if (s === AgentStatus.Available || s === AgentStatus.WrapUp) {
        return to(state, AgentStatus.OnCall, now, { callId: event.callId });
      }
      if (s === AgentStatus.Away || s === AgentStatus.Offline) return state;
      return refuse();
  }
}
