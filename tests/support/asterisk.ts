/**
 * Starts and stops Asterisk instances for tests through asterisk/provision.sh, the same script
 * `npm start` uses. Every instance has its own name, ports and config folder, so tests never
 * touch the dev stack (`main` on 8088/5060).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PROVISION = path.join(REPO, 'asterisk/provision.sh');

export type AsteriskRole = 'main' | 'carrier';

export interface AsteriskSpec {
  name: string;
  role: AsteriskRole;
  httpPort: number;
  sipPort: number;
  rtpStart: number;
  rtpEnd: number;
  /** For a carrier: the SIP port of the main instance it sends calls to. */
  mainSipPort?: number;
  ariUser: string;
  ariPassword: string;
}

export interface AsteriskInstance extends AsteriskSpec {
  ariUrl: string;
  /** Host path of the instance's log folder (messages, cdr-csv/Master.csv). */
  logDir: string;
}

function instanceEnv(name: string): Record<string, string> {
  const root = process.env.CALLDOCK_ASTERISK_ROOT ?? path.join(homedir(), '.cache/calldock/asterisk-root');
  const file = path.join(root, 'calldock', name, 'instance.env');
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function provision(args: string[], spec?: AsteriskSpec): { status: number; output: string } {
  const env = { ...process.env };
  if (spec) {
    Object.assign(env, {
      ASTERISK_HTTP_PORT: String(spec.httpPort),
      ASTERISK_SIP_PORT: String(spec.sipPort),
      ASTERISK_RTP_START: String(spec.rtpStart),
      ASTERISK_RTP_END: String(spec.rtpEnd),
      MAIN_SIP_PORT: String(spec.mainSipPort ?? 5060),
      ARI_USER: spec.ariUser,
      ARI_PASSWORD: spec.ariPassword,
    });
  }
  const result = spawnSync('bash', [PROVISION, ...args], { cwd: REPO, env, encoding: 'utf8' });
  return { status: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

export function startAsterisk(spec: AsteriskSpec): AsteriskInstance {
  const { status, output } = provision(['start', spec.name, spec.role], spec);
  if (status !== 0) throw new Error(`Asterisk ${spec.name} did not start:\n${output}`);
  const env = instanceEnv(spec.name);
  return { ...spec, ariUrl: `http://127.0.0.1:${spec.httpPort}`, logDir: path.dirname(env.LOG_FILE ?? '') };
}

export function stopAsterisk(name: string): void {
  const { status, output } = provision(['stop', name]);
  if (status !== 0) throw new Error(`Asterisk ${name} did not stop:\n${output}`);
}

/** SIGKILL by the instance's own PID: what a crash looks like. */
export function killAsterisk(name: string): void {
  const { status, output } = provision(['kill', name]);
  if (status !== 0) throw new Error(`Asterisk ${name} could not be killed:\n${output}`);
}

export function asteriskRunning(name: string): boolean {
  return provision(['status', name]).status === 0;
}

/**
 * Several suites may run on one machine at once (two checkouts, parallel sessions): each picks a
 * slot with CALLDOCK_TEST_SLOT (0–9, default 0) and gets its own instance names and ports.
 */
export const TEST_SLOT = (() => {
  const raw = process.env.CALLDOCK_TEST_SLOT ?? '0';
  if (!/^\d$/.test(raw)) throw new Error(`CALLDOCK_TEST_SLOT must be a digit 0-9 (got "${raw}")`);
  return Number(raw);
})();

/** What each of a slot's instances is for, with its offset and RTP ports (4,000 per slot). */
const KEYS = {
  main: { k: 0, rtp: [0, 999] },
  carrier: { k: 1, rtp: [1000, 1999] },
  restart: { k: 2, rtp: [2000, 2399] },
  stack: { k: 3, rtp: [2400, 2799] },
  sync: { k: 4, rtp: [2800, 3199] },
  chaos: { k: 5, rtp: [3200, 3599] },
  spare: { k: 6, rtp: [3600, 3999] },
} as const;

/** Name and ports for one of this slot's instances; `key` says what the instance is for. */
export function testInstance(key: keyof typeof KEYS) {
  const { k, rtp } = KEYS[key];
  const base = 20_000 + TEST_SLOT * 4_000;
  return {
    name: `test${TEST_SLOT}-${key}`,
    httpPort: 18_100 + TEST_SLOT * 10 + k,
    sipPort: 15_100 + TEST_SLOT * 10 + k,
    rtpStart: base + rtp[0],
    rtpEnd: base + rtp[1],
  };
}
