/**
 * Typed configuration read from the environment, once, at start-up.
 *
 * A wrong or missing setting is a `ConfigError` whose message is one line naming the variable;
 * `server.ts` prints that line and exits instead of showing a stack trace.
 */

import { parseIpMatch } from './lib/ip-match.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  host: string;
  port: number;
  logLevel: LogLevel;
  /** mysql://user:pass@host:port/database */
  databaseUrl: string;
  ari: {
    url: string;
    user: string;
    password: string;
    /** Stasis application every call enters. */
    app: string;
  };
  /**
   * Origin people reach the console at (https://cc.example.com), for links the API hands out
   * such as invite links. Unset: taken from the request's own Host.
   */
  publicUrl: string | undefined;
  /** Folder holding the console's production build, served at `/` when it exists. */
  consoleDist: string | undefined;
  /**
   * Where browsers reach Asterisk's SIP-over-WebSocket transport (ws://… or wss://…/ws), handed
   * to the console's softphone. Default: Asterisk's HTTP server from ARI_URL, path /ws.
   */
  sipWsUrl: string;
  /** The CDR outbox: where call records wait (fsync'd) while MySQL is unreachable. */
  cdrOutboxFile: string;
  /** Asterisk's cdr_csv Master.csv (host path), read to write the CDR of fallback calls. */
  asteriskCdrCsv: string | undefined;
  /** How long a customer waits on hold for their agent's softphone to come back after a crash. */
  agentReconnectGraceSeconds: number;
  /** Seconds before a customer who did not answer a callback is tried again. */
  callbackRetrySeconds: number;
  /** Milliseconds a routing read is reused by the call engine (changes through the API apply at once). */
  routingFreshMs: number;
  /** Failed SIP authentications: counted per source address, which is blocked past a threshold. */
  security: SecurityConfig;
  /**
   * Push every endpoint and trunk again on each ARI connect (on by default). Only for test
   * processes that share an Asterisk with the one under test and must not fight over it.
   */
  resyncEndpointsOnConnect: boolean;
  /** How long graceful shutdown waits for in-flight requests before giving up. */
  shutdownTimeoutMs: number;
  /**
   * Fastify's `trustProxy`: whom to believe about the client's address (X-Forwarded-For).
   * Off by default; behind a reverse proxy, per-address login throttling needs it, or every
   * client shares the proxy's address. The proxies' addresses/CIDRs, or `true` (anyone: only
   * when nothing but the proxy can reach the port, as anyone else could then pick an address).
   */
  trustProxy: boolean | string[];
  /** Login attempts a minute from one client address (raised for benchmarks, never off). */
  loginRateLimitPerMinute: number;
  /** The website widget: what a visitor's browser is told, and how much it may ask. */
  widget: WidgetConfig;
  /** Tickets: attachment storage and the SLA breach job. */
  helpdesk: HelpdeskConfig;
}

export interface WidgetConfig {
  /**
   * SIP over WebSocket as the visitor's browser reaches Asterisk (wss://pbx.example.com/ws).
   * Unset: Asterisk's HTTP server from ARI_URL, at /ws (right for a loopback set-up).
   */
  sipWsUrl: string | undefined;
  /** STUN servers (stun:host:port), none by default: on loopback ICE must never wait for one. */
  stunUrls: string[];
  /** TURN servers (turn:host:port?transport=udp); with a secret, TURN REST credentials are made. */
  turnUrls: string[];
  /** The shared secret of the TURN server's REST API (coturn's static-auth-secret). */
  turnSecret: string | undefined;
  /** How long the TURN credentials and a call ticket's endpoint last. */
  turnTtlSeconds: number;
  ticketTtlSeconds: number;
  /** Call tickets per window from one address, and for one widget. */
  callsPerIpPerWindow: number;
  callsPerWidgetPerWindow: number;
  rateWindowSeconds: number;
}

export interface HelpdeskConfig {
  /** Folder holding ticket attachments (one subfolder per tenant); never inside the database. */
  attachmentsDir: string;
  /** Largest file one upload may carry. */
  attachmentMaxBytes: number;
  /** All of a tenant's attachments together. */
  tenantQuotaBytes: number;
  /** How often the SLA breach job runs; 0 = never (a test runs it by hand). */
  slaCheckSeconds: number;
}

export interface SecurityConfig {
  /** Asterisk's log file holding res_security_log's events (host path); unset = no watcher. */
  logFile: string | undefined;
  /** This many failures from one address within the window block it. */
  threshold: number;
  windowSeconds: number;
  blockSeconds: number;
  /** Addresses and networks never blocked (their failures are still counted and shown). */
  neverBlock: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function str(env: Env, name: string, fallback?: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`${name} is required but not set`);
  }
  return value.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
  }
  return value;
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const raw = str(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL like ${fallback} (got "${raw}")`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(
      `${name} must use ${protocols.map((p) => p.replace(':', '://')).join(' or ')} (got "${raw}")`,
    );
  }
  return raw.replace(/\/+$/, '');
}

/**
 * `TRUST_PROXY`: false (default), true, or the proxies' addresses/CIDRs separated by commas
 * (proxy-addr's names loopback, linklocal and uniquelocal too). No hop count: Fastify 5 treats
 * one as trusting nobody, since it cannot tell a proxy from a client that forges the header.
 */
function trustProxy(env: Env): boolean | string[] {
  const raw = env.TRUST_PROXY?.trim() ?? '';
  if (raw === '' || /^(false|no|off)$/i.test(raw)) return false;
  if (/^(true|yes|on)$/i.test(raw)) return true;
  const entries = raw.split(',').map((e) => e.trim());
  const address = /^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]*[.:][0-9a-fA-F.:]*(\/\d{1,3})?)$/;
  if (entries.some((e) => !address.test(e))) {
    throw new ConfigError(
      `TRUST_PROXY must be true, false, or proxy addresses/CIDRs separated by commas (got "${raw}")`,
    );
  }
  return entries;
}

/** Tests and the local stack talk SIP from loopback: never lock them out unless told to. */
const DEFAULT_NEVER_BLOCK = '127.0.0.1,::1';

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
}

function neverBlock(env: Env): string[] {
  const raw = env.SECURITY_NEVER_BLOCK ?? DEFAULT_NEVER_BLOCK;
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = entries.find((e) => {
    const m = parseIpMatch(e);
    return !m || m.port !== undefined;
  });
  if (bad !== undefined) {
    throw new ConfigError(
      `SECURITY_NEVER_BLOCK must be a comma-separated list of IP addresses or CIDR networks (got "${bad}")`,
    );
  }
  return entries;
}

/** Asterisk serves SIP over WebSocket on the same HTTP server as ARI, at /ws. */
function defaultSipWsUrl(ariUrl: string): string {
  const u = new URL(ariUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = '/ws';
  return u.toString();
}

export const DEFAULT_DATABASE_URL = 'mysql://root@127.0.0.1:3306/calldock';

export function loadConfig(env: Env = process.env): Config {
  const logLevel = str(env, 'LOG_LEVEL', 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  const databaseUrl = url(env, 'DATABASE_URL', DEFAULT_DATABASE_URL, ['mysql:']);
  if (new URL(databaseUrl).pathname.replace('/', '') === '') {
    throw new ConfigError(`DATABASE_URL must name a database, like ${DEFAULT_DATABASE_URL}`);
  }
  return {
    host: str(env, 'HOST', '127.0.0.1'),
    port: int(env, 'PORT', 3000, 0, 65535),
    logLevel,
    databaseUrl,
    ari: {
      url: url(env, 'ARI_URL', 'http://127.0.0.1:8088', ['http:', 'https:']),
      user: str(env, 'ARI_USER', 'calldock'),
      password: str(env, 'ARI_PASSWORD'),
      app: str(env, 'ARI_APP', 'calldock'),
    },
    publicUrl: env.PUBLIC_URL?.trim()
      ? url(env, 'PUBLIC_URL', 'https://cc.example.com', ['http:', 'https:'])
      : undefined,
    consoleDist: env.CONSOLE_DIST?.trim() || undefined,
    sipWsUrl: env.SIP_WS_URL?.trim()
      ? url(env, 'SIP_WS_URL', 'wss://pbx.example.com/ws', ['ws:', 'wss:'])
      : defaultSipWsUrl(url(env, 'ARI_URL', 'http://127.0.0.1:8088', ['http:', 'https:'])),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    agentReconnectGraceSeconds: int(env, 'AGENT_RECONNECT_GRACE_SECONDS', 30, 0, 600),
    callbackRetrySeconds: int(env, 'CALLBACK_RETRY_SECONDS', 120, 1, 86_400),
    routingFreshMs: int(env, 'ROUTING_FRESH_MS', 250, 0, 60_000),
    cdrOutboxFile: str(env, 'CDR_OUTBOX_FILE', '.calldock/cdr-outbox.jsonl'),
    resyncEndpointsOnConnect: env.RESYNC_ENDPOINTS_ON_CONNECT?.trim() !== 'false',
    asteriskCdrCsv: env.ASTERISK_CDR_CSV?.trim() || undefined,
    security: {
      logFile: env.ASTERISK_SECURITY_LOG?.trim() || undefined,
      threshold: int(env, 'SECURITY_AUTH_FAILURE_THRESHOLD', 10, 1, 100_000),
      windowSeconds: int(env, 'SECURITY_AUTH_FAILURE_WINDOW_SECONDS', 60, 1, 86_400),
      blockSeconds: int(env, 'SECURITY_BLOCK_SECONDS', 900, 1, 30 * 86_400),
      neverBlock: neverBlock(env),
    },
    trustProxy: trustProxy(env),
    loginRateLimitPerMinute: int(env, 'LOGIN_RATE_LIMIT_PER_MINUTE', 10, 1, 1_000_000),
    widget: {
      sipWsUrl: env.WIDGET_SIP_WS_URL?.trim()
        ? url(env, 'WIDGET_SIP_WS_URL', 'wss://pbx.example.com/ws', ['ws:', 'wss:'])
        : undefined,
      stunUrls: list(env, 'WIDGET_STUN_URLS'),
      turnUrls: list(env, 'WIDGET_TURN_URLS'),
      turnSecret: env.WIDGET_TURN_SECRET?.trim() || undefined,
      turnTtlSeconds: int(env, 'WIDGET_TURN_TTL_SECONDS', 3600, 60, 86_400),
      ticketTtlSeconds: int(env, 'WIDGET_TICKET_TTL_SECONDS', 120, 10, 3600),
      callsPerIpPerWindow: int(env, 'WIDGET_CALLS_PER_IP', 10, 1, 1_000_000),
      callsPerWidgetPerWindow: int(env, 'WIDGET_CALLS_PER_WIDGET', 300, 1, 1_000_000),
      rateWindowSeconds: int(env, 'WIDGET_RATE_WINDOW_SECONDS', 60, 1, 86_400),
    },
    helpdesk: {
      attachmentsDir: str(env, 'HELPDESK_ATTACHMENTS_DIR', '.calldock/attachments'),
      attachmentMaxBytes: int(env, 'HELPDESK_ATTACHMENT_MAX_BYTES', 10 * 1024 * 1024, 1, 1024 ** 3),
      tenantQuotaBytes: int(env, 'HELPDESK_TENANT_QUOTA_BYTES', 1024 ** 3, 1, 1024 ** 4),
      slaCheckSeconds: int(env, 'HELPDESK_SLA_CHECK_SECONDS', 60, 0, 86_400),
    },
  };
}
