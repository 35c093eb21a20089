/**
 * Which agents a waiting caller is offered to, and in what order: the ACD's decision, kept pure
 * so every strategy is tested without a phone.
 *
 * Common to all strategies:
 *   - only `available` members are candidates (an agent never rings for two calls at once);
 *   - if the queue or the caller requires skills, a member must have each at the level asked;
 *   - penalties tier the members: at first only the lowest penalty among logged-in members is
 *     offered; every `penaltyRelaxSeconds` of waiting opens the next tier too (0 never does).
 * Then the strategy orders (or, for ring-all, takes all of) the remaining candidates.
 */
import { AgentStatus } from './agent-state.ts';

export type Strategy = 'ring_all' | 'longest_idle' | 'round_robin' | 'fewest_calls' | 'skills';

export interface QueuePolicy {
  strategy: Strategy;
  penaltyRelaxSeconds: number;
  requiredSkills: Record<string, number>;
}

export interface Candidate {
  userId: number;
  status: AgentStatus;
  penalty: number;
  skills: Record<string, number>;
  /** ms since epoch the agent has been free since. */
  idleSince: number;
  /** Calls this agent answered today (fewest-calls). */
  callsAnswered: number;
}

export interface CallerNeeds {
  waitedMs: number;
  /** Extra skills this caller needs (an IVR choice, say), on top of the queue's. */
  requiredSkills?: Record<string, number>;
}

/**
 * Candidates allowed by status, skills and the penalty tiers open after `waitedMs`. Tiers are
 * those of the logged-in members with the skills, busy or not: a caller waits for the best tier
 * until the queue's rule opens the next, rather than going to a worse match the moment the
 * best ones are on calls. Tiers with nobody logged in do not count.
 */
export function eligible(policy: QueuePolicy, caller: CallerNeeds, agents: readonly Candidate[]): Candidate[] {
  const needs = Object.entries(caller.requiredSkills ? { ...policy.requiredSkills, ...caller.requiredSkills } : policy.requiredSkills);
  const skilled = agents.filter(
    (a) => a.status !== AgentStatus.Offline && needs.every(([skill, level]) => (a.skills[skill] ?? -1) >= level),
  );
  const matching = skilled.filter((a) => a.status === AgentStatus.Available);
  if (matching.length === 0) return matching;
  const tiers = [...new Set(skilled.map((a) => a.penalty))].sort((a, b) => a - b);
  const open =
    policy.penaltyRelaxSeconds > 0
      ? 1 + Math.floor(caller.waitedMs / (policy.penaltyRelaxSeconds * 1000))
      : 1;
  if (open >= tiers.length) return matching;
  const allowed = new Set(tiers.slice(0, open));
  return matching.filter((a) => allowed.has(a.penalty));
}

const byIdle = (a: Candidate, b: Candidate) => a.idleSince - b.idleSince || a.userId - b.userId;

/** Sum of the agent's levels in the skills asked for: the better match rings first. */
function skillScore(agent: Candidate, required: Record<string, number>): number {
  return Object.keys(required).reduce((sum, skill) => sum + (agent.skills[skill] ?? 0), 0);
}

/**
 * The order to offer the call in. For ring-all, every agent returned rings at once; for the
 * others, one at a time in this order (the next when the previous rings out).
 * `lastOfferedUserId` is the round-robin pointer.
 */
export function orderCandidates(
  policy: QueuePolicy,
  caller: CallerNeeds,
  agents: readonly Candidate[],
  lastOfferedUserId?: number,
): Candidate[] {
  return eligible(policy, caller, agents).sort(comparator(policy, caller, lastOfferedUserId));
}

/**
 * The first of `orderCandidates`, found in one pass instead of a sort: strategies that offer a
 * call to one agent at a time need no more, and the ACD round is on the caller's way to a phone.
 */
export function firstCandidate(
  policy: QueuePolicy,
  caller: CallerNeeds,
  agents: readonly Candidate[],
  lastOfferedUserId?: number,
): Candidate | undefined {
  const compare = comparator(policy, caller, lastOfferedUserId);
  let best: Candidate | undefined;
  for (const agent of eligible(policy, caller, agents)) {
    if (!best || compare(agent, best) < 0) best = agent;
  }
  return best;
}

/** The strategy's order as a sort comparator (`lastOfferedUserId`: the round-robin pointer). */
function comparator(policy: QueuePolicy, caller: CallerNeeds, lastOfferedUserId?: number): (a: Candidate, b: Candidate) => number {
  switch (policy.strategy) {
    case 'ring_all':
    case 'longest_idle':
      return byIdle;
    case 'fewest_calls':
      return (a, b) => a.callsAnswered - b.callsAnswered || byIdle(a, b);
    case 'round_robin': {
      // Those after the pointer first, in id order, then from the lowest id again.
      const pointer = lastOfferedUserId ?? Number.NEGATIVE_INFINITY;
      const lap = (a: Candidate) => (a.userId > pointer ? 0 : 1);
      return (a, b) => lap(a) - lap(b) || a.userId - b.userId;
    }
    case 'skills': {
      const required = { ...policy.requiredSkills, ...caller.requiredSkills };
      return (a, b) => a.penalty - b.penalty || skillScore(b, required) - skillScore(a, required) || byIdle(a, b);
    }
  }
}

export interface Waiting extends CallerNeeds {
  callId: string;
  priority: number;
  /** Arrival order: a counter, not a clock, so two calls in the same millisecond stay ordered. */
  seq: number;
}

export interface Offer {
  callId: string;
  userIds: number[];
}

/** Callers in service order: higher priority first, then first come, first served. */
export function serviceOrder<T extends Pick<Waiting, 'priority' | 'seq'>>(callers: readonly T[]): T[] {
  return [...callers].sort((a, b) => b.priority - a.priority || a.seq - b.seq);
}

/**
 * One ACD round for a queue: the offers to make now. Callers are served in order; each takes
 * the first free eligible agent (all of them for ring-all); an agent is given to one caller only.
 * A caller no free agent suits is passed over for now, so a skills-limited head of the queue does
 * not hold back callers others can serve.
 */
export function planOffers(
  policy: QueuePolicy,
  callers: readonly Waiting[],
  agents: readonly Candidate[],
  lastOfferedUserId?: number,
): Offer[] {
  const taken = new Set<number>();
  const offers: Offer[] = [];
  let pointer = lastOfferedUserId;
  for (const caller of serviceOrder(callers)) {
    const free = taken.size === 0 ? agents : agents.filter((a) => !taken.has(a.userId));
    let chosen: Candidate[];
    if (policy.strategy === 'ring_all') chosen = orderCandidates(policy, caller, free, pointer);
    else {
      const first = firstCandidate(policy, caller, free, pointer);
      chosen = first ? [first] : [];
    }
    if (chosen.length === 0) continue;
    for (const agent of chosen) taken.add(agent.userId);
    offers.push({ callId: caller.callId, userIds: chosen.map((a) => a.userId) });
    pointer = chosen[chosen.length - 1]?.userId ?? pointer;
  }
  return offers;
}
