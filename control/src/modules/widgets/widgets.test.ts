import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { iceServers } from './ice.ts';
import { originAllowed } from './origins.ts';

const base = {
  sipWsUrl: undefined,
  stunUrls: [],
  turnUrls: [],
  turnSecret: undefined,
  turnTtlSeconds: 600,
  ticketTtlSeconds: 120,
  callsPerIpPerWindow: 10,
  callsPerWidgetPerWindow: 100,
  rateWindowSeconds: 60,
};

describe('originAllowed', () => {
  const list = ['https://shop.example.com', 'http://localhost:8080', 'https://*.example.org'];
  it('accepts an exact origin', () => {
    expect(originAllowed('https://shop.example.com', list)).toBe(true);
    expect(originAllowed('http://localhost:8080', list)).toBe(true);
  });
  it('refuses another scheme, port or host', () => {
    expect(originAllowed('http://shop.example.com', list)).toBe(false);
    expect(originAllowed('http://localhost:8081', list)).toBe(false);
    expect(originAllowed('https://shop.example.com.evil.test', list)).toBe(false);
    expect(originAllowed(undefined, list)).toBe(false);
    expect(originAllowed('null', list)).toBe(false);
  });
  it('matches subdomains of a wildcard, not the bare domain', () => {
    expect(originAllowed('https://a.example.org', list)).toBe(true);
    expect(originAllowed('https://a.b.example.org', list)).toBe(true);
    expect(originAllowed('https://example.org', list)).toBe(false);
    expect(originAllowed('https://evilexample.org', list)).toBe(false);
  });
});

describe('iceServers', () => {
  it('gives none when nothing is configured (loopback)', () => {
    expect(iceServers(base, 'x')).toEqual([]);
  });
  it('makes TURN REST credentials that expire', () => {
    const servers = iceServers(
      {
        ...base,
        stunUrls: ['stun:stun.example.net:3478'],
        turnUrls: ['turn:turn.example.net:3478'],
        turnSecret: 's3cret',
      },
      'visitor1',
      1_000_000,
    );
    expect(servers[0]).toEqual({ urls: ['stun:stun.example.net:3478'] });
    expect(servers[1]!.username).toBe(`${1000 + 600}:visitor1`);
    expect(servers[1]!.credential).toBe(
      createHmac('sha1', 's3cret').update('1600:visitor1').digest('base64'),
    );
  });
});
