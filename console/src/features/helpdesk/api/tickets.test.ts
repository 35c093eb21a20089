import { describe, expect, it } from 'vitest';
import { importErrorLines } from './contacts.ts';
import { dayBuckets, MAX_DAYS } from './ticket-reports.ts';
import { filterParams, slaBadge, viewToFilters } from './tickets.ts';

describe('ticket filters', () => {
  it('leaves out empty filters and sends the assignee as a number (0: unassigned)', () => {
    expect(
      filterParams({ status: 'open', priority: '', q: '  printer ', assigneeUserId: '0' }),
    ).toEqual({ status: 'open', q: 'printer', assigneeUserId: 0 });
  });

  it('turns a saved view back into the form’s values', () => {
    expect(
      viewToFilters({
        id: 1,
        name: 'Mine',
        version: 1,
        filters: { assigneeUserId: 7, slaState: 'at_risk', groupId: 3 },
      }),
    ).toEqual({ assigneeUserId: '7', slaState: 'at_risk' });
  });

  it('badges only tickets at risk or in breach', () => {
    expect(slaBadge('breached')).toEqual({ text: 'SLA breached', tone: 'hot' });
    expect(slaBadge('at_risk')).toEqual({ text: 'SLA at risk', tone: 'warn' });
    expect(slaBadge('ok')).toBeNull();
    expect(slaBadge('none')).toBeNull();
  });
});

describe('contact import result', () => {
  it('names each bad line with its fields at fault', () => {
    expect(
      importErrorLines({
        imported: 1,
        contactIds: [5],
        errors: [
          {
            line: 3,
            errors: [
              { field: 'phones', message: 'must be E.164' },
              { field: 'emails', message: 'is not an email' },
            ],
          },
        ],
      }),
    ).toEqual(['line 3: phones must be E.164; emails is not an email']);
  });
});

describe('ticket report days', () => {
  it('cuts a range into days, the last one short', () => {
    expect(dayBuckets('2026-03-01T00:00:00.000Z', '2026-03-03T12:00:00.000Z')).toEqual([
      ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z'],
      ['2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z'],
      ['2026-03-03T00:00:00.000Z', '2026-03-03T12:00:00.000Z'],
    ]);
  });

  it('keeps only the last days of a long range, and nothing of a bad one', () => {
    const days = dayBuckets('2025-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
    expect(days).toHaveLength(MAX_DAYS);
    expect(days.at(-1)?.[1]).toBe('2026-01-01T00:00:00.000Z');
    expect(dayBuckets('nope', '2026-01-01T00:00:00.000Z')).toEqual([]);
    expect(dayBuckets('2026-01-02T00:00:00.000Z', '2026-01-01T00:00:00.000Z')).toEqual([]);
  });
});
