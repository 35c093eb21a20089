import { describe, expect, it } from 'vitest';
import { FAILED_AUTH_EVENTS, parseSecurityLine } from './security-log.ts';

// Lines as Asterisk 22 wrote them on the test PBX.
const challengeFailed =
  '[2026-11-22 06:05:30.746] SECURITY[19874] res_security_log.c: SecurityEvent="ChallengeResponseFailed",' +
  'EventTV="2026-11-22T06:05:30.746+0000",Severity="Error",Service="PJSIP",EventVersion="1",AccountID="u1",' +
  'SessionID="aefd9d392493d78c@127.0.0.2",LocalAddress="IPV4/UDP/127.0.0.1/15136",' +
  'RemoteAddress="IPV4/UDP/127.0.0.2/48439",Challenge="1795327530/12730fa949abbc1c34a683c5cf26f96f",' +
  'Response="76113da930939a9f7bc3f9a911f4a520",ExpectedResponse=""';
const invalidAccount =
  '[2026-11-22 06:05:34.551] SECURITY[19874] res_security_log.c: SecurityEvent="InvalidAccountID",' +
  'EventTV="2026-11-22T06:05:34.551+0000",Severity="Error",Service="PJSIP",EventVersion="1",AccountID="nosuch",' +
  'SessionID="1c6e8e5dc1699cb9@127.0.0.2",LocalAddress="IPV4/UDP/127.0.0.1/15136",' +
  'RemoteAddress="IPV4/UDP/127.0.0.2/59698"';
const challengeSent =
  '[2026-11-22 06:05:22.145] SECURITY[19874] res_security_log.c: SecurityEvent="ChallengeSent",' +
  'EventTV="2026-11-22T06:05:22.145+0000",Severity="Informational",Service="PJSIP",EventVersion="1",' +
  'AccountID="u1",SessionID="5c77fd9bac26490f@127.0.0.1",LocalAddress="IPV4/UDP/127.0.0.1/15136",' +
  'RemoteAddress="IPV4/UDP/127.0.0.1/50605",Challenge=""';
// A From user of `%22,RemoteAddress=%22IPV4/UDP/127.0.0.9/5` (Asterisk URL-decodes it).
const injected =
  '[2026-11-22 06:08:20.389] SECURITY[19874] res_security_log.c: SecurityEvent="InvalidAccountID",' +
  'EventTV="2026-11-22T06:08:20.389+0000",Severity="Error",Service="PJSIP",EventVersion="1",' +
  'AccountID="",RemoteAddress="IPV4/UDP/127.0.0.9/5",SessionID="4557d11305076a16@127.0.0.2",' +
  'LocalAddress="IPV4/UDP/127.0.0.1/15136",RemoteAddress="IPV4/UDP/127.0.0.2/41147"';

describe('parseSecurityLine', () => {
  it('reads the event, the source address and port, and the time of a failed challenge', () => {
    expect(parseSecurityLine(challengeFailed)).toEqual({
      event: 'ChallengeResponseFailed',
      ip: '127.0.0.2',
      port: 48439,
      transport: 'UDP',
      accountId: 'u1',
      at: Date.parse('2026-11-22T06:05:30.746Z'),
    });
  });

  it('reads an unknown account and a challenge sent alike; only failures count', () => {
    expect(parseSecurityLine(invalidAccount)).toMatchObject({
      event: 'InvalidAccountID',
      ip: '127.0.0.2',
      accountId: 'nosuch',
    });
    expect(parseSecurityLine(challengeSent)?.event).toBe('ChallengeSent');
    expect(FAILED_AUTH_EVENTS.has('InvalidAccountID')).toBe(true);
    expect(FAILED_AUTH_EVENTS.has('ChallengeResponseFailed')).toBe(true);
    expect(FAILED_AUTH_EVENTS.has('InvalidPassword')).toBe(true);
    expect(FAILED_AUTH_EVENTS.has('ChallengeSent')).toBe(false);
    expect(FAILED_AUTH_EVENTS.has('SuccessfulAuth')).toBe(false);
  });

  it('takes the real source address when the account name smuggles in another one', () => {
    expect(parseSecurityLine(injected)).toMatchObject({ ip: '127.0.0.2', port: 41147 });
  });

  it('is not fooled by an escaped address in the digest response after the real one', () => {
    const line = challengeFailed.replace(
      'Response="76113da930939a9f7bc3f9a911f4a520"',
      'Response="x\\",LocalAddress=\\"IPV4/UDP/127.0.0.1/1\\",RemoteAddress=\\"IPV4/UDP/192.0.2.9/5060"',
    );
    expect(parseSecurityLine(line)).toMatchObject({ ip: '127.0.0.2' });
  });

  it('reads IPv6 sources and other transports', () => {
    const line = challengeFailed
      .replace('IPV4/UDP/127.0.0.1/15136', 'IPV6/WS/::1/8088')
      .replace('IPV4/UDP/127.0.0.2/48439', 'IPV6/WS/2001:db8::7/51000');
    expect(parseSecurityLine(line)).toMatchObject({ ip: '2001:db8::7', port: 51000, transport: 'WS' });
  });

  it('ignores lines that are not security events, even when they quote one', () => {
    expect(parseSecurityLine('[2026-11-22 06:05:34.552] NOTICE[19790] res_pjsip/pjsip_distributor.c: Request failed')).toBeUndefined();
    expect(parseSecurityLine(challengeFailed.replace('SECURITY[19874]', 'NOTICE[19874]'))).toBeUndefined();
    expect(parseSecurityLine(`x ${challengeFailed}`)).toBeUndefined();
    expect(parseSecurityLine(challengeFailed.replace('127.0.0.2/48439', 'not-an-ip/48439'))).toBeUndefined();
    expect(parseSecurityLine('')).toBeUndefined();
  });

  it('accepts the call id Asterisk adds with use_callids, and a time it cannot read', () => {
    const line = challengeFailed
      .replace('SECURITY[19874]', 'SECURITY[19874][C-0000002a]')
      .replace('2026-11-22T06:05:30.746+0000', 'garbled');
    expect(parseSecurityLine(line)).toMatchObject({ ip: '127.0.0.2', at: undefined });
  });
});
