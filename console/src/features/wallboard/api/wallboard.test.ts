import { describe, expect, it } from 'vitest';
import { agentsByState, queueRows } from './wallboard.ts';
import type { LiveCall } from '../../../lib/types.ts';

const call = (queueId: number, status: string, startedAt: number): LiveCall => ({
  callId: `c${queueId}-${startedAt}`,
  status,
  from: '+441',
  to: '+442',
  queueId,
  agentUserId: null,
  startedAt: new Date(startedAt).toISOString(),
  answeredAt: null,
  onHold: false,
  agentMuted: false,
});

describe('wallboard figures', () => {
  it('counts waiting callers and the longest wait per queue, with today’s service level', () => {
    const rows = queueRows(
      [
        { id: 1, name: 'Sales' },
        { id: 2, name: 'Support' },
      ],
      [
        call(1, 'queued', 10_000),
        call(1, 'offered', 40_000),
        call(1, 'connected', 0),
        call(2, 'connected', 0),
      ],
      [
        {
          queueId: 1,
          offered: 8,
          answered: 6,
          abandoned: 2,
          answeredWithinSl: 4,
          asaMs: 0,
          longestWaitMs: 0,
        },
      ],
      70_000,
    );
    expect(rows).toEqual([
      {
        id: 1,
        name: 'Sales',
        waiting: 2,
        longestWaitMs: 60_000,
        answered: 6,
        abandoned: 2,
        serviceLevelPct: 50,
      },
      {
        id: 2,
        name: 'Support',
        waiting: 0,
        longestWaitMs: 0,
        answered: 0,
        abandoned: 0,
        serviceLevelPct: null,
      },
    ]);
  });

  it('counts agents by state', () => {
    expect(
      agentsByState([{ status: 'available' }, { status: 'away' }, { status: 'available' }]),
    ).toEqual({
      available: 2,
      away: 1,
    });
  });
});
