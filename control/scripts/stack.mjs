#!/usr/bin/env node
/**
 * The two README commands.
 *
 *   npm start  →  node control/scripts/stack.mjs start
 *     installs dependencies if needed, provisions and starts Asterisk, makes sure MySQL/MariaDB
 *     answers, migrates, seeds the demo tenant, runs the control plane in the foreground and
 *     prints the URLs and logins. Ctrl-C stops the control plane, then Asterisk, by its PID.
 *
 *   npm test   →  node control/scripts/stack.mjs test [vitest args]
 *     the same set-up (dependencies, the Asterisk root, MySQL), then the whole suite; the
 *     suite's global setup starts its own Asterisk pair and database, so it never touches the
 *     dev stack.
 *
 * Plain Node with no dependencies: it runs before `npm install` has.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium, ensureConsoleBuilt } from './console-build.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PROVISION = path.join(ROOT, 'asterisk/provision.sh');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const STATE_DIR = path.join(ROOT, '.calldock');

const say = (line) => process.stdout.write(`calldock: ${line}\n`);
const fail = (line) => {
  process.stderr.write(`calldock: ${line}\n`);
  process.exit(1);
};

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.error) fail(`${cmd} could not run: ${result.error.message}`);
  return result.status ?? 1;
}

/** npm ci when node_modules is missing or package-lock.json changed since the last install. */
function ensureDependencies() {
  if (process.env.CALLDOCK_SKIP_INSTALL === '1') return;
  const lock = path.join(ROOT, 'package-lock.json');
  const marker = path.join(ROOT, 'node_modules/.calldock-installed');
  const want = existsSync(lock) ? createHash('sha256').update(readFileSync(lock)).digest('hex') : '';
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want && existsSync(TSX)) return;
  say('installing dependencies (npm ci)…');
  const status = run('npm', [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund']);
  if (status !== 0) fail('dependency install failed; see the npm output above');
  writeFileSync(marker, want);
}

/** Every file under a folder (recursively), for change detection. */
function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

/**
 * Builds the website widget (widget/dist, served by the control plane at /widget.js) when its
 * sources or dependencies changed since the last build, so a fresh clone works.
 */
function ensureWidgetBuilt() {
  const widget = path.join(ROOT, 'widget');
  const inputs = [...filesUnder(path.join(widget, 'src')), path.join(widget, 'build.mjs'), path.join(ROOT, 'package-lock.json')]
    .filter((f) => existsSync(f))
    .sort();
  const hash = createHash('sha256');
  for (const file of inputs) hash.update(file).update(readFileSync(file));
  const want = hash.digest('hex');
  const marker = path.join(widget, 'dist/.build-hash');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want) return;
  say('building the website widget…');
  if (run(process.execPath, [path.join(widget, 'build.mjs')]) !== 0) fail('widget build failed; see above');
  writeFileSync(marker, want);
}

function canConnect(host, port, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * MySQL/MariaDB must answer at the URL. A stopped local MariaDB is started; anything else gets
 * a message saying what to install or which URL to set.
 */
async function ensureMysql(url) {
  const { hostname, port } = new URL(url);
  const host = hostname || '127.0.0.1';
  const tcpPort = Number(port || 3306);
  if (await canConnect(host, tcpPort)) return;
  const local = ['127.0.0.1', 'localhost', '::1'].includes(host);
  const daemon = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((p) => existsSync(p));
  if (!local || !daemon) {
    fail(
      `no MySQL/MariaDB answers at ${host}:${tcpPort}. Install one (apt-get install mariadb-server) ` +
        'or set DATABASE_URL=mysql://user:pass@host:port/calldock to a running server.',
    );
  }
  say(`starting the local database server (${daemon})…`);
  run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', daemon]);
  for (let i = 0; i < 60; i++) {
    if (await canConnect(host, tcpPort)) return;
    await sleep(500);
  }
  fail(`started ${daemon} but nothing answers at ${host}:${tcpPort} after 30 s`);
}

function readInstanceEnv(name) {
  const root = process.env.CALLDOCK_ASTERISK_ROOT ?? path.join(homedir(), '.cache/calldock/asterisk-root');
  const file = path.join(root, 'calldock', name, 'instance.env');
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function provision(args, env) {
  const status = run('bash', [PROVISION, ...args], { env });
  if (status !== 0) fail(`asterisk/provision.sh ${args.join(' ')} failed (exit ${status})`);
}

/** The dev stack's ARI password: generated once per checkout, kept out of git. */
function ariPassword() {
  if (process.env.ARI_PASSWORD) return process.env.ARI_PASSWORD;
  const file = path.join(STATE_DIR, 'ari-password');
  if (!existsSync(file)) {
    mkdirSync(STATE_DIR, { recursive: true });
    writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

function stackEnv() {
  const httpPort = process.env.ASTERISK_HTTP_PORT ?? '8088';
  return {
    ...process.env,
    CALLDOCK_INSTANCE: process.env.CALLDOCK_INSTANCE ?? 'main',
    DATABASE_URL: process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/calldock',
    ASTERISK_HTTP_PORT: httpPort,
    ASTERISK_SIP_PORT: process.env.ASTERISK_SIP_PORT ?? '5060',
    ARI_URL: process.env.ARI_URL ?? `http://127.0.0.1:${httpPort}`,
    ARI_USER: process.env.ARI_USER ?? 'calldock',
    ARI_PASSWORD: ariPassword(),
    HOST: process.env.HOST ?? '127.0.0.1',
    PORT: process.env.PORT ?? '3000',
    CONSOLE_DIST: process.env.CONSOLE_DIST ?? path.join(ROOT, 'console/dist'),
  };
}

async function waitReady(url, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return `control plane exited (${child.exitCode})`;
    try {
      const res = await fetch(url);
      if (res.ok) return undefined;
      last = (await res.json())?.error?.message ?? `HTTP ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await sleep(250);
  }
  return last;
}

function buildConsole() {
  try {
    ensureConsoleBuilt({ log: say });
  } catch (err) {
    fail(err.message);
  }
}

async function start() {
  ensureDependencies();
  ensureWidgetBuilt();
  buildConsole();
  const env = stackEnv();
  await ensureMysql(env.DATABASE_URL);
  provision(['start', env.CALLDOCK_INSTANCE, 'main'], env);
  // Asterisk's own CDR, from which the control plane writes the CDR of calls it missed.
  const instanceEnv = readInstanceEnv(env.CALLDOCK_INSTANCE);
  if (instanceEnv.LOG_FILE) env.ASTERISK_CDR_CSV ??= path.join(path.dirname(instanceEnv.LOG_FILE), 'cdr-csv/Master.csv');
  // Its security events (failed SIP authentications), from which sources are blocked.
  if (instanceEnv.LOG_FILE) env.ASTERISK_SECURITY_LOG ??= instanceEnv.LOG_FILE;

  let stopping = false;
  const stopAsterisk = () => provision(['stop', env.CALLDOCK_INSTANCE], env);
  if (run(TSX, ['control/src/db/migrate-cli.ts'], { env }) !== 0) {
    stopAsterisk();
    fail('database migration failed; see above');
  }
  const seeded = spawnSync(TSX, ['control/src/db/seed-cli.ts', '--json'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (seeded.status !== 0) {
    stopAsterisk();
    fail('seeding the demo tenant failed; see above');
  }
  const demo = JSON.parse(seeded.stdout);

  const control = spawn(TSX, ['control/src/server.ts'], { cwd: ROOT, env, stdio: 'inherit' });
  const shutdown = (signal) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping the control plane and Asterisk…`);
    if (control.exitCode === null) control.kill('SIGTERM');
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  control.on('exit', (code) => {
    stopAsterisk();
    say('stopped');
    process.exit(stopping ? 0 : (code ?? 1));
  });

  const base = `http://${env.HOST}:${env.PORT}`;
  const problem = await waitReady(`${base}/readyz`, control);
  if (stopping) return;
  if (problem) {
    say(`the control plane is up but not ready: ${problem}`);
    return;
  }
  console.log(
    [
      '',
      `  Console + API   ${base}/          (OpenAPI: ${base}/docs)`,
      `  Health          ${base}/healthz   ${base}/readyz   ${base}/metrics`,
      `  Asterisk        ARI ${env.ARI_URL}   SIP/UDP 127.0.0.1:${env.ASTERISK_SIP_PORT}   WebRTC ws://127.0.0.1:${env.ASTERISK_HTTP_PORT}/ws`,
      `  Database        ${env.DATABASE_URL.replace(/\/\/([^:@]+):[^@]*@/, '//$1:***@')}`,
      '',
      `  Logins (password: ${demo.password})`,
      ...demo.logins.map((l) => `    ${l.role.padEnd(15)} ${l.email}`),
      '',
    ].join('\n'),
  );
  say('ready — Ctrl-C stops everything');
}

async function test(extraArgs) {
  ensureDependencies();
  ensureWidgetBuilt();
  const url = process.env.CALLDOCK_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
  if (!process.env.CALLDOCK_TEST_MYSQL_URL && !dockerAnswers()) await ensureMysql(url);
  // Build the Asterisk root now, with its output in view, rather than inside the suite's setup.
  provision(['root'], process.env);
  say('type-checking…');
  if (run(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'control', '--noEmit']) !== 0) {
    fail('type errors; see above');
  }
  if (run(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'console', '--noEmit']) !== 0) {
    fail('type errors in the console; see above');
  }
  // The browser tests need the built console and a Chromium; the chaos suite needs SIPp.
  buildConsole();
  try {
    ensureChromium({ log: say });
    ensureDebianPackage('sipp', 'sip-tester');
  } catch (err) {
    fail(err.message);
  }
  say('linting…');
  if (run(path.join(ROOT, 'node_modules/.bin/eslint'), ['.']) !== 0) fail('lint errors; see above');
  const status = run(path.join(ROOT, 'node_modules/.bin/vitest'), ['run', ...extraArgs]);
  process.exit(status);
}

/** Installs a Debian package when its command is missing (the machine's own apt, as root). */
function ensureDebianPackage(command, pkg) {
  if (spawnSync(command, ['-v'], { stdio: 'ignore' }).error === undefined) return;
  say(`installing ${pkg} (apt-get install ${pkg})…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-q', pkg], { stdio: 'inherit', env }).status;
  if (install() !== 0) {
    spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    if (install() !== 0) throw new Error(`${pkg} could not be installed (apt-get install -y ${pkg}, as root)`);
  }
}

function dockerAnswers() {
  return existsSync('/var/run/docker.sock') && run('docker', ['info'], { stdio: 'ignore' }) === 0;
}

function stop() {
  const env = stackEnv();
  provision(['stop', env.CALLDOCK_INSTANCE], env);
}

const [command = 'start', ...rest] = process.argv.slice(2);
if (command === 'start') await start();
else if (command === 'test') await test(rest);
else if (command === 'stop') stop();
else fail(`unknown command "${command}" (use start, test or stop)`);
