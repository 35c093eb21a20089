/**
 * SIPp (Debian's `sip-tester`, the load tool Asterisk's own testsuite uses) for the ACD benchmark
 * and the chaos suite: finding it, free ports for it, and reading what it wrote.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Installs sip-tester with apt when `sipp` is missing; throws a one-line message if it cannot. */
export function ensureSipp(log: (line: string) => void = () => undefined): void {
  if (spawnSync('sipp', ['-v']).error === undefined) return;
  log('SIPp is missing: installing Debian package sip-tester with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let install = spawnSync('apt-get', ['install', '-y', '-q', 'sip-tester'], { stdio: 'inherit', env });
  if (install.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    install = spawnSync('apt-get', ['install', '-y', '-q', 'sip-tester'], { stdio: 'inherit', env });
  }
  if (install.status !== 0 || spawnSync('sipp', ['-v']).error) {
    throw new Error('SIPp (Debian package sip-tester) could not be installed; install it and run again');
  }
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** The lines of a SIPp `-log_file`, or none when SIPp never wrote one. */
export function logLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/**
 * `<kind> <key> <sec> <usec>` lines (written with SIPp's gettimeofday action) → key → ms since
 * the epoch, first occurrence of each key.
 */
export function stamps(file: string, kind: string): Map<string, number> {
  const out = new Map<string, number>();
  // gettimeofday's values are logged as floats ("1795334667.000000 685015.000000").
  const re = new RegExp(`${kind} (\\d+) (\\d+)(?:\\.\\d+)? (\\d+)`);
  for (const line of logLines(file)) {
    const m = re.exec(line);
    if (m && !out.has(m[1]!)) out.set(m[1]!, Number(m[2]) * 1000 + Number(m[3]) / 1000);
  }
  return out;
}

export interface SippTotals {
  created: number;
  succeeded: number;
  failed: number;
  maxConcurrent: number;
}

/** SIPp's statistics file (`-trace_stat -stf`): the last line's totals and the most calls up at once. */
export function sippStats(file: string): SippTotals {
  const lines = logLines(file).filter(Boolean);
  if (lines.length < 2) return { created: 0, succeeded: 0, failed: 0, maxConcurrent: 0 };
  const header = lines[0]!.split(';');
  const col = (name: string) => header.indexOf(name);
  const rows = lines.slice(1).map((l) => l.split(';'));
  const last = rows[rows.length - 1] ?? [];
  return {
    created: Number(last[col('TotalCallCreated')] ?? 0),
    succeeded: Number(last[col('SuccessfulCall(C)')] ?? 0),
    failed: Number(last[col('FailedCall(C)')] ?? 0),
    maxConcurrent: Math.max(0, ...rows.map((r) => Number(r[col('CurrentCall')] ?? 0))),
  };
}
