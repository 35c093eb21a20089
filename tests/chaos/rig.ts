/**
 * The chaos suite's world, all of it started by the suite itself so that it may break any part:
 *   - a MariaDB server of its own (tests/chaos/mariadb.ts) holding a migrated database;
 *   - an Asterisk of its own (asterisk/provision.sh, the slot's `chaos` instance);
 *   - the control plane as a child process (the real server);
 *   - SIPp as the customers (one process per batch of calls) and as every agent's phone.
 * A tenant with one longest-idle queue behind one DID, and `agents` agents whose phones are
 * static contacts on the agent SIPp, like desk phones. After each scenario `leaks()` checks what
 * Asterisk's own testsuite checks after a test: no channels, no bridges, no endpoints that were
 * not there before, and, in MySQL, no call left open.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDatabase, type Db } from '../../control/src/db/database.ts';
import { toJson } from '../../control/src/db/json.ts';
import { ensureDatabase, migrateToLatest } from '../../control/src/db/migrate.ts';
import { killAsterisk, startAsterisk, stopAsterisk, testInstance, TEST_SLOT, type AsteriskInstance } from '../support/asterisk.ts';
import { spawnControl, type ControlProcess } from '../support/control-spawn.ts';
import { TEST_PASSWORD, createTenant, createUser } from '../support/fixtures.ts';
import { AriRest } from '../support/ari-rest.ts';
import { freePort } from '../support/net.ts';
import { ensureSipp, sippStats, type SippTotals } from '../support/sipp.ts';
import { MariaDbInstance } from './mariadb.ts';
import { CHAOS_HEADER, agentScenario, customerScenario } from './scenarios.xml.ts';

export const CHAOS_DID = '+15550920000';

export interface LiveCall {
  callId: string;
  status: string;
  from: string;
  queuePosition: number | null;
  offeredTo: number[];
  agentUserId: number | null;
}

export interface CdrRow {
  linkedid: string;
  fromNumber: string | null;
  state: string;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  agentUserId: number | null;
  hangupSide: string | null;
  hangupCause: string | null;
  disposition: string | null;
}

/** One batch of customers: SIPp placing `calls` calls at `cps` from +1999<prefix><n>. */
export interface CustomerRun {
  prefix: string;
  log: string;
  child: ChildProcess;
  done: Promise<SippTotals>;
}

export class ChaosRig {
  readonly work: string;
  readonly mysql: MariaDbInstance;
  readonly databaseUrl: string;
  readonly db: Db;
  asterisk!: AsteriskInstance;
  private ari!: AriRest;
  private readonly spec;
  control: ControlProcess | undefined;
  private controlPort = 0;
  private agentSipp: ChildProcess | undefined;
  private agentPort = 0;
  private token = '';
  tenantId = 0;
  queueId = 0;
  supervisorEmail = '';
  /** Agent phone (endpoint name) → user id. */
  readonly agentUsers = new Map<string, number>();
  private baselineEndpoints = new Set<string>();
  private readonly customerProcesses: ChildProcess[] = [];

  private constructor(
    readonly agents: number,
    private readonly say: (line: string) => void,
  ) {
    this.work = mkdtempSync(path.join(tmpdir(), 'calldock-chaos-'));
    this.mysql = new MariaDbInstance(path.join(this.work, 'mariadb'), 13_400 + TEST_SLOT);
    this.databaseUrl = `${this.mysql.url}calldock_chaos`;
    this.db = createDatabase(this.databaseUrl, { connectionLimit: 3 });
    this.spec = { ...testInstance('chaos'), role: 'main' as const, ariUser: 'calldock', ariPassword: randomBytes(12).toString('hex') };
  }

  static async start(options: { agents: number; log?: (line: string) => void }): Promise<ChaosRig> {
    const say = options.log ?? (() => undefined);
    ensureSipp(say);
    const rig = new ChaosRig(options.agents, say);
    try {
      await rig.setUp();
    } catch (err) {
      await rig.stop();
      throw err;
    }
    return rig;
  }

  private async setUp(): Promise<void> {
    this.say(`MariaDB of its own on 127.0.0.1:${this.mysql.port}`);
    await this.mysql.start();
    await ensureDatabase(this.databaseUrl);
    await migrateToLatest(this.db);
    await this.seed();
    stopAsterisk(this.spec.name);
    this.say(`Asterisk of its own (${this.spec.name}, SIP ${this.spec.sipPort})`);
    this.asterisk = startAsterisk(this.spec);
    // Asterisk's own CDR of an earlier run would be reconciled into this run's fresh database.
    const masterCsv = path.join(this.asterisk.logDir, 'cdr-csv', 'Master.csv');
    if (existsSync(masterCsv)) truncateSync(masterCsv);
    this.ari = new AriRest(this.asterisk);
    this.agentPort = await freePort();
    await this.pushPhones();
    writeFileSync(path.join(this.work, 'customer.xml'), customerScenario());
    await this.startControl();
    await this.login();
    await this.agentsAvailable();
    this.baselineEndpoints = new Set(await this.endpointNames());
  }

  private async seed(): Promise<void> {
    const tenant = await createTenant(this.db, { name: 'Chaos Tenant', maxAgents: this.agents + 10 });
    this.tenantId = tenant.id;
    await this.db.updateTable('tenants').set({ maxConcurrentCalls: 1000, maxCallsPerSecond: 200 }).where('id', '=', tenant.id).execute();
    this.supervisorEmail = (await createUser(this.db, tenant.id, 'supervisor')).email;
    for (let i = 1; i <= this.agents; i++) {
      const user = await createUser(this.db, tenant.id, 'agent', { extension: String(3000 + i) });
      const phone = `chaos-agent-${i}`;
      await this.db
        .insertInto('sipEndpoints')
        .values({ tenantId: tenant.id, kind: 'agent', asteriskId: phone, name: phone, userId: user.id, sipUsername: phone })
        .execute();
      this.agentUsers.set(phone, user.id);
    }
    const queue = await this.db
      .insertInto('queues')
      .values({
        tenantId: tenant.id,
        name: 'chaos',
        strategy: 'longest_idle',
        ringTimeoutSeconds: 15,
        maxWaitSeconds: 900,
        wrapupSeconds: 0,
        announcePositionSeconds: 0,
        requiredSkills: toJson({}),
      })
      .executeTakeFirstOrThrow();
    this.queueId = Number(queue.insertId);
    await this.db
      .insertInto('queueMembers')
      .values([...this.agentUsers.values()].map((userId) => ({ tenantId: tenant.id, queueId: this.queueId, userId, skills: toJson({}) })))
      .execute();
    await this.db.insertInto('dids').values({ tenantId: tenant.id, number: CHAOS_DID, targetType: 'queue', targetId: this.queueId }).execute();
  }

  /** The chaos trunk and every agent's phone (a static contact on the agent SIPp): what phones re-register after a PBX restart. */
  async pushPhones(): Promise<void> {
    const common = { transport: 'transport-udp', disallow: 'all', allow: 'ulaw', direct_media: 'no', timers: 'no' };
    await this.ari.push('endpoint', 'chaos-trunk', { ...common, context: 'from-trunk' });
    await this.ari.push('identify', 'chaos-trunk', { endpoint: 'chaos-trunk', match_header: `${CHAOS_HEADER}: yes` });
    for (const phone of this.agentUsers.keys()) {
      await this.ari.push('aor', phone, { contact: `sip:${phone}@127.0.0.1:${this.agentPort}`, max_contacts: '1' });
      await this.ari.push('endpoint', phone, { ...common, context: 'from-internal', aors: phone });
    }
  }

  // ── Control plane ─────────────────────────────────────────────────────────────────────────

  /** Starts the control plane; resolves with the milliseconds it took to be ready. */
  async startControl(): Promise<number> {
    this.controlPort ||= await freePort();
    const started = performance.now();
    this.control = await spawnControl(
      this.controlPort,
      {
        DATABASE_URL: this.databaseUrl,
        ARI_URL: this.asterisk.ariUrl,
        ARI_USER: this.asterisk.ariUser,
        ARI_PASSWORD: this.asterisk.ariPassword,
        LOG_LEVEL: 'info',
        CDR_OUTBOX_FILE: path.join(this.work, 'cdr-outbox.jsonl'),
        ASTERISK_CDR_CSV: path.join(this.asterisk.logDir, 'cdr-csv', 'Master.csv'),
        HELPDESK_ATTACHMENTS_DIR: path.join(this.work, 'attachments'),
        // The rig's phones are static contacts on SIPp, pushed by the rig (a desk phone's job).
        RESYNC_ENDPOINTS_ON_CONNECT: 'false',
      },
      { logFile: path.join(this.work, 'control.log'), readyTimeoutMs: 60_000 },
    );
    return performance.now() - started;
  }

  async killControl(): Promise<void> {
    await this.control?.kill('SIGKILL');
    this.control = undefined;
  }

  get controlPid(): number | undefined {
    return this.control?.child.pid;
  }

  get controlUrl(): string {
    return `http://127.0.0.1:${this.controlPort}`;
  }

  private get base(): string {
    return `${this.controlUrl}/api/v1`;
  }

  private async login(): Promise<void> {
    const res = await fetch(`${this.base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: this.supervisorEmail, password: TEST_PASSWORD }),
    });
    if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
    this.token = ((await res.json()) as { accessToken: string }).accessToken;
  }

  /** The status of one login attempt (the limiters are what a scenario looks at). */
  async loginStatus(email: string, password: string): Promise<number> {
    const res = await fetch(`${this.base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    return res.status;
  }

  async api<T>(method: string, url: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${this.base}${url}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status === 401 && attempt === 0) {
        await this.login();
        continue;
      }
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    }
  }

  async agentsAvailable(): Promise<void> {
    for (const userId of this.agentUsers.values()) {
      await this.api('PUT', `/agents/${userId}/state`, { status: 'available' });
    }
  }

  async liveCalls(): Promise<LiveCall[]> {
    return (await this.api<{ items: LiveCall[] }>('GET', '/live-calls')).items;
  }

  // ── Asterisk ──────────────────────────────────────────────────────────────────────────────

  /** SIGKILL, as a crash: every call on it is gone. */
  crashAsterisk(): void {
    killAsterisk(this.spec.name);
  }

  /** Starts the PBX again and lets the phones register (push) again; resolves once ARI answers. */
  async startAsterisk(): Promise<void> {
    this.asterisk = startAsterisk(this.spec);
    this.ari = new AriRest(this.asterisk);
    await this.pushPhones();
  }

  // ── SIPp ──────────────────────────────────────────────────────────────────────────────────

  /** (Re)starts every agent's phone with these timings; its log is `agent-<label>.log`. */
  async startAgents(label: string, ringMs: number, talkMs: number): Promise<string> {
    await this.stopAgents();
    const scenario = path.join(this.work, `agent-${label}.xml`);
    writeFileSync(scenario, agentScenario(ringMs, talkMs));
    const log = path.join(this.work, `agent-${label}.log`);
    rmSync(log, { force: true });
    this.agentSipp = spawn(
      'sipp',
      ['-sf', scenario, '-i', '127.0.0.1', '-p', String(this.agentPort), '-mp', String(this.agentPort + 2), '-trace_logs', '-log_file', log, '-nostdin', '-max_recv_loops', '10000'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    this.agentSipp.stderr?.on('data', (d) => (stderr += d));
    await new Promise((r) => setTimeout(r, 300));
    if (this.agentSipp.exitCode !== null) throw new Error(`agent SIPp exited: ${stderr.trim().slice(0, 400)}`);
    return log;
  }

  async stopAgents(): Promise<void> {
    const child = this.agentSipp;
    this.agentSipp = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Places `calls` calls at `cps` per second from +1999<prefix><n>; each waits up to `recvTimeoutMs` for the PBX's BYE. */
  async customers(prefix: string, calls: number, cps: number, recvTimeoutMs: number): Promise<CustomerRun> {
    const port = await freePort();
    const log = path.join(this.work, `customers-${prefix}.log`);
    const stats = path.join(this.work, `customers-${prefix}.csv`);
    const child = spawn(
      'sipp',
      [
        `127.0.0.1:${this.asterisk.sipPort}`,
        '-sf', path.join(this.work, 'customer.xml'),
        '-s', CHAOS_DID,
        '-key', 'prefix', prefix,
        '-r', String(cps),
        '-m', String(calls),
        '-l', String(calls),
        '-i', '127.0.0.1',
        '-p', String(port),
        '-mp', String(port + 2),
        '-trace_logs', '-log_file', log,
        '-trace_stat', '-stf', stats, '-fd', '1',
        '-trace_err', '-error_file', path.join(this.work, `customers-${prefix}-errors.log`),
        '-recv_timeout', String(recvTimeoutMs),
        '-timeout', `${Math.ceil(calls / cps + recvTimeoutMs / 1000 + 60)}s`,
        '-nostdin',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.customerProcesses.push(child);
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    const done = new Promise<SippTotals>((resolve, reject) => {
      child.once('exit', (code) => {
        // 0: every call succeeded; 1: some failed (the scenario decides whether that is right).
        if (code !== 0 && code !== 1) reject(new Error(`customer SIPp exited with ${code}: ${stderr.trim().slice(0, 400)}`));
        else resolve(sippStats(stats));
      });
    });
    return { prefix, log, child, done };
  }

  // ── Checks ────────────────────────────────────────────────────────────────────────────────

  async channels(): Promise<Array<{ id: string; name: string }>> {
    return this.ari.request('GET', '/channels');
  }

  private async endpointNames(): Promise<string[]> {
    const list = await this.ari.request<Array<{ technology: string; resource: string }>>('GET', '/endpoints');
    return list.filter((e) => e.technology === 'PJSIP').map((e) => e.resource);
  }

  /** Waits (up to `timeoutMs`) for Asterisk to carry no channel. */
  async drained(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.channels().catch(() => [1])).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * What a scenario must not leave behind, as one line each: channels or bridges in Asterisk
   * (a queue's own holding bridge may stay, empty), endpoints pushed since the rig started, and
   * calls rows not ended. Waits up to `timeoutMs` for things to settle before it reports.
   */
  async leaks(timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const problems: string[] = [];
      const channels = await this.channels();
      if (channels.length) problems.push(`${channels.length} channel(s) left in Asterisk: ${channels.slice(0, 3).map((c) => c.name).join(', ')}`);
      const bridges = await this.ari.request<Array<{ id: string; channels: string[]; bridge_class: string }>>('GET', '/bridges');
      const stray = bridges.filter((b) => !(b.id === `queue-${this.queueId}` && b.channels.length === 0));
      if (stray.length) problems.push(`${stray.length} bridge(s) left in Asterisk: ${stray.slice(0, 3).map((b) => `${b.id} (${b.channels.length} channels)`).join(', ')}`);
      const extra = (await this.endpointNames()).filter((e) => !this.baselineEndpoints.has(e));
      if (extra.length) problems.push(`${extra.length} pushed endpoint(s) left: ${extra.slice(0, 3).join(', ')}`);
      const open = await this.db
        .selectFrom('calls')
        .select(['linkedid', 'state'])
        .where('tenantId', '=', this.tenantId)
        .where('state', '!=', 'ended')
        .execute();
      if (open.length) problems.push(`${open.length} calls row(s) not ended: ${open.slice(0, 3).map((c) => `${c.linkedid} ${c.state}`).join(', ')}`);
      if (problems.length === 0 || Date.now() > deadline) return problems;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** The CDR rows of one batch of customers. */
  async cdrs(prefix: string): Promise<CdrRow[]> {
    return this.db
      .selectFrom('calls')
      .select(['linkedid', 'fromNumber', 'state', 'startedAt', 'answeredAt', 'endedAt', 'agentUserId', 'hangupSide', 'hangupCause', 'disposition'])
      .where('tenantId', '=', this.tenantId)
      .where('fromNumber', 'like', `+1999${prefix}%`)
      .orderBy('startedAt')
      .execute();
  }

  /** linkedids of the batch whose events include any of `types`. */
  async withEvents(prefix: string, types: string[]): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('callEvents')
      .innerJoin('calls', 'calls.id', 'callEvents.callId')
      .select('calls.linkedid')
      .where('calls.tenantId', '=', this.tenantId)
      .where('calls.fromNumber', 'like', `+1999${prefix}%`)
      .where('callEvents.type', 'in', types)
      .execute();
    return new Set(rows.map((r) => r.linkedid));
  }

  /** Rows per linkedid above one: a replay that wrote a call twice. */
  async duplicates(prefix: string): Promise<number> {
    const row = await this.db
      .selectFrom('calls')
      .select((eb) => [eb.fn.countAll<number>().as('rows'), eb.fn.count<number>('linkedid').distinct().as('calls')])
      .where('tenantId', '=', this.tenantId)
      .where('fromNumber', 'like', `+1999${prefix}%`)
      .executeTakeFirstOrThrow();
    return Number(row.rows) - Number(row.calls);
  }

  async stop(): Promise<void> {
    for (const child of this.customerProcesses) if (child.exitCode === null) child.kill('SIGKILL');
    await this.stopAgents().catch(() => undefined);
    await this.killControl().catch(() => undefined);
    try {
      stopAsterisk(this.spec.name);
    } catch (err) {
      this.say(err instanceof Error ? err.message : String(err));
    }
    await this.db.destroy().catch(() => undefined);
    await this.mysql.stop().catch(() => undefined);
    if (process.env.CHAOS_KEEP_LOGS) this.say(`logs kept in ${this.work}`);
    else rmSync(this.work, { recursive: true, force: true });
  }
}
