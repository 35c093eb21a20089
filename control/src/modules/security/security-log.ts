/**
 * Reads res_security_log's events out of Asterisk's log (logger.conf sends level `security` to
 * the `messages` file). A line looks like:
 *
 *   [2026-11-22 06:05:30.746] SECURITY[19874] res_security_log.c: SecurityEvent="ChallengeResponseFailed",
 *   EventTV="2026-11-22T06:05:30.746+0000",Severity="Error",Service="PJSIP",EventVersion="1",
 *   AccountID="t3-agent-7",SessionID="…",LocalAddress="IPV4/UDP/127.0.0.1/5060",
 *   RemoteAddress="IPV4/UDP/127.0.0.2/48439",Challenge="…",Response="…",ExpectedResponse=""
 *
 * Asterisk writes the values unescaped, and some come from the attacker: AccountID is the From
 * user, URL-decoded (a REGISTER from `sip:%22,RemoteAddress=%22IPV4/UDP/1.2.3.4/5@…` puts a
 * second RemoteAddress into the line, ahead of the real one), SessionID is the Call-ID. So the
 * source address is the *last* `LocalAddress=…,RemoteAddress=…` pair: every field after it is
 * Asterisk's own or a quoted string in which pjsip keeps the backslash before a quote.
 */
import { isIP } from 'node:net';

/** Events that mean "someone tried credentials that did not work". */
export const FAILED_AUTH_EVENTS: ReadonlySet<string> = new Set([
  'ChallengeResponseFailed',
  'InvalidPassword',
  'InvalidAccountID',
]);

export interface SecurityEvent {
  /** SecurityEvent, e.g. ChallengeResponseFailed. */
  event: string;
  /** The source address, without port. */
  ip: string;
  port: number;
  /** UDP, TCP, TLS, WS, WSS. */
  transport: string;
  /** As the request claimed it (attacker-controlled for InvalidAccountID); for display only. */
  accountId: string | undefined;
  /** EventTV in ms since the epoch; undefined when it does not parse. */
  at: number | undefined;
}

const HEAD =
  /^\[[^\]]*\] SECURITY\[\d+\](?:\[[^\]]*\])? res_security_log\.c: SecurityEvent="([A-Za-z]+)",EventTV="([^"]*)",/;
const ADDRESSES =
  /,LocalAddress="IPV[46]\/[A-Z]+\/[^"/]+\/\d+",RemoteAddress="IPV[46]\/([A-Z]+)\/([^"/]+)\/(\d+)"/g;
const ACCOUNT = /,AccountID="(.*?)",SessionID="/;
const MAX_ACCOUNT_LENGTH = 80;

/** `2026-11-22T06:05:30.746+0000` → ms; Date.parse wants the offset as +00:00. */
function eventTime(value: string): number | undefined {
  const iso = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** One log line → its security event, or undefined for any other line. */
export function parseSecurityLine(line: string): SecurityEvent | undefined {
  const head = HEAD.exec(line);
  if (!head) return undefined;
  let last: RegExpExecArray | undefined;
  for (const match of line.matchAll(ADDRESSES)) last = match;
  if (!last) return undefined;
  const ip = (last[2] ?? '').replace(/^\[(.*)\]$/, '$1');
  if (isIP(ip) === 0) return undefined;
  const account = ACCOUNT.exec(line)?.[1];
  return {
    event: head[1] ?? '',
    ip,
    port: Number(last[3]),
    transport: last[1] ?? '',
    accountId: account === undefined ? undefined : account.slice(0, MAX_ACCOUNT_LENGTH),
    at: eventTime(head[2] ?? ''),
  };
}
