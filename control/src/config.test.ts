import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const minimal = { ARI_PASSWORD: 'secret' };

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    const config = loadConfig(minimal);
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(3000);
    expect(config.ari).toEqual({
      url: 'http://127.0.0.1:8088',
      user: 'calldock',
      password: 'secret',
      app: 'calldock',
    });
    expect(config.databaseUrl).toBe('mysql://root@127.0.0.1:3306/calldock');
    expect(config.trustProxy).toBe(false);
    expect(config.loginRateLimitPerMinute).toBe(10);
  });

  it('reads overrides from the environment', () => {
    const config = loadConfig({ ...minimal, PORT: '8080', HOST: '0.0.0.0', ARI_URL: 'http://pbx:8088/' });
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.ari.url).toBe('http://pbx:8088');
  });

  it('tells browsers the SIP WebSocket on ARI\'s host by default, or SIP_WS_URL', () => {
    expect(loadConfig(minimal).sipWsUrl).toBe('ws://127.0.0.1:8088/ws');
    expect(loadConfig({ ...minimal, ARI_URL: 'https://pbx.example.com:8089' }).sipWsUrl).toBe(
      'wss://pbx.example.com:8089/ws',
    );
    expect(loadConfig({ ...minimal, SIP_WS_URL: 'wss://sip.example.com/ws' }).sipWsUrl).toBe('wss://sip.example.com/ws');
    expect(() => loadConfig({ ...minimal, SIP_WS_URL: 'http://sip.example.com/ws' })).toThrow(/SIP_WS_URL must use ws:\/\/ or wss:\/\//);
  });

  it('takes PUBLIC_URL without a trailing slash, and leaves it unset when empty', () => {
    expect(loadConfig({ ...minimal, PUBLIC_URL: 'https://cc.example.com/' }).publicUrl).toBe('https://cc.example.com');
    expect(loadConfig({ ...minimal, PUBLIC_URL: ' ' }).publicUrl).toBeUndefined();
  });

  it('reads TRUST_PROXY as a switch or the proxies’ addresses', () => {
    expect(loadConfig({ ...minimal, TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ ...minimal, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ ...minimal, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
    ]);
    expect(loadConfig({ ...minimal, TRUST_PROXY: 'loopback' }).trustProxy).toEqual(['loopback']);
  });

  it('takes the per-address login limit from LOGIN_RATE_LIMIT_PER_MINUTE', () => {
    expect(loadConfig({ ...minimal, LOGIN_RATE_LIMIT_PER_MINUTE: '100000' }).loginRateLimitPerMinute).toBe(100_000);
  });

  it.each([
    [{ TRUST_PROXY: '2' }, /^TRUST_PROXY must be true, false, or proxy addresses/],
    [{ TRUST_PROXY: 'proxy.example.com' }, /^TRUST_PROXY must be/],
    [{ LOGIN_RATE_LIMIT_PER_MINUTE: '0' }, /^LOGIN_RATE_LIMIT_PER_MINUTE must be an integer between 1 and/],
    [{ PORT: 'abc' }, /^PORT must be an integer between 0 and 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /^PORT must be an integer/],
    [{ DATABASE_URL: 'postgres://x/y' }, /^DATABASE_URL must use mysql:\/\//],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL must be a URL/],
    [{ DATABASE_URL: 'mysql://root@127.0.0.1:3306' }, /^DATABASE_URL must name a database/],
    [{ ARI_URL: 'ftp://x' }, /^ARI_URL must use http:\/\/ or https:\/\//],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ PUBLIC_URL: 'cc.example.com' }, /^PUBLIC_URL must be a URL/],
    [{ SECURITY_NEVER_BLOCK: '10.0.0.0/8,nonsense' }, /^SECURITY_NEVER_BLOCK must be .* \(got "nonsense"\)$/],
    [{ SECURITY_AUTH_FAILURE_THRESHOLD: '0' }, /^SECURITY_AUTH_FAILURE_THRESHOLD must be an integer/],
  ])('refuses %o with one line naming the variable', (env, message) => {
    let caught: unknown;
    try {
      loadConfig({ ...minimal, ...env });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain('\n');
  });

  it('watches no security log unless told, and never blocks loopback by default', () => {
    const { security } = loadConfig(minimal);
    expect(security).toEqual({
      logFile: undefined,
      threshold: 10,
      windowSeconds: 60,
      blockSeconds: 900,
      neverBlock: ['127.0.0.1', '::1'],
    });
    expect(loadConfig({ ...minimal, SECURITY_NEVER_BLOCK: '' }).security.neverBlock).toEqual([]);
  });

  it('requires ARI_PASSWORD: Asterisk credentials come from the environment', () => {
    expect(() => loadConfig({})).toThrow(/^ARI_PASSWORD is required but not set$/);
  });
});
