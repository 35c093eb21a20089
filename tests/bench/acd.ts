/**
 * ACD benchmark: `npm run bench:acd` (not part of vitest; prints figures, asserts nothing about
 * speed).
 *
 * The price of routing in the control plane instead of in Asterisk, as numbers. One Asterisk
 * instance of its own (`bench-main`, from asterisk/provision.sh) takes SIPp calls (Debian's
 * `sip-tester`, installed with apt when missing) into a queue of simulated agents: one SIPp
 * process answers every agent's phone at once and waits for the hang-up; callers stay
 * BENCH_HOLD_SECONDS after the answer. The same load runs through both ACDs, in one run, on the
 * same Asterisk, each in two blocks of BENCH_CALLS/2 in the order calldock, app_queue, app_queue,
 * calldock (so that a machine getting busier or quieter during the run weighs on both alike):
 *   - calldock: the trunk's calls go to Stasis, the control plane (a child process, the real
 *     server) picks the agent (longest idle) and dials them;
 *   - app_queue: another trunk's calls go to Asterisk's own Queue() (rrmemory), same agents.
 * Reported per run: calls placed, succeeded and failed (SIPp), the most calls up at once, and
 * the time from the caller's INVITE to the agent's phone ringing (wall clock at both SIPp ends,
 * matched by caller number) at p50/p99. For the control plane, also its decision latency
 * (StasisStart to the agent's leg dialled, from /metrics). The ratio of the two setup times is
 * what routing in the control plane costs.
 *
 * Settings (environment): BENCH_CPS (20), BENCH_CALLS (600), BENCH_HOLD_SECONDS (10),
 * BENCH_AGENTS (concurrent calls + 20%), CALLDOCK_TEST_MYSQL_URL (else as the test suite finds
 * a server), BENCH_KEEP_LOGS=1 (keep SIPp's logs), BENCH_CONTROL_LOG=file (the control plane's
 * log, at info level), BENCH_CONTROL_NODE_ARGS (extra node flags for the control plane, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` for a profile of the run). The database is dropped and the Asterisk
 * instance stopped at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, type Db } from '../../control/src/db/database.ts';
import { toJson } from '../../control/src/db/json.ts';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../../control/src/db/migrate.ts';
import { startAsterisk, stopAsterisk, type AsteriskInstance } from '../support/asterisk.ts';
import { assertReachable, findTestServer, freshDatabaseUrl } from '../support/database.ts';
import { TEST_PASSWORD, createTenant, createUser } from '../support/fixtures.ts';
import { AriRest } from '../support/ari-rest.ts';
import { freePort } from '../support/net.ts';
import { ensureSipp, quantile, sippStats, stamps } from '../support/sipp.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SIPP_DIR = path.join(ROOT, 'tests/bench/sipp');
const CPS = Number(process.env.BENCH_CPS ?? 20);
const CALLS = Number(process.env.BENCH_CALLS ?? 600);
const HOLD_SECONDS = Number(process.env.BENCH_HOLD_SECONDS ?? 10);
const CONCURRENT = Math.ceil(CPS * HOLD_SECONDS);
const AGENTS = Number(process.env.BENCH_AGENTS ?? Math.ceil(CONCURRENT * 1.2));
const DID = '+15550900000';
const HEADER = 'X-Calldock-Bench';

interface RunResult {
  mode: string;
  placed: number;
  succeeded: number;
  failed: number;
  maxConcurrent: number;
  /** Calls per second sustained: answered calls over the time they took to arrive. */
  rate: number;
  setup: number[];
  decisionMs?: { p50: number; p95: number; p99: number; count: number };
  /** CPU time per answered call, ms, of each process that serves the calls (user + system). */
  cpu?: Record<string, number>;
}

const log = (line: string) => process.stdout.write(`bench:acd: ${line}\n`);

// ── Asterisk ────────────────────────────────────────────────────────────────────────────────

/** The two bench trunks (told apart by a header) and every agent's phone, contact the agent SIPp. */
async function pushBenchConfig(ari: AriRest, agentPort: number): Promise<void> {
  const trunk = { transport: 'transport-udp', disallow: 'all', allow: 'ulaw', direct_media: 'no', timers: 'no' };
  await ari.push('endpoint', 'bench-calldock', { ...trunk, context: 'from-trunk' });
  await ari.push('identify', 'bench-calldock', { endpoint: 'bench-calldock', match_header: `${HEADER}: calldock` });
  await ari.push('endpoint', 'bench-appqueue', { ...trunk, context: 'bench-appqueue' });
  await ari.push('identify', 'bench-appqueue', { endpoint: 'bench-appqueue', match_header: `${HEADER}: appqueue` });
  for (let i = 1; i <= AGENTS; i++) {
    const id = `bench-agent-${i}`;
    await ari.push('aor', id, { contact: `sip:${id}@127.0.0.1:${agentPort}`, max_contacts: '1' });
    await ari.push('endpoint', id, { ...trunk, context: 'from-internal', aors: id });
  }
}

async function channelCount(ari: AriRest): Promise<number> {
  return (await ari.request<unknown[]>('GET', '/channels')).length;
}

async function drained(ari: AriRest): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await channelCount(ari)) > 0) {
    if (Date.now() > deadline) throw new Error('channels still up 60 s after the run');
    await new Promise((r) => setTimeout(r, 500));
  }
}

// ── Database and control plane ──────────────────────────────────────────────────────────────

async function seed(db: Db): Promise<{ supervisorEmail: string; agentIds: number[] }> {
  const tenant = await createTenant(db, { name: 'Bench Tenant', maxAgents: AGENTS + 10 });
  await db
    .updateTable('tenants')
    .set({ maxConcurrentCalls: CONCURRENT * 4, maxCallsPerSecond: CPS * 4 })
    .where('id', '=', tenant.id)
    .execute();
  const supervisor = await createUser(db, tenant.id, 'supervisor');
  const agentIds: number[] = [];
  for (let i = 1; i <= AGENTS; i++) {
    const agent = await createUser(db, tenant.id, 'agent', { extension: String(1000 + i) });
    await db
      .insertInto('sipEndpoints')
      .values({ tenantId: tenant.id, kind: 'agent', asteriskId: `bench-agent-${i}`, name: `bench-agent-${i}`, userId: agent.id, sipUsername: `bench-agent-${i}` })
      .execute();
    agentIds.push(agent.id);
  }
  const queue = await db
    .insertInto('queues')
    .values({
      tenantId: tenant.id,
      name: 'bench',
      strategy: 'longest_idle',
      ringTimeoutSeconds: 15,
      maxWaitSeconds: 600,
      wrapupSeconds: 0,
      announcePositionSeconds: 0,
      requiredSkills: toJson({}),
    })
    .executeTakeFirstOrThrow();
  const queueId = Number(queue.insertId);
  await db
    .insertInto('queueMembers')
    .values(agentIds.map((userId) => ({ tenantId: tenant.id, queueId, userId, skills: toJson({}) })))
    .execute();
  await db.insertInto('dids').values({ tenantId: tenant.id, number: DID, targetType: 'queue', targetId: queueId }).execute();
  return { supervisorEmail: supervisor.email, agentIds };
}

async function startControl(databaseUrl: string, asterisk: AsteriskInstance, port: number): Promise<ChildProcess> {
  const logFile = process.env.BENCH_CONTROL_LOG;
  const child = spawn(process.execPath, [...(process.env.BENCH_CONTROL_NODE_ARGS ? process.env.BENCH_CONTROL_NODE_ARGS.split(' ') : []), '--import', 'tsx', 'control/src/server.ts'], {
    cwd: ROOT,
    stdio: ['ignore', logFile ? openSync(logFile, 'w') : 'ignore', 'inherit'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: logFile ? 'info' : 'error',
      ARI_URL: asterisk.ariUrl,
      ARI_USER: asterisk.ariUser,
      ARI_PASSWORD: asterisk.ariPassword,
      ARI_APP: 'calldock',
      // The bench pushed the agents' phones itself (they point at SIPp, not at browsers).
      RESYNC_ENDPOINTS_ON_CONNECT: 'false',
    },
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the control plane exited with ${child.exitCode}`);
    if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) return child;
    if (Date.now() > deadline) throw new Error('the control plane was not ready within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

async function decisionLatency(base: string): Promise<RunResult['decisionMs']> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
  return {
    p50: value(/calldock_acd_decision_seconds\{quantile="0.5"\} (\S+)/) * 1000,
    p95: value(/calldock_acd_decision_seconds\{quantile="0.95"\} (\S+)/) * 1000,
    p99: value(/calldock_acd_decision_seconds\{quantile="0.99"\} (\S+)/) * 1000,
    count: value(/calldock_acd_decision_seconds_count (\S+)/),
  };
}

// ── CPU ─────────────────────────────────────────────────────────────────────────────────────

const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/** User + system CPU time of a process so far, ms (0 once it is gone). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is [0], utime [11], stime [12].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

function pidOf(...names: string[]): number | undefined {
  const out = spawnSync('pidof', ['-s', ...names], { encoding: 'utf8' }).stdout.trim();
  return out ? Number(out) : undefined;
}

type Pids = Record<string, number | undefined>;

function cpuSnapshot(pids: Pids): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
}

// ── SIPp ────────────────────────────────────────────────────────────────────────────────────

async function runLoad(mode: 'calldock' | 'appqueue', prefix: string, calls: number, mainSip: number, work: string, agentLog: string, pids: Pids, drain: () => Promise<void>): Promise<RunResult> {
  const port = await freePort();
  const cpuBefore = cpuSnapshot(pids);
  const callerLog = path.join(work, `caller-${mode}-${prefix}.log`);
  const statFile = path.join(work, `caller-${mode}-${prefix}.csv`);
  const errorFile = path.join(work, `caller-${mode}-${prefix}-errors.log`);
  const started = performance.now();
  const caller = spawn(
    'sipp',
    [
      `127.0.0.1:${mainSip}`,
      '-sf', path.join(SIPP_DIR, 'caller.xml'),
      '-s', DID,
      '-key', 'mode', mode,
      '-d', String(HOLD_SECONDS * 1000),
      // Caller numbers of this run: +1999<prefix><call number>, matched at the agent's end.
      '-key', 'prefix', prefix,
      '-r', String(CPS),
      '-m', String(calls),
      '-l', String(CONCURRENT * 2),
      '-i', '127.0.0.1',
      '-p', String(port),
      '-mp', String(port + 2),
      '-trace_logs', '-log_file', callerLog,
      '-trace_stat', '-stf', statFile, '-fd', '1',
      '-trace_err', '-error_file', errorFile,
      '-recv_timeout', '30000',
      '-timeout', `${Math.ceil(calls / CPS + HOLD_SECONDS + 90)}s`,
      '-nostdin',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  caller.stderr?.on('data', (d) => (stderr += d));
  const callerPid = caller.pid;
  let callerCpu = 0;
  const sampler = setInterval(() => (callerCpu = cpuMs(callerPid) || callerCpu), 500);
  const code = await new Promise<number | null>((resolve) => caller.once('exit', resolve));
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  // Hang-ups and CDR writes of the last calls count too.
  await drain();
  const cpuAfter = cpuSnapshot(pids);
  if (code !== 0 && code !== 1) throw new Error(`SIPp (${mode}) exited with ${code}: ${stderr.trim().slice(0, 500)}`);
  const stats = sippStats(statFile);
  if (stats.failed > 0) {
    const errors = readFileSync(errorFile, 'utf8').split('\n').filter(Boolean);
    log(`${mode}: ${stats.failed} failed call(s); SIPp says: ${errors.slice(0, 3).join(' | ').slice(0, 600)}`);
  }
  const sent = stamps(callerLog, 'sent');
  const rang = stamps(agentLog, 'rang');
  const setup: number[] = [];
  for (const [n, at] of sent) {
    const ring = rang.get(`${prefix}${n}`);
    if (ring !== undefined) setup.push(ring - at);
  }
  setup.sort((a, b) => a - b);
  const perCall = (ms: number) => ms / Math.max(1, stats.succeeded);
  const cpu = Object.fromEntries(Object.keys(pids).map((name) => [name, perCall(cpuAfter[name]! - cpuBefore[name]!)]));
  cpu['SIPp callers'] = perCall(callerCpu);
  return { mode, placed: calls, ...stats, rate: stats.succeeded / Math.max(1, seconds - HOLD_SECONDS), setup, cpu };
}

/** One ACD's blocks as one run: counts summed, rates per block averaged, setup times pooled. */
function merge(mode: string, runs: RunResult[]): RunResult {
  const sum = (f: (r: RunResult) => number) => runs.reduce((n, r) => n + f(r), 0);
  return {
    mode,
    placed: sum((r) => r.placed),
    succeeded: sum((r) => r.succeeded),
    failed: sum((r) => r.failed),
    maxConcurrent: Math.max(...runs.map((r) => r.maxConcurrent)),
    rate: sum((r) => r.rate) / runs.length,
    setup: runs.flatMap((r) => r.setup).sort((a, b) => a - b),
    cpu: Object.fromEntries(Object.keys(runs[0]!.cpu ?? {}).map((name) => [name, sum((r) => r.cpu![name]! * r.succeeded) / Math.max(1, sum((r) => r.succeeded))])),
  };
}

function table(results: RunResult[]): string {
  const header = ['ACD', 'calls', 'ok', 'failed', 'calls/s', 'max up', 'ring p50 ms', 'ring p99 ms', 'decision p50/p99 ms'];
  const cells = results.map((r) => [
    r.mode,
    String(r.placed),
    String(r.succeeded),
    String(r.failed),
    r.rate.toFixed(1),
    String(r.maxConcurrent),
    quantile(r.setup, 0.5).toFixed(1),
    quantile(r.setup, 0.99).toFixed(1),
    r.decisionMs ? `${r.decisionMs.p50.toFixed(2)} / ${r.decisionMs.p99.toFixed(2)}` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  ensureSipp(log);
  const server = await findTestServer();
  await assertReachable(server);
  const databaseUrl = freshDatabaseUrl(server.serverUrl, 'bench_acd');
  await ensureDatabase(databaseUrl);
  const db = createDatabase(databaseUrl, { connectionLimit: 2 });
  const work = mkdtempSync(path.join(tmpdir(), 'calldock-bench-acd-'));
  const name = 'bench-main';
  let asterisk: AsteriskInstance | undefined;
  let control: ChildProcess | undefined;
  let agents: ChildProcess | undefined;
  try {
    await migrateToLatest(db);
    const { supervisorEmail, agentIds } = await seed(db);
    asterisk = startAsterisk({
      name,
      role: 'main',
      httpPort: 18_090,
      sipPort: 15_090,
      rtpStart: 46_000,
      rtpEnd: 49_999,
      ariUser: 'calldock',
      ariPassword: randomBytes(12).toString('hex'),
    });
    const ari = new AriRest(asterisk);
    const agentPort = await freePort();
    await pushBenchConfig(ari, agentPort);
    for (let i = 1; i <= AGENTS; i++) {
      const out = spawnSync('bash', [path.join(ROOT, 'asterisk/provision.sh'), 'cli', name, `queue add member PJSIP/bench-agent-${i} to calldock-bench`], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`app_queue member ${i}: ${out.stderr || out.stdout}`);
    }

    const agentLog = path.join(work, 'agents.log');
    agents = spawn(
      'sipp',
      ['-sf', path.join(SIPP_DIR, 'agent.xml'), '-i', '127.0.0.1', '-p', String(agentPort), '-mp', String(agentPort + 2), '-trace_logs', '-log_file', agentLog, '-nostdin'],
      { stdio: 'ignore' },
    );

    const controlPort = await freePort();
    control = await startControl(databaseUrl, asterisk, controlPort);
    const base = `http://127.0.0.1:${controlPort}`;
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: supervisorEmail, password: TEST_PASSWORD }),
    });
    if (!login.ok) throw new Error(`login: ${login.status} ${await login.text()}`);
    const { accessToken } = (await login.json()) as { accessToken: string };
    for (const userId of agentIds) {
      const res = await fetch(`${base}/api/v1/agents/${userId}/state`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'available' }),
      });
      if (!res.ok) throw new Error(`agent ${userId} available: ${res.status} ${await res.text()}`);
    }

    log(`${CALLS} calls per ACD at ${CPS}/s, ${HOLD_SECONDS} s each (~${CONCURRENT} up at once), ${AGENTS} agents; CPUs: both ACDs, Asterisk, SIPp and MySQL share this machine`);
    // Each ACD's calls in two blocks, in the order calldock, app_queue, app_queue, calldock: a
    // machine that gets busier or quieter during the run weighs on both alike.
    const pids: Pids = {
      'control plane': control.pid,
      Asterisk: Number(readFileSync(path.join(asterisk.logDir, '../run/asterisk.pid'), 'utf8').trim()),
      MySQL: pidOf('mariadbd', 'mysqld'),
      'SIPp agents': agents.pid,
    };
    const blocks = [['calldock', '11'], ['appqueue', '21'], ['appqueue', '22'], ['calldock', '12']] as const;
    const byMode = new Map<string, RunResult[]>();
    for (const [i, [mode, prefix]] of blocks.entries()) {
      const calls = i < 2 ? Math.ceil(CALLS / 2) : Math.floor(CALLS / 2);
      log(`running ${mode} (block ${prefix[1]}: ${calls} calls)…`);
      byMode.set(mode, [...(byMode.get(mode) ?? []), await runLoad(mode, prefix, calls, asterisk.sipPort, work, agentLog, pids, () => drained(ari))]);
    }
    const results = (['calldock', 'appqueue'] as const).map((mode) => merge(mode, byMode.get(mode)!));
    results[0]!.decisionMs = await decisionLatency(base);
    process.stdout.write(`\n${table(results)}\n\n`);
    const [ours, theirs] = results as [RunResult, RunResult];
    const ratio = (q: number) => quantile(ours.setup, q) / quantile(theirs.setup, q);
    process.stdout.write(
      `INVITE-to-agent-ringing, control plane / app_queue: p50 ${ratio(0.5).toFixed(2)}x, p99 ${ratio(0.99).toFixed(2)}x\n` +
        `decisions measured: ${ours.decisionMs?.count ?? 0}; calls matched at the agent end: ${ours.setup.length} / ${theirs.setup.length}\n` +
        `CPU per answered call, ms: ${results.map((r) => `${r.mode}: ${Object.entries(r.cpu ?? {}).map(([name, ms]) => `${name} ${ms.toFixed(2)}`).join(', ')}`).join('; ')}\n` +
        `targets (this machine): >= 20 calls/s and 200 up at once with no failure, decision p99 < 20 ms, setup <= 1.5x app_queue\n`,
    );
  } finally {
    await stop(control);
    await stop(agents, 'SIGKILL');
    if (asterisk) stopAsterisk(name);
    await db.destroy();
    await dropDatabase(databaseUrl).catch(() => undefined);
    await server.stop();
    if (process.env.BENCH_KEEP_LOGS) log(`SIPp logs kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:acd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
