import { describe, expect, it } from 'vitest';
import { FailureWindow } from './failure-window.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('FailureWindow', () => {
  it('counts failures per source address', () => {
    const c = clock();
    const w = new FailureWindow(60_000, c.now);
    expect(w.record('192.0.2.1', 'ChallengeResponseFailed')).toBe(1);
    expect(w.record('192.0.2.1', 'ChallengeResponseFailed')).toBe(2);
    expect(w.record('192.0.2.2', 'InvalidAccountID')).toBe(1);
    expect(w.count('192.0.2.1')).toBe(2);
    expect(w.count('192.0.2.3')).toBe(0);
  });

  it('slides: failures older than the window stop counting', () => {
    const c = clock();
    const w = new FailureWindow(60_000, c.now);
    w.record('192.0.2.1', 'ChallengeResponseFailed');
    c.advance(30_000);
    w.record('192.0.2.1', 'ChallengeResponseFailed');
    c.advance(29_999);
    expect(w.count('192.0.2.1')).toBe(2);
    c.advance(1);
    expect(w.count('192.0.2.1')).toBe(1);
    c.advance(30_000);
    expect(w.count('192.0.2.1')).toBe(0);
    expect(w.list()).toEqual([]);
  });

  it('places a failure at its own time, and ignores one already outside the window', () => {
    const c = clock();
    const w = new FailureWindow(60_000, c.now);
    w.record('192.0.2.1', 'ChallengeResponseFailed', c.now() - 10_000);
    w.record('192.0.2.1', 'ChallengeResponseFailed', c.now() - 50_000);
    expect(w.record('192.0.2.1', 'ChallengeResponseFailed', c.now() - 70_000)).toBe(2);
    expect(w.list()[0]).toMatchObject({ firstAt: c.now() - 50_000, lastAt: c.now() - 10_000 });
    c.advance(10_001);
    expect(w.count('192.0.2.1')).toBe(1);
  });

  it('lists sources with most failures first, by event and with the accounts tried', () => {
    const c = clock();
    const w = new FailureWindow(60_000, c.now);
    w.record('192.0.2.1', 'InvalidAccountID', c.now(), '100');
    w.record('192.0.2.2', 'ChallengeResponseFailed', c.now(), 't1-agent-2');
    w.record('192.0.2.2', 'ChallengeResponseFailed', c.now(), 't1-agent-2');
    w.record('192.0.2.2', 'InvalidAccountID', c.now(), 'admin');
    expect(w.list()).toEqual([
      {
        ip: '192.0.2.2',
        failures: 3,
        firstAt: c.now(),
        lastAt: c.now(),
        events: { ChallengeResponseFailed: 2, InvalidAccountID: 1 },
        accounts: ['t1-agent-2', 'admin'],
      },
      {
        ip: '192.0.2.1',
        failures: 1,
        firstAt: c.now(),
        lastAt: c.now(),
        events: { InvalidAccountID: 1 },
        accounts: ['100'],
      },
    ]);
  });

  it('starts afresh after forget (a blocked source)', () => {
    const w = new FailureWindow(60_000);
    for (let i = 0; i < 5; i++) w.record('192.0.2.1', 'ChallengeResponseFailed');
    w.forget('192.0.2.1');
    expect(w.count('192.0.2.1')).toBe(0);
    expect(w.record('192.0.2.1', 'ChallengeResponseFailed')).toBe(1);
  });

  it('keeps memory bounded under a flood from one source', () => {
    const w = new FailureWindow(60_000);
    for (let i = 0; i < 12_000; i++) w.record('192.0.2.1', 'InvalidAccountID');
    expect(w.count('192.0.2.1')).toBe(10_000);
  });
});
