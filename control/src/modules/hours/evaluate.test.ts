import { describe, expect, it } from 'vitest';
import { isOpen, isValidTimeZone, nextChange, parseClock, type WeeklyRange } from './evaluate.ts';

const weekdays = (open: string, close: string): WeeklyRange[] =>
  [1, 2, 3, 4, 5].map((day) => ({ day, open, close }));
const everyDay = (open: string, close: string): WeeklyRange[] =>
  [0, 1, 2, 3, 4, 5, 6].map((day) => ({ day, open, close }));
const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe('isOpen on an ordinary week', () => {
  const office = weekdays('09:00', '17:00');

  it('opens at the opening minute and closes at the closing minute', () => {
    // Wednesday 14 January 2026, London is on GMT (UTC+0).
    expect(isOpen(office, [], 'Europe/London', at('2026-01-14T08:59:59Z'))).toBe(false);
    expect(isOpen(office, [], 'Europe/London', at('2026-01-14T09:00:00Z'))).toBe(true);
    expect(isOpen(office, [], 'Europe/London', at('2026-01-14T16:59:59.999Z'))).toBe(true);
    expect(isOpen(office, [], 'Europe/London', at('2026-01-14T17:00:00Z'))).toBe(false);
  });

  it('is closed on days without ranges', () => {
    // Saturday 17 and Sunday 18 January 2026.
    expect(isOpen(office, [], 'Europe/London', at('2026-01-17T12:00:00Z'))).toBe(false);
    expect(isOpen(office, [], 'Europe/London', at('2026-01-18T12:00:00Z'))).toBe(false);
  });

  it('reads the schedule on the zone’s wall clock, not UTC', () => {
    // 09:00 in Tokyo (UTC+9, no DST) is 00:00 UTC on the same day.
    expect(isOpen(office, [], 'Asia/Tokyo', at('2026-01-14T00:00:00Z'))).toBe(true);
    expect(isOpen(office, [], 'Asia/Tokyo', at('2026-01-13T23:59:00Z'))).toBe(false);
    // Kathmandu is UTC+5:45: 09:00 there is 03:15 UTC.
    expect(isOpen(office, [], 'Asia/Kathmandu', at('2026-01-14T03:14:59Z'))).toBe(false);
    expect(isOpen(office, [], 'Asia/Kathmandu', at('2026-01-14T03:15:00Z'))).toBe(true);
  });

  it('uses the local weekday when UTC is already on another day', () => {
    // Friday 16 January 2026 23:30 in Los Angeles is Saturday 07:30 UTC.
    const fridayNight = [{ day: 5, open: '23:00', close: '24:00' }];
    expect(isOpen(fridayNight, [], 'America/Los_Angeles', at('2026-01-17T07:30:00Z'))).toBe(true);
    expect(isOpen(fridayNight, [], 'UTC', at('2026-01-17T07:30:00Z'))).toBe(false);
  });

  it('accepts an instant as epoch milliseconds', () => {
    expect(isOpen(office, [], 'UTC', Date.parse('2026-01-14T10:00:00Z'))).toBe(true);
  });
});

describe('isOpen with several ranges a day', () => {
  const split = [
    { day: 3, open: '09:00', close: '12:00' },
    { day: 3, open: '13:00', close: '17:30' },
  ];

  it('is closed over lunch and open in both ranges', () => {
    expect(isOpen(split, [], 'UTC', at('2026-01-14T11:59:00Z'))).toBe(true);
    expect(isOpen(split, [], 'UTC', at('2026-01-14T12:00:00Z'))).toBe(false);
    expect(isOpen(split, [], 'UTC', at('2026-01-14T12:59:59Z'))).toBe(false);
    expect(isOpen(split, [], 'UTC', at('2026-01-14T13:00:00Z'))).toBe(true);
    expect(isOpen(split, [], 'UTC', at('2026-01-14T17:29:59Z'))).toBe(true);
    expect(isOpen(split, [], 'UTC', at('2026-01-14T17:30:00Z'))).toBe(false);
  });

  it('finds each next change in turn', () => {
    expect(iso(nextChange(split, [], 'UTC', at('2026-01-14T10:00:00Z')))).toBe(
      '2026-01-14T12:00:00.000Z',
    );
    expect(iso(nextChange(split, [], 'UTC', at('2026-01-14T12:00:00Z')))).toBe(
      '2026-01-14T13:00:00.000Z',
    );
    expect(iso(nextChange(split, [], 'UTC', at('2026-01-14T13:00:00Z')))).toBe(
      '2026-01-14T17:30:00.000Z',
    );
    // After Wednesday's last range, the next opening is next Wednesday.
    expect(iso(nextChange(split, [], 'UTC', at('2026-01-14T18:00:00Z')))).toBe(
      '2026-01-21T09:00:00.000Z',
    );
  });

  it('treats touching ranges as one open period', () => {
    const touching = [
      { day: 3, open: '09:00', close: '12:00' },
      { day: 3, open: '12:00', close: '17:00' },
    ];
    expect(isOpen(touching, [], 'UTC', at('2026-01-14T12:00:00Z'))).toBe(true);
    expect(iso(nextChange(touching, [], 'UTC', at('2026-01-14T10:00:00Z')))).toBe(
      '2026-01-14T17:00:00.000Z',
    );
  });
});

describe('midnight edges', () => {
  // Open overnight from Friday 22:00 to Saturday 02:00, written as two ranges.
  const overnight = [
    { day: 5, open: '22:00', close: '24:00' },
    { day: 6, open: '00:00', close: '02:00' },
  ];

  it('stays open across midnight when one day’s range ends at 24:00 and the next starts at 00:00', () => {
    expect(isOpen(overnight, [], 'UTC', at('2026-01-16T21:59:59Z'))).toBe(false);
    expect(isOpen(overnight, [], 'UTC', at('2026-01-16T23:59:59Z'))).toBe(true);
    expect(isOpen(overnight, [], 'UTC', at('2026-01-17T00:00:00Z'))).toBe(true);
    expect(isOpen(overnight, [], 'UTC', at('2026-01-17T01:59:59Z'))).toBe(true);
    expect(isOpen(overnight, [], 'UTC', at('2026-01-17T02:00:00Z'))).toBe(false);
    expect(iso(nextChange(overnight, [], 'UTC', at('2026-01-16T23:00:00Z')))).toBe(
      '2026-01-17T02:00:00.000Z',
    );
  });

  it('closes at midnight when the next day has no range from 00:00', () => {
    const late = [{ day: 0, open: '20:00', close: '24:00' }];
    // Sunday 18 January 2026 → Monday 19.
    expect(isOpen(late, [], 'UTC', at('2026-01-18T23:59:59Z'))).toBe(true);
    expect(isOpen(late, [], 'UTC', at('2026-01-19T00:00:00Z'))).toBe(false);
    expect(iso(nextChange(late, [], 'UTC', at('2026-01-18T21:00:00Z')))).toBe(
      '2026-01-19T00:00:00.000Z',
    );
  });

  it('wraps the week from Saturday to Sunday', () => {
    const sunday = [{ day: 0, open: '00:00', close: '00:01' }];
    expect(isOpen(sunday, [], 'UTC', at('2026-01-17T23:59:59Z'))).toBe(false);
    expect(isOpen(sunday, [], 'UTC', at('2026-01-18T00:00:00Z'))).toBe(true);
    expect(isOpen(sunday, [], 'UTC', at('2026-01-18T00:01:00Z'))).toBe(false);
    expect(iso(nextChange(sunday, [], 'UTC', at('2026-01-17T12:00:00Z')))).toBe(
      '2026-01-18T00:00:00.000Z',
    );
  });
});

describe('daylight saving time in Europe/London', () => {
  const office = weekdays('09:00', '17:00');

  it('opens at 09:00 BST (08:00 UTC) after the clocks go forward on 29 March 2026', () => {
    // Friday 27 March: GMT.
    expect(isOpen(office, [], 'Europe/London', at('2026-03-27T08:30:00Z'))).toBe(false);
    expect(isOpen(office, [], 'Europe/London', at('2026-03-27T09:00:00Z'))).toBe(true);
    // Monday 30 March: BST.
    expect(isOpen(office, [], 'Europe/London', at('2026-03-30T07:59:59Z'))).toBe(false);
    expect(isOpen(office, [], 'Europe/London', at('2026-03-30T08:00:00Z'))).toBe(true);
    expect(isOpen(office, [], 'Europe/London', at('2026-03-30T15:59:59Z'))).toBe(true);
    expect(isOpen(office, [], 'Europe/London', at('2026-03-30T16:00:00Z'))).toBe(false);
  });

  it('finds Monday’s opening over a weekend that changes the offset', () => {
    expect(iso(nextChange(office, [], 'Europe/London', at('2026-03-27T18:00:00Z')))).toBe(
      '2026-03-30T08:00:00.000Z',
    );
  });

  it('opens when the clock jumps past a range that starts in the skipped hour', () => {
    // 01:00 GMT jumps to 02:00 BST at 01:00 UTC; 01:30 never happens on the wall clock.
    const inGap = [{ day: 0, open: '01:30', close: '03:00' }];
    expect(isOpen(inGap, [], 'Europe/London', at('2026-03-29T00:59:59Z'))).toBe(false);
    expect(isOpen(inGap, [], 'Europe/London', at('2026-03-29T01:00:00Z'))).toBe(true);
    expect(isOpen(inGap, [], 'Europe/London', at('2026-03-29T01:59:59Z'))).toBe(true);
    expect(isOpen(inGap, [], 'Europe/London', at('2026-03-29T02:00:00Z'))).toBe(false);
    expect(iso(nextChange(inGap, [], 'Europe/London', at('2026-03-29T00:30:00Z')))).toBe(
      '2026-03-29T01:00:00.000Z',
    );
    expect(iso(nextChange(inGap, [], 'Europe/London', at('2026-03-29T01:00:00Z')))).toBe(
      '2026-03-29T02:00:00.000Z',
    );
  });

  it('gives a Sunday open all day 23 real hours', () => {
    const sunday = [{ day: 0, open: '00:00', close: '24:00' }];
    const opened = at('2026-03-29T00:00:00Z');
    const closed = nextChange(sunday, [], 'Europe/London', opened);
    // Sunday ends at 24:00 BST = 23:00 UTC.
    expect(iso(closed)).toBe('2026-03-29T23:00:00.000Z');
  });

  it('opens at 09:00 GMT again after the clocks go back on 25 October 2026', () => {
    // Friday 23 October: BST.
    expect(isOpen(office, [], 'Europe/London', at('2026-10-23T08:00:00Z'))).toBe(true);
    // Monday 26 October: GMT.
    expect(isOpen(office, [], 'Europe/London', at('2026-10-26T08:00:00Z'))).toBe(false);
    expect(isOpen(office, [], 'Europe/London', at('2026-10-26T09:00:00Z'))).toBe(true);
    expect(iso(nextChange(office, [], 'Europe/London', at('2026-10-23T17:00:00Z')))).toBe(
      '2026-10-26T09:00:00.000Z',
    );
  });

  it('evaluates the repeated hour twice when the clocks go back', () => {
    // 01:00–01:59 happens first in BST (00:00–00:59 UTC), then again in GMT (01:00–01:59 UTC).
    const early = [{ day: 0, open: '00:00', close: '01:30' }];
    const tz = 'Europe/London';
    expect(isOpen(early, [], tz, at('2026-10-25T00:15:00Z'))).toBe(true); // 01:15 BST
    expect(isOpen(early, [], tz, at('2026-10-25T00:45:00Z'))).toBe(false); // 01:45 BST
    expect(isOpen(early, [], tz, at('2026-10-25T01:15:00Z'))).toBe(true); // 01:15 GMT
    expect(isOpen(early, [], tz, at('2026-10-25T01:45:00Z'))).toBe(false); // 01:45 GMT
    expect(iso(nextChange(early, [], tz, at('2026-10-25T00:15:00Z')))).toBe(
      '2026-10-25T00:30:00.000Z',
    );
    expect(iso(nextChange(early, [], tz, at('2026-10-25T00:45:00Z')))).toBe(
      '2026-10-25T01:00:00.000Z',
    );
    expect(iso(nextChange(early, [], tz, at('2026-10-25T01:00:00Z')))).toBe(
      '2026-10-25T01:30:00.000Z',
    );
  });

  it('gives a Sunday open all day 25 real hours when the clocks go back', () => {
    const sunday = [{ day: 0, open: '00:00', close: '24:00' }];
    // Sunday starts at 00:00 BST = 23:00 UTC on Saturday and ends at 24:00 GMT.
    expect(iso(nextChange(sunday, [], 'Europe/London', at('2026-10-24T12:00:00Z')))).toBe(
      '2026-10-24T23:00:00.000Z',
    );
    expect(iso(nextChange(sunday, [], 'Europe/London', at('2026-10-24T23:00:00Z')))).toBe(
      '2026-10-26T00:00:00.000Z',
    );
  });
});

describe('daylight saving time in America/New_York', () => {
  const office = weekdays('09:00', '17:00');
  const tz = 'America/New_York';

  it('moves the opening from 14:00 UTC to 13:00 UTC when DST starts on 8 March 2026', () => {
    expect(isOpen(office, [], tz, at('2026-03-06T13:59:59Z'))).toBe(false);
    expect(isOpen(office, [], tz, at('2026-03-06T14:00:00Z'))).toBe(true);
    expect(isOpen(office, [], tz, at('2026-03-09T12:59:59Z'))).toBe(false);
    expect(isOpen(office, [], tz, at('2026-03-09T13:00:00Z'))).toBe(true);
    expect(isOpen(office, [], tz, at('2026-03-09T20:59:59Z'))).toBe(true);
    expect(isOpen(office, [], tz, at('2026-03-09T21:00:00Z'))).toBe(false);
    expect(iso(nextChange(office, [], tz, at('2026-03-06T22:00:00Z')))).toBe(
      '2026-03-09T13:00:00.000Z',
    );
  });

  it('moves it back to 14:00 UTC when DST ends on 1 November 2026', () => {
    expect(isOpen(office, [], tz, at('2026-11-02T13:30:00Z'))).toBe(false);
    expect(isOpen(office, [], tz, at('2026-11-02T14:00:00Z'))).toBe(true);
    expect(iso(nextChange(office, [], tz, at('2026-10-30T22:00:00Z')))).toBe(
      '2026-11-02T14:00:00.000Z',
    );
  });

  it('handles a range that starts in the skipped 02:00–03:00 hour', () => {
    const sunday = [{ day: 0, open: '02:30', close: '04:00' }];
    // 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
    expect(isOpen(sunday, [], tz, at('2026-03-08T06:59:59Z'))).toBe(false);
    expect(isOpen(sunday, [], tz, at('2026-03-08T07:00:00Z'))).toBe(true);
    expect(iso(nextChange(sunday, [], tz, at('2026-03-08T05:00:00Z')))).toBe(
      '2026-03-08T07:00:00.000Z',
    );
    expect(iso(nextChange(sunday, [], tz, at('2026-03-08T07:00:00Z')))).toBe(
      '2026-03-08T08:00:00.000Z',
    );
  });
});

describe('daylight saving time in the southern hemisphere', () => {
  it('follows Sydney back to standard time on 5 April 2026', () => {
    const office = weekdays('09:00', '17:00');
    // Friday 3 April: AEDT (UTC+11); Monday 6 April: AEST (UTC+10).
    expect(isOpen(office, [], 'Australia/Sydney', at('2026-04-02T22:00:00Z'))).toBe(true);
    expect(isOpen(office, [], 'Australia/Sydney', at('2026-04-05T22:00:00Z'))).toBe(false);
    expect(isOpen(office, [], 'Australia/Sydney', at('2026-04-05T23:00:00Z'))).toBe(true);
  });
});

describe('holidays', () => {
  const allDay = everyDay('00:00', '24:00');

  it('closes the whole local calendar day in the schedule’s zone', () => {
    const tz = 'America/Los_Angeles';
    const christmas = [{ date: '2026-12-25' }];
    // 21:00 on 24 December in Los Angeles is already the 25th in UTC: still open.
    expect(isOpen(allDay, christmas, tz, at('2026-12-25T05:00:00Z'))).toBe(true);
    expect(isOpen(allDay, christmas, tz, at('2026-12-25T07:59:59Z'))).toBe(true);
    expect(isOpen(allDay, christmas, tz, at('2026-12-25T08:00:00Z'))).toBe(false);
    expect(isOpen(allDay, christmas, tz, at('2026-12-26T07:59:59Z'))).toBe(false);
    expect(isOpen(allDay, christmas, tz, at('2026-12-26T08:00:00Z'))).toBe(true);
  });

  it('gives the holiday’s start and end as next changes', () => {
    const tz = 'America/Los_Angeles';
    const christmas = [{ date: '2026-12-25' }];
    expect(iso(nextChange(allDay, christmas, tz, at('2026-12-24T20:00:00Z')))).toBe(
      '2026-12-25T08:00:00.000Z',
    );
    expect(iso(nextChange(allDay, christmas, tz, at('2026-12-25T12:00:00Z')))).toBe(
      '2026-12-26T08:00:00.000Z',
    );
  });

  it('skips a run of holidays that spans a DST change', () => {
    const office = weekdays('09:00', '17:00');
    const tz = 'America/New_York';
    const shutdown = ['2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13'].map(
      (date) => ({
        date,
      }),
    );
    // Closes Friday 6 March at 17:00 EST; reopens Monday 16 March at 09:00 EDT.
    expect(iso(nextChange(office, shutdown, tz, at('2026-03-06T23:00:00Z')))).toBe(
      '2026-03-16T13:00:00.000Z',
    );
  });

  it('ignores holidays on days that are closed anyway', () => {
    const office = weekdays('09:00', '17:00');
    expect(isOpen(office, [{ date: '2026-01-17' }], 'UTC', at('2026-01-19T10:00:00Z'))).toBe(true);
  });
});

describe('nextChange when nothing changes', () => {
  it('is null for an empty schedule and for one open around the clock', () => {
    expect(nextChange([], [], 'Europe/London', at('2026-01-14T10:00:00Z'))).toBeNull();
    expect(
      nextChange(everyDay('00:00', '24:00'), [], 'Europe/London', at('2026-03-28T10:00:00Z')),
    ).toBeNull();
  });

  it('finds a holiday months away in a schedule open around the clock', () => {
    const next = nextChange(
      everyDay('00:00', '24:00'),
      [{ date: '2026-12-25' }],
      'UTC',
      at('2026-06-01T00:00:00Z'),
    );
    expect(iso(next)).toBe('2026-12-25T00:00:00.000Z');
  });

  it('agrees with isOpen just before and at the change it reports', () => {
    const schedule = [
      ...weekdays('08:30', '12:15'),
      ...weekdays('13:00', '18:45'),
      { day: 6, open: '10:00', close: '14:00' },
    ];
    const holidays = [{ date: '2026-03-30' }];
    for (const tz of ['Europe/London', 'America/New_York', 'Asia/Kathmandu', 'Australia/Sydney']) {
      let t = Date.parse('2026-03-25T00:00:00Z');
      for (let i = 0; i < 40; i++) {
        const change = nextChange(schedule, holidays, tz, t);
        expect(change).not.toBeNull();
        const c = change!.getTime();
        expect(isOpen(schedule, holidays, tz, c - 1)).toBe(isOpen(schedule, holidays, tz, t));
        expect(isOpen(schedule, holidays, tz, c)).toBe(!isOpen(schedule, holidays, tz, t));
        t = c;
      }
    }
  });
});

describe('parseClock and isValidTimeZone', () => {
  it('parses HH:MM with 24:00 as the end of the day', () => {
    expect(parseClock('00:00')).toBe(0);
    expect(parseClock('09:30')).toBe(570);
    expect(parseClock('24:00')).toBe(1440);
    expect(parseClock('24:01')).toBeUndefined();
    expect(parseClock('9:30')).toBeUndefined();
    expect(parseClock('12:60')).toBeUndefined();
  });

  it('knows IANA zones and refuses made-up ones and raw offsets', () => {
    expect(isValidTimeZone('Europe/London')).toBe(true);
    expect(isValidTimeZone('America/Argentina/Buenos_Aires')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('+01:00')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
