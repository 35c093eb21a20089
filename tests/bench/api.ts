/**
 * API benchmark: `npm run bench:api` (not part of vitest; prints figures, asserts nothing about
 * speed).
 *
 * Makes a fresh database (as the test suite does), seeds one tenant with 10,000 DIDs in bulk, runs
 * the real server (control/src/server.ts) in a child process, and loads it over HTTP with
 * autocannon from this one:
 *   - GET /api/v1/dids?limit=100, authenticated;
 *   - full cursor walks over all 10,000 DIDs in pages of 200 (each connection walks on its own),
 *     and the time of one walk on its own;
 *   - GET /api/v1/auth/me: the cost of authentication alone, for comparison;
 *   - POST /api/v1/auth/login: argon2id on purpose, so slow; the per-address login limit is
 *     raised for the run with LOGIN_RATE_LIMIT_PER_MINUTE, the code is the production one.
 * The database is dropped at the end. Asterisk is not needed: none of these touch it.
 *
 * Settings (environment): BENCH_SECONDS (each measurement, default 10), BENCH_CONNECTIONS (10),
 * BENCH_LOGIN_CONNECTIONS (4), CALLDOCK_TEST_MYSQL_URL (the server; else as the test suite finds
 * one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createDatabase, type Db } from '../../control/src/db/database.ts';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../../control/src/db/migrate.ts';
import { assertReachable, findTestServer, freshDatabaseUrl } from '../support/database.ts';
import { TEST_PASSWORD, createTenant, createUser } from '../support/fixtures.ts';
import { freePort } from '../support/net.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIDS = 10_000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const LOGIN_CONNECTIONS = Number(process.env.BENCH_LOGIN_CONNECTIONS ?? 4);

interface Row {
  name: string;
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  requests: number;
  failed: number;
}

/** 10,000 DIDs in ten multi-row INSERTs. */
async function seed(db: Db): Promise<{ email: string }> {
  const tenant = await createTenant(db, { name: 'Bench Tenant' });
  const admin = await createUser(db, tenant.id, 'tenant_admin');
  const batch = 1_000;
  for (let start = 0; start < DIDS; start += batch) {
    const rows = Array.from({ length: batch }, (_, i) => ({
      tenantId: tenant.id,
      number: `+1555${String(start + i).padStart(7, '0')}`,
      description: `Bench line ${start + i}`,
      targetType: 'hangup' as const,
    }));
    await db.insertInto('dids').values(rows).execute();
  }
  return { email: admin.email };
}

/** The real server in a child process, so the load generator does not share its event loop. */
async function startServer(databaseUrl: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'control/src/server.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'error',
      // Nothing listens there: the ARI connection retries quietly in the background.
      ARI_URL: 'http://127.0.0.1:9',
      ARI_PASSWORD: 'bench',
      LOGIN_RATE_LIMIT_PER_MINUTE: '1000000',
    },
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    if (Date.now() > deadline) throw new Error('the server did not answer /healthz within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function load(name: string, options: autocannon.Options, seconds = SECONDS): Promise<Row> {
  const result = await autocannon({ duration: seconds, ...options });
  return {
    name,
    connections: options.connections ?? 10,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failed: result.non2xx + result.errors,
  };
}

/** One walk over every DID, alone: how long an export of the whole list takes. */
async function walkOnce(base: string, token: string): Promise<{ ms: number; seen: number }> {
  const started = performance.now();
  const seen = new Set<string>();
  let cursor: string | null = null;
  do {
    const url = `${base}/api/v1/dids?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`walk: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as {
      items: Array<{ number: string }>;
      nextCursor: string | null;
    };
    for (const did of page.items) seen.add(did.number);
    cursor = page.nextCursor;
  } while (cursor);
  return { ms: performance.now() - started, seen: seen.size };
}

function table(rows: Row[]): string {
  const header = ['scenario', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'non-2xx/errors'];
  const cells = rows.map((r) => [
    r.name,
    String(r.connections),
    r.requestsPerSecond.toFixed(1),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    String(r.requests),
    String(r.failed),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const server = await findTestServer();
  await assertReachable(server);
  const databaseUrl = freshDatabaseUrl(server.serverUrl, 'bench');
  await ensureDatabase(databaseUrl);
  let child: ChildProcess | undefined;
  const db = createDatabase(databaseUrl, { connectionLimit: 2 });
  try {
    await migrateToLatest(db);
    const seededAt = performance.now();
    const { email } = await seed(db);
    const seedMs = performance.now() - seededAt;

    const port = await freePort();
    child = await startServer(databaseUrl, port);
    const base = `http://127.0.0.1:${port}`;
    // Logins one at a time first: what one person waits for.
    const logins: number[] = [];
    let accessToken = '';
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: TEST_PASSWORD }),
      });
      if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
      ({ accessToken } = (await res.json()) as { accessToken: string });
      logins.push(performance.now() - started);
    }
    const auth = { authorization: `Bearer ${accessToken}` };

    const single = await walkOnce(base, accessToken); // also warms the server up
    if (single.seen !== DIDS) throw new Error(`a walk saw ${single.seen} DIDs, not ${DIDS}`);
    const walks = [];
    for (let i = 0; i < 3; i++) walks.push((await walkOnce(base, accessToken)).ms);

    const rows: Row[] = [];
    rows.push(
      await load('GET /dids?limit=100', {
        url: `${base}/api/v1/dids?limit=100`,
        headers: auth,
        connections: CONNECTIONS,
      }),
    );
    // Each connection walks the whole list, page after page, then starts over.
    rows.push(
      await load('GET /dids?limit=200 walk', {
        url: base,
        headers: auth,
        connections: CONNECTIONS,
        requests: [
          {
            method: 'GET',
            setupRequest: (request, context) => {
              const cursor = (context as { cursor?: string }).cursor;
              return {
                ...request,
                path: `/api/v1/dids?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
              };
            },
            onResponse: (status, body, context) => {
              if (status !== 200) return;
              const next = (JSON.parse(body) as { nextCursor: string | null }).nextCursor;
              (context as { cursor?: string }).cursor = next ?? undefined;
            },
          },
        ],
      }),
    );
    rows.push(
      await load('GET /auth/me', {
        url: `${base}/api/v1/auth/me`,
        headers: auth,
        connections: CONNECTIONS,
      }),
    );
    rows.push(
      await load('POST /auth/login', {
        url: `${base}/api/v1/auth/login`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: TEST_PASSWORD }),
        connections: LOGIN_CONNECTIONS,
      }),
    );

    const [list, walk, me, loginRow] = rows as [Row, Row, Row, Row];
    const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}×` : 'n/a');
    const walkMs = [...walks].sort((a, b) => a - b);
    const out = [
      '',
      `Calldock API benchmark: ${DIDS} DIDs in one tenant, ${SECONDS} s per scenario, Node ${process.version}`,
      `seeded ${DIDS} DIDs in ${seedMs.toFixed(0)} ms`,
      '',
      table(rows),
      '',
      `one full walk alone (${DIDS / 200} pages of 200): median ${walkMs[1]!.toFixed(0)} ms, ` +
        `best ${walkMs[0]!.toFixed(0)} ms; ${((DIDS / walkMs[1]!) * 1000).toFixed(0)} DIDs/s`,
      `one login alone: median ${[...logins].sort((a, b) => a - b)[1]!.toFixed(0)} ms`,
      `under load: ${(walk.requestsPerSecond / (DIDS / 200)).toFixed(2)} full walks/s ` +
        `(${((walk.requestsPerSecond * 200) | 0).toLocaleString('en')} DIDs/s)`,
      '',
      'ratios (req/s):',
      `  list of 100 / login        ${ratio(list.requestsPerSecond, loginRow.requestsPerSecond)}`,
      `  page of 200 / login        ${ratio(walk.requestsPerSecond, loginRow.requestsPerSecond)}`,
      `  auth/me / list of 100      ${ratio(me.requestsPerSecond, list.requestsPerSecond)}`,
      `  list of 100 / page of 200  ${ratio(list.requestsPerSecond, walk.requestsPerSecond)}`,
      '',
      'Login hashes with argon2id (the library defaults: 64 MiB, 3 passes) on purpose; its rate is ' +
        'bounded by CPU and libuv threads, not by the API.',
    ];
    console.log(out.join('\n'));
  } finally {
    if (child) await stopServer(child);
    await db.destroy();
    await dropDatabase(databaseUrl);
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
