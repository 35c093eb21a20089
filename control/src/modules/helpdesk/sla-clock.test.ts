import { describe, expect, it } from 'vitest';
import { addBusinessMinutes, slaState, type BusinessCalendar } from './sla-clock.ts';

const weekdays = (open: string, close: string) =>
  [1, 2, 3, 4, 5].map((day) => ({ day, open, close }));

const london: BusinessCalendar = {
  schedule: weekdays('09:00', '17:00'),
  holidays: [],
  timezone: 'Europe/London',
};

const at = (iso: string) => new Date(iso);

describe('addBusinessMinutes', () => {
  it('counts wall-clock minutes without a calendar', () => {
    expect(addBusinessMinutes(null, at('2026-03-06T16:30:00Z'), 90)?.toISOString()).toBe(
      '2026-03-06T18:00:00.000Z',
    );
  });

  it('stays inside one open period when the target fits', () => {
    // Wednesday 10:00 London (GMT in January) + 60 min.
    expect(addBusinessMinutes(london, at('2026-01-07T10:00:00Z'), 60)?.toISOString()).toBe(
      '2026-01-07T11:00:00.000Z',
    );
  });

  it('carries the rest over the night and the weekend', () => {
    // Friday 16:30 + 60 business minutes: 30 on Friday, 30 on Monday from 09:00.
    expect(addBusinessMinutes(london, at('2026-01-09T16:30:00Z'), 60)?.toISOString()).toBe(
      '2026-01-12T09:30:00.000Z',
    );
  });

  it('starts counting at opening time when created while closed', () => {
    // Saturday: the clock starts Monday 09:00.
    expect(addBusinessMinutes(london, at('2026-01-10T12:00:00Z'), 15)?.toISOString()).toBe(
      '2026-01-12T09:15:00.000Z',
    );
  });

  it('ends at the close exactly when the target uses the whole day', () => {
    expect(addBusinessMinutes(london, at('2026-01-07T09:00:00Z'), 480)?.toISOString()).toBe(
      '2026-01-07T17:00:00.000Z',
    );
  });

  it('skips holidays', () => {
    const withHoliday = { ...london, holidays: [{ date: '2026-01-12' }] };
    expect(addBusinessMinutes(withHoliday, at('2026-01-09T16:30:00Z'), 60)?.toISOString()).toBe(
      '2026-01-13T09:30:00.000Z',
    );
  });

  it('reads the schedule on the tenant’s wall clock, across a DST change', () => {
    // New York: Friday 6 March 2026 is EST (UTC-5); Monday 9 March is EDT (UTC-4).
    const ny: BusinessCalendar = { ...london, timezone: 'America/New_York' };
    // Friday 16:00 EST = 21:00Z; 120 minutes: 60 on Friday, 60 on Monday from 09:00 EDT.
    expect(addBusinessMinutes(ny, at('2026-03-06T21:00:00Z'), 120)?.toISOString()).toBe(
      '2026-03-09T14:00:00.000Z',
    );
    // Same schedule in Tokyo (no DST): Monday 09:00 JST is Monday 00:00Z.
    const tokyo: BusinessCalendar = { ...london, timezone: 'Asia/Tokyo' };
    expect(addBusinessMinutes(tokyo, at('2026-01-09T08:00:00Z'), 30)?.toISOString()).toBe(
      '2026-01-12T00:30:00.000Z',
    );
  });

  it('never falls due on a schedule that never opens', () => {
    expect(addBusinessMinutes({ ...london, schedule: [] }, at('2026-01-07T10:00:00Z'), 5)).toBe(
      null,
    );
  });
});

describe('slaState', () => {
  const base = {
    createdAt: at('2026-01-07T10:00:00Z'),
    firstResponseDueAt: at('2026-01-07T11:00:00Z'),
    resolutionDueAt: at('2026-01-07T18:00:00Z'),
    firstRespondedAt: null,
    solvedAt: null,
    firstResponseBreachedAt: null,
    resolutionBreachedAt: null,
  };

  it('is none without targets', () => {
    expect(
      slaState({ ...base, firstResponseDueAt: null, resolutionDueAt: null }, base.createdAt),
    ).toBe('none');
  });

  it('is ok early, at risk in the last quarter, breached once late', () => {
    expect(slaState(base, at('2026-01-07T10:30:00Z'))).toBe('ok');
    expect(slaState(base, at('2026-01-07T10:50:00Z'))).toBe('at_risk');
    expect(slaState(base, at('2026-01-07T11:00:01Z'))).toBe('breached');
  });

  it('counts a met target as met, and a late answer as breached', () => {
    const answered = { ...base, firstRespondedAt: at('2026-01-07T10:40:00Z') };
    expect(slaState(answered, at('2026-01-07T12:00:00Z'))).toBe('ok');
    const solvedSilently = { ...base, solvedAt: at('2026-01-07T10:30:00Z') };
    expect(slaState(solvedSilently, at('2026-01-07T19:00:00Z'))).toBe('ok');
    const late = { ...base, firstRespondedAt: at('2026-01-07T11:10:00Z') };
    expect(slaState(late, at('2026-01-07T11:20:00Z'))).toBe('breached');
  });
});
