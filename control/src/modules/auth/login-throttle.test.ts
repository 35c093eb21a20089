import { describe, expect, it } from 'vitest';
import { FailureThrottle } from './login-throttle.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('FailureThrottle', () => {
  it('refuses the attempt after max failures, with the seconds left in the window', () => {
    const time = clock();
    const throttle = new FailureThrottle(3, 60_000, time.now);
    for (let i = 0; i < 3; i++) expect(throttle.reserve('a').allowed).toBe(true);
    time.advance(20_500);
    expect(throttle.reserve('a')).toEqual({ allowed: false, retryAfterSeconds: 40 });
    expect(throttle.reserve('b').allowed).toBe(true);
  });

  it('starts over when the window has passed', () => {
    const time = clock();
    const throttle = new FailureThrottle(1, 60_000, time.now);
    throttle.reserve('a');
    expect(throttle.reserve('a').allowed).toBe(false);
    time.advance(60_000);
    expect(throttle.reserve('a').allowed).toBe(true);
  });

  it('does not count attempts given back (successful logins)', () => {
    const throttle = new FailureThrottle(2, 60_000, clock().now);
    for (let i = 0; i < 5; i++) {
      expect(throttle.reserve('a').allowed).toBe(true);
      throttle.release('a');
    }
    throttle.reserve('a');
    throttle.reserve('a');
    expect(throttle.reserve('a').allowed).toBe(false);
  });

  it('never answers a Retry-After of zero', () => {
    const time = clock();
    const throttle = new FailureThrottle(1, 60_000, time.now);
    throttle.reserve('a');
    time.advance(59_999);
    expect(throttle.reserve('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });
});
