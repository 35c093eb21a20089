import { describe, expect, it } from 'vitest';
import { AgentStatus } from './agent-state.ts';
import { eligible, firstCandidate, orderCandidates, planOffers, serviceOrder, type Candidate, type QueuePolicy } from './strategy.ts';

const NOW = 1_800_000_000_000;

function agent(userId: number, over: Partial<Candidate> = {}): Candidate {
  return {
    userId,
    status: AgentStatus.Available,
    penalty: 0,
    skills: {},
    idleSince: NOW - userId * 1000,
    callsAnswered: 0,
    ...over,
  };
}

const policy = (over: Partial<QueuePolicy> = {}): QueuePolicy => ({
  strategy: 'longest_idle',
  penaltyRelaxSeconds: 60,
  requiredSkills: {},
  ...over,
});

const ids = (list: Candidate[]) => list.map((a) => a.userId);

describe('eligible agents', () => {
  it('offers only available agents', () => {
    const agents = [
      agent(1),
      agent(2, { status: AgentStatus.Ringing }),
      agent(3, { status: AgentStatus.OnCall }),
      agent(4, { status: AgentStatus.WrapUp }),
      agent(5, { status: AgentStatus.Away }),
      agent(6, { status: AgentStatus.Offline }),
    ];
    expect(ids(eligible(policy(), { waitedMs: 0 }, agents))).toEqual([1]);
  });

  it('requires every skill at the level asked, from the queue and the caller', () => {
    const agents = [
      agent(1, { skills: { billing: 5, spanish: 2 } }),
      agent(2, { skills: { billing: 3 } }),
      agent(3, { skills: { billing: 5, spanish: 4 } }),
    ];
    const p = policy({ requiredSkills: { billing: 4 } });
    expect(ids(eligible(p, { waitedMs: 0 }, agents))).toEqual([1, 3]);
    expect(ids(eligible(p, { waitedMs: 0, requiredSkills: { spanish: 3 } }, agents))).toEqual([3]);
  });

  it('opens higher penalty tiers as the caller waits', () => {
    const agents = [agent(1, { penalty: 0 }), agent(2, { penalty: 5 }), agent(3, { penalty: 9 })];
    const p = policy({ penaltyRelaxSeconds: 60 });
    expect(ids(eligible(p, { waitedMs: 59_999 }, agents))).toEqual([1]);
    expect(ids(eligible(p, { waitedMs: 60_000 }, agents))).toEqual([1, 2]);
    expect(ids(eligible(p, { waitedMs: 120_000 }, agents))).toEqual([1, 2, 3]);
  });

  it('keeps the caller for the best tier while it is busy, until the rule opens the next', () => {
    const agents = [agent(1, { penalty: 0, status: AgentStatus.OnCall }), agent(2, { penalty: 5 })];
    expect(ids(eligible(policy(), { waitedMs: 0 }, agents))).toEqual([]);
    expect(ids(eligible(policy(), { waitedMs: 60_000 }, agents))).toEqual([2]);
  });

  it('skips a tier with nobody logged in', () => {
    const agents = [agent(1, { penalty: 0, status: AgentStatus.Offline }), agent(2, { penalty: 5 })];
    expect(ids(eligible(policy(), { waitedMs: 0 }, agents))).toEqual([2]);
  });

  it('never relaxes when penaltyRelaxSeconds is 0', () => {
    const agents = [agent(1, { penalty: 0 }), agent(2, { penalty: 1 })];
    expect(ids(eligible(policy({ penaltyRelaxSeconds: 0 }), { waitedMs: 3_600_000 }, agents))).toEqual([1]);
  });
});

describe('strategies', () => {
  const agents = [
    agent(1, { idleSince: NOW - 10_000, callsAnswered: 7 }),
    agent(2, { idleSince: NOW - 50_000, callsAnswered: 3 }),
    agent(3, { idleSince: NOW - 30_000, callsAnswered: 3 }),
  ];

  it('longest-idle offers the agent free the longest first', () => {
    expect(ids(orderCandidates(policy({ strategy: 'longest_idle' }), { waitedMs: 0 }, agents))).toEqual([2, 3, 1]);
  });

  it('fewest-calls offers the agent with fewest answered calls, longest idle breaking ties', () => {
    expect(ids(orderCandidates(policy({ strategy: 'fewest_calls' }), { waitedMs: 0 }, agents))).toEqual([2, 3, 1]);
  });

  it('round-robin continues after the last agent offered, wrapping around', () => {
    const p = policy({ strategy: 'round_robin' });
    expect(ids(orderCandidates(p, { waitedMs: 0 }, agents))).toEqual([1, 2, 3]);
    expect(ids(orderCandidates(p, { waitedMs: 0 }, agents, 2))).toEqual([3, 1, 2]);
    expect(ids(orderCandidates(p, { waitedMs: 0 }, agents, 3))).toEqual([1, 2, 3]);
  });

  it('skills offers the best match first within the open tiers', () => {
    const skilled = [
      agent(1, { skills: { billing: 3 }, idleSince: NOW - 90_000 }),
      agent(2, { skills: { billing: 9 } }),
      agent(3, { skills: { billing: 9 }, penalty: 2 }),
    ];
    const p = policy({ strategy: 'skills', requiredSkills: { billing: 1 } });
    expect(ids(orderCandidates(p, { waitedMs: 0 }, skilled))).toEqual([2, 1]);
    expect(ids(orderCandidates(p, { waitedMs: 60_000 }, skilled))).toEqual([2, 1, 3]);
  });

  it('ring-all offers every eligible agent at once', () => {
    const offers = planOffers(
      policy({ strategy: 'ring_all' }),
      [{ callId: 'a', priority: 0, seq: 1, waitedMs: 0 }],
      agents,
    );
    expect(offers).toEqual([{ callId: 'a', userIds: [2, 3, 1] }]);
  });
});

describe('the one-pass pick', () => {
  it('is the head of the sorted order for every strategy, pointer and mix of agents', () => {
    // A small deterministic generator: the same cases every run.
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n);
    const statuses = [AgentStatus.Available, AgentStatus.Available, AgentStatus.OnCall, AgentStatus.Offline];
    const strategies = ['longest_idle', 'fewest_calls', 'round_robin', 'skills'] as const;
    let compared = 0;
    for (let round = 0; round < 400; round++) {
      const team = Array.from({ length: 1 + rand(12) }, (_, i) =>
        agent(1 + i * 3 + rand(3), {
          status: statuses[rand(statuses.length)]!,
          penalty: rand(3),
          skills: { billing: rand(10) },
          idleSince: NOW - rand(5) * 1000,
          callsAnswered: rand(4),
        }),
      );
      const p = policy({ strategy: strategies[round % strategies.length]!, requiredSkills: round % 3 ? { billing: 2 } : {} });
      const caller = { waitedMs: rand(3) * 60_000 };
      const pointer = rand(2) ? team[rand(team.length)]!.userId : undefined;
      const head = orderCandidates(p, caller, team, pointer)[0];
      expect(firstCandidate(p, caller, team, pointer)?.userId).toBe(head?.userId);
      if (head) compared += 1;
    }
    expect(compared).toBeGreaterThan(200);
  });
});

describe('planning a round', () => {
  it('serves callers by priority, then first come first served by arrival counter', () => {
    const order = serviceOrder([
      { callId: 'late', priority: 0, seq: 3 },
      { callId: 'same-ms-second', priority: 0, seq: 2 },
      { callId: 'vip', priority: 5, seq: 4 },
      { callId: 'same-ms-first', priority: 0, seq: 1 },
    ]);
    expect(order.map((c) => c.callId)).toEqual(['vip', 'same-ms-first', 'same-ms-second', 'late']);
  });

  it('never gives one agent to two callers', () => {
    const offers = planOffers(
      policy(),
      [
        { callId: 'a', priority: 0, seq: 1, waitedMs: 0 },
        { callId: 'b', priority: 0, seq: 2, waitedMs: 0 },
        { callId: 'c', priority: 0, seq: 3, waitedMs: 0 },
      ],
      [agent(1), agent(2)],
    );
    expect(offers).toEqual([
      { callId: 'a', userIds: [2] },
      { callId: 'b', userIds: [1] },
    ]);
    const all = offers.flatMap((o) => o.userIds);
    expect(new Set(all).size).toBe(all.length);
  });

  it('passes over a caller nobody free can serve without holding back the next', () => {
    const offers = planOffers(
      policy({ strategy: 'skills' }),
      [
        { callId: 'needs-french', priority: 0, seq: 1, waitedMs: 0, requiredSkills: { french: 1 } },
        { callId: 'plain', priority: 0, seq: 2, waitedMs: 0 },
      ],
      [agent(1, { skills: { english: 5 } })],
    );
    expect(offers).toEqual([{ callId: 'plain', userIds: [1] }]);
  });

  it('ring-all gives the first caller everyone and the next caller waits', () => {
    const offers = planOffers(
      policy({ strategy: 'ring_all' }),
      [
        { callId: 'a', priority: 0, seq: 1, waitedMs: 0 },
        { callId: 'b', priority: 0, seq: 2, waitedMs: 0 },
      ],
      [agent(1), agent(2)],
    );
    expect(offers).toEqual([{ callId: 'a', userIds: [2, 1] }]);
  });

  it('moves the round-robin pointer as it assigns', () => {
    const offers = planOffers(
      policy({ strategy: 'round_robin' }),
      [
        { callId: 'a', priority: 0, seq: 1, waitedMs: 0 },
        { callId: 'b', priority: 0, seq: 2, waitedMs: 0 },
      ],
      [agent(1), agent(2), agent(3)],
      1,
    );
    expect(offers).toEqual([
      { callId: 'a', userIds: [2] },
      { callId: 'b', userIds: [3] },
    ]);
  });
});
