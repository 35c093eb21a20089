import { describe, expect, it } from 'vitest';
import { formatIpMatch, ipMatchKey, ipMatchesOverlap, parseIpMatch } from './ip-match.ts';

const parse = (s: string) => {
  const m = parseIpMatch(s);
  if (!m) throw new Error(`${s} did not parse`);
  return m;
};

describe('parseIpMatch', () => {
  it('reads hosts, networks and host:port in both families', () => {
    expect(formatIpMatch(parse('192.0.2.7'))).toBe('192.0.2.7');
    expect(formatIpMatch(parse('192.0.2.77/24'))).toBe('192.0.2.0/24');
    expect(formatIpMatch(parse('127.0.0.1:5080'))).toBe('127.0.0.1:5080');
    expect(formatIpMatch(parse('2001:DB8::1'))).toBe('2001:db8::1');
    expect(formatIpMatch(parse('2001:db8:0:0:1::/32'))).toBe('2001:db8::/32');
    expect(formatIpMatch(parse('[2001:db8::1]:5060'))).toBe('[2001:db8::1]:5060');
  });

  it('reads the forms Asterisk prints back as the same entries', () => {
    expect(ipMatchKey(parse('192.0.2.0/255.255.255.0'))).toBe(ipMatchKey(parse('192.0.2.0/24')));
    expect(ipMatchKey(parse('127.0.0.1:5080/255.255.255.255'))).toBe(
      ipMatchKey(parse('127.0.0.1:5080')),
    );
    expect(ipMatchKey(parse('2001:db8::/ffff:ffff::'))).toBe(ipMatchKey(parse('2001:db8::/32')));
    expect(ipMatchKey(parse('::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'))).toBe(
      ipMatchKey(parse('::1')),
    );
  });

  it('refuses names, bad masks, ports on networks and out-of-range values', () => {
    for (const bad of [
      'carrier.example',
      '192.0.2.1/33',
      '192.0.2.0/255.0.255.0',
      '192.0.2.0/24:5060',
      '10.0.0.1:0',
      '10.0.0.1:70000',
      '::ffff:1.2.3.4',
      '',
    ]) {
      expect(parseIpMatch(bad), bad).toBeUndefined();
    }
  });
});

describe('ipMatchesOverlap', () => {
  it('finds a host inside a network, and networks inside each other', () => {
    expect(ipMatchesOverlap(parse('10.1.2.3'), parse('10.0.0.0/8'))).toBe(true);
    expect(ipMatchesOverlap(parse('10.0.0.0/8'), parse('10.1.0.0/16'))).toBe(true);
    expect(ipMatchesOverlap(parse('10.0.0.0/16'), parse('10.1.0.0/16'))).toBe(false);
    expect(ipMatchesOverlap(parse('2001:db8::/32'), parse('2001:db8:1::5'))).toBe(true);
    expect(ipMatchesOverlap(parse('10.0.0.1'), parse('::a00:1'))).toBe(false);
  });

  it('keeps one host apart by source port, but not from a match on any port', () => {
    expect(ipMatchesOverlap(parse('127.0.0.1:5080'), parse('127.0.0.1:5090'))).toBe(false);
    expect(ipMatchesOverlap(parse('127.0.0.1:5080'), parse('127.0.0.1:5080'))).toBe(true);
    expect(ipMatchesOverlap(parse('127.0.0.1:5080'), parse('127.0.0.0/8'))).toBe(true);
  });
});
