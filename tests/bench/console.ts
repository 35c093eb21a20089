/**
 * Console benchmark: `npm run bench:console` (not part of vitest; prints figures).
 *
 *   1. The built console's initial JavaScript, gzip'd: the entry script and what index.html
 *      preloads, i.e. what a browser fetches before the first screen. The softphone (SIP.js)
 *      and the other lazy chunks are listed apart. Target: under 250 KB.
 *   2. The supervisor wallboard under load, in Debian's headless Chromium: a fresh database with
 *      one tenant of 50 queues and 500 agents, the real control plane (in this process, ARI
 *      pointing nowhere) serving the console, and live events pushed through its real WebSocket
 *      hub at BENCH_EVENTS_PER_SECOND (10) for BENCH_SECONDS (20): agent state changes and call
 *      events spread over the queues. Main-thread busy time (Chrome's TaskDuration) is measured
 *      over the same period with and without events; the difference per event is the cost of
 *      one update. Frames longer than 50 ms (dropped frames) are counted from requestAnimationFrame.
 */
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { buildApp } from '../../control/src/app.ts';
import { loadConfig } from '../../control/src/config.ts';
import { createDatabase } from '../../control/src/db/database.ts';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../../control/src/db/migrate.ts';
import {
  CONSOLE_DIST,
  ensureChromium,
  ensureConsoleBuilt,
} from '../../control/scripts/console-build.mjs';
import { assertReachable, findTestServer, freshDatabaseUrl } from '../support/database.ts';
import { TEST_PASSWORD, createTenant, createUser } from '../support/fixtures.ts';

const QUEUES = 50;
const AGENTS = 500;
const EVENTS_PER_SECOND = Number(process.env.BENCH_EVENTS_PER_SECOND ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const dist = CONSOLE_DIST as string;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function bundleSizes() {
  ensureConsoleBuilt();
  const html = await readFile(path.join(dist, 'index.html'), 'utf8');
  const initial = [
    ...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g),
  ].map((m) => m[1]!);
  const gz = async (file: string) =>
    gzipSync(await readFile(path.join(dist, file)), { level: 9 }).length;
  let initialGz = 0;
  for (const file of initial) initialGz += await gz(file);
  const { readdir } = await import('node:fs/promises');
  const chunks = (await readdir(path.join(dist, 'assets'))).filter((f) => f.endsWith('.js'));
  const lazy = await Promise.all(
    chunks
      .filter((f) => !initial.includes(`/assets/${f}`))
      .map(async (f) => ({ file: f, gz: await gz(`assets/${f}`) })),
  );
  return { initial, initialGz, lazy: lazy.sort((a, b) => b.gz - a.gz) };
}

async function wallboard() {
  const server = await findTestServer();
  await assertReachable(server);
  const databaseUrl = freshDatabaseUrl(server.serverUrl, 'bench');
  await ensureDatabase(databaseUrl);
  const db = createDatabase(databaseUrl, { connectionLimit: 2 });
  try {
    await migrateToLatest(db);
    const tenant = await createTenant(db, { name: 'Bench Tenant', maxAgents: AGENTS });
    const supervisor = await createUser(db, tenant.id, 'supervisor');
    const { passwordHash } = await db
      .selectFrom('users')
      .select('passwordHash')
      .where('id', '=', supervisor.id)
      .executeTakeFirstOrThrow();
    await db
      .insertInto('users')
      .values(
        Array.from({ length: AGENTS }, (_, i) => ({
          tenantId: tenant.id,
          email: `bench-agent-${i}@example.test`,
          role: 'agent' as const,
          displayName: `Agent ${i}`,
          passwordHash,
        })),
      )
      .execute();
    const agents = await db
      .selectFrom('users')
      .select('id')
      .where('tenantId', '=', tenant.id)
      .where('role', '=', 'agent')
      .execute();
    for (let q = 0; q < QUEUES; q++)
      await db
        .insertInto('queues')
        .values({ tenantId: tenant.id, name: `Queue ${q}`, requiredSkills: '{}' })
        .execute();
    const queues = await db
      .selectFrom('queues')
      .select('id')
      .where('tenantId', '=', tenant.id)
      .execute();
    await db
      .insertInto('queueMembers')
      .values(
        agents.map((a, i) => ({
          tenantId: tenant.id,
          queueId: queues[i % QUEUES]!.id,
          userId: a.id,
          penalty: 0,
          skills: '{}',
        })),
      )
      .execute();

    const app = await buildApp(
      {
        ...loadConfig({
          DATABASE_URL: databaseUrl,
          ARI_URL: 'http://127.0.0.1:9',
          ARI_PASSWORD: 'bench',
          LOG_LEVEL: 'error',
          CONSOLE_DIST: dist,
        }),
        cdrOutboxFile: path.join(
          mkdtempSync(path.join(tmpdir(), 'calldock-bench-')),
          'outbox.jsonl',
        ),
      },
      { logger: false },
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const base = `http://127.0.0.1:${port}`;
    const browser = await chromium.launch({
      executablePath: ensureChromium() as string,
      headless: false,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      await page.goto(base);
      await page.getByLabel('Email').fill(supervisor.email);
      await page.getByLabel('Password').fill(TEST_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('link', { name: 'Wallboard' }).click();
      await page.getByTestId('queue-Queue 49').waitFor({ timeout: 30_000 });
      // A string, not a function: tsx would add its own helpers to a function's source.
      await page.evaluate(`(() => {
        const w = window;
        w.__frames = { long: 0, total: 0 };
        let last = performance.now();
        const tick = (t) => {
          w.__frames.total++;
          if (t - last > 50) w.__frames.long++;
          last = t;
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      })()`);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const busy = async () => {
        const { metrics } = await cdp.send('Performance.getMetrics');
        const get = (n: string) => metrics.find((m) => m.name === n)?.value ?? 0;
        return {
          task: get('TaskDuration') * 1000,
          script: get('ScriptDuration') * 1000,
          layout: (get('LayoutDuration') + get('RecalcStyleDuration')) * 1000,
        };
      };
      const frames = () =>
        page.evaluate<{ long: number; total: number }>('({ ...window.__frames })');
      const measure = async (withEvents: boolean) => {
        const before = await busy();
        const framesBefore = await frames();
        let sent = 0;
        const started = Date.now();
        const statuses = ['available', 'away', 'on_call', 'wrap_up', 'ringing'];
        const callTypes = ['call.queued', 'call.offered', 'call.answered', 'call.ended'];
        while (Date.now() - started < SECONDS * 1000) {
          if (withEvents) {
            const agent = agents[Math.floor(Math.random() * agents.length)]!;
            if (sent % 2 === 0) {
              app.realtime.publish(tenant.id, 'agent.state', {
                userId: agent.id,
                status: statuses[sent % statuses.length],
                reason: null,
                since: new Date().toISOString(),
                callId: null,
              });
            } else {
              const type = callTypes[sent % callTypes.length]!;
              app.realtime.publish(tenant.id, type, {
                tenantId: tenant.id,
                type,
                callId: `bench-${sent}`,
                queueId: queues[sent % QUEUES]!.id,
              });
            }
            sent++;
          }
          await new Promise((r) => setTimeout(r, 1000 / EVENTS_PER_SECOND));
        }
        const after = await busy();
        const framesAfter = await frames();
        return {
          sent,
          taskMs: after.task - before.task,
          scriptMs: after.script - before.script,
          layoutMs: after.layout - before.layout,
          frames: framesAfter.total - framesBefore.total,
          longFrames: framesAfter.long - framesBefore.long,
        };
      };
      const idle = await measure(false);
      const loaded = await measure(true);
      return { idle, loaded, seconds: SECONDS };
    } finally {
      await browser.close();
      await app.close();
    }
  } finally {
    await db.destroy();
    await dropDatabase(databaseUrl);
    await server.stop();
  }
}

const sizes = await bundleSizes();
console.log('\nConsole bundle (gzip -9)');
console.log(
  `  initial JS (${sizes.initial.join(', ')}): ${kb(sizes.initialGz)}  (target < 250 KB: ${sizes.initialGz < 250 * 1024 ? 'met' : 'NOT met'})`,
);
for (const c of sizes.lazy) console.log(`  lazy ${c.file.padEnd(36)} ${kb(c.gz)}`);

const w = await wallboard();
const perEvent = (w.loaded.taskMs - w.idle.taskMs) / Math.max(1, w.loaded.sent);
console.log(
  `\nWallboard: ${QUEUES} queues, ${AGENTS} agents, ${EVENTS_PER_SECOND} events/s for ${w.seconds} s (${w.loaded.sent} events)`,
);
console.log(
  `  main-thread busy, idle:    ${w.idle.taskMs.toFixed(0)} ms (script ${w.idle.scriptMs.toFixed(0)}, style+layout ${w.idle.layoutMs.toFixed(0)})`,
);
console.log(
  `  main-thread busy, events:  ${w.loaded.taskMs.toFixed(0)} ms (script ${w.loaded.scriptMs.toFixed(0)}, style+layout ${w.loaded.layoutMs.toFixed(0)})`,
);
console.log(`  per update:                ${perEvent.toFixed(2)} ms of main thread`);
console.log(
  `  share of main thread:      ${((100 * w.loaded.taskMs) / (w.seconds * 1000)).toFixed(1)} %`,
);
console.log(
  `  frames: ${w.loaded.frames}, longer than 50 ms: ${w.loaded.longFrames} (idle: ${w.idle.longFrames} of ${w.idle.frames})`,
);
process.exit(0);
