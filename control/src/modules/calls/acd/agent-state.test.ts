import { describe, expect, it } from 'vitest';
import {
  AgentStateError,
  AgentStatus,
  MISSED_CALL_REASON,
  initialAgentState,
  transition,
  type AgentEvent,
  type AgentState,
} from './agent-state.ts';

const T0 = 1_800_000_000_000;

function run(events: AgentEvent[], start: AgentState = initialAgentState(T0)): AgentState {
  return events.reduce((state, event, i) => transition(state, event, T0 + (i + 1) * 1000), start);
}

describe('agent state', () => {
  it('goes through a whole call: offer, answer, wrap-up, available again', () => {
    const ringing = run([{ type: 'login' }, { type: 'offer', callId: 'c1' }]);
    expect(ringing).toMatchObject({ status: AgentStatus.Ringing, callId: 'c1' });
    const wrapping = run([{ type: 'answered' }, { type: 'call_ended', wrapUpSeconds: 30 }], ringing);
    expect(wrapping.status).toBe(AgentStatus.WrapUp);
    expect(wrapping.wrapUpUntil).toBe(wrapping.since + 30_000);
    const free = transition(wrapping, { type: 'wrap_up_over' }, wrapping.wrapUpUntil!);
    expect(free.status).toBe(AgentStatus.Available);
    expect(free.idleSince).toBe(wrapping.wrapUpUntil);
  });

  it('skips wrap-up when the queue has none', () => {
    const s = run([{ type: 'login' }, { type: 'offer', callId: 'c' }, { type: 'answered' }, { type: 'call_ended', wrapUpSeconds: 0 }]);
    expect(s.status).toBe(AgentStatus.Available);
  });

  it('sends an agent who lets a call ring out to away (missed)', () => {
    const s = run([{ type: 'login' }, { type: 'offer', callId: 'c' }, { type: 'rang_out' }]);
    expect(s).toMatchObject({ status: AgentStatus.Away, reason: MISSED_CALL_REASON });
  });

  it('keeps the idle clock of a ring-all loser', () => {
    const available = run([{ type: 'login' }]);
    const lost = run([{ type: 'offer', callId: 'c' }, { type: 'offer_cancelled' }], available);
    expect(lost.status).toBe(AgentStatus.Available);
    expect(lost.idleSince).toBe(available.idleSince);
  });

  it('refuses a second offer while ringing or on a call', () => {
    const ringing = run([{ type: 'login' }, { type: 'offer', callId: 'a' }]);
    expect(() => transition(ringing, { type: 'offer', callId: 'b' }, T0)).toThrow(AgentStateError);
    const talking = transition(ringing, { type: 'answered' }, T0);
    expect(() => transition(talking, { type: 'offer', callId: 'b' }, T0)).toThrow(/cannot offer while on-call/);
  });

  it('will not log out or go away in the middle of a call', () => {
    const talking = run([{ type: 'login' }, { type: 'offer', callId: 'a' }, { type: 'answered' }]);
    expect(() => transition(talking, { type: 'logout' }, T0)).toThrow(AgentStateError);
    expect(() => transition(talking, { type: 'set_away', reason: 'lunch' }, T0)).toThrow(AgentStateError);
  });

  it('lets an agent cut wrap-up short or go away from it', () => {
    const wrapping = run([{ type: 'login' }, { type: 'offer', callId: 'a' }, { type: 'answered' }, { type: 'call_ended', wrapUpSeconds: 60 }]);
    expect(transition(wrapping, { type: 'set_available' }, T0).status).toBe(AgentStatus.Available);
    const away = transition(wrapping, { type: 'set_away', reason: 'break' }, T0);
    expect(away).toMatchObject({ status: AgentStatus.Away, reason: 'break' });
    expect(transition(away, { type: 'wrap_up_over' }, T0)).toBe(away);
  });

  it('puts an available agent on a direct call out of the ACD\'s reach, and frees them after', () => {
    const talking = run([{ type: 'login' }, { type: 'direct_call', callId: 'out' }]);
    expect(talking).toMatchObject({ status: AgentStatus.OnCall, callId: 'out' });
    expect(() => transition(talking, { type: 'offer', callId: 'q' }, T0)).toThrow(AgentStateError);
    expect(transition(talking, { type: 'call_ended', wrapUpSeconds: 0 }, T0).status).toBe(AgentStatus.Available);
  });

  it('leaves an away or logged-out agent as they are on a direct call, and refuses one while ringing', () => {
    const away = run([{ type: 'set_away', reason: 'lunch' }]);
    expect(transition(away, { type: 'direct_call', callId: 'x' }, T0)).toBe(away);
    const offline = initialAgentState(T0);
    expect(transition(offline, { type: 'direct_call', callId: 'x' }, T0)).toBe(offline);
    const ringing = run([{ type: 'login' }, { type: 'offer', callId: 'c' }]);
    expect(() => transition(ringing, { type: 'direct_call', callId: 'x' }, T0)).toThrow(AgentStateError);
  });
});
