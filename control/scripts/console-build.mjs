/**
 * Browser-side prerequisites of `npm start` and `npm test`, shared with the end-to-end tests:
 *   - ensureConsoleBuilt(): builds console/ into console/dist when its sources changed since the
 *     last build (a hash of them is kept in dist/.source-hash), so a fresh clone serves a console;
 *   - ensureChromium(): installs Debian's chromium (the e2e tests' browser) when it is missing.
 * Plain Node, no dependencies.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONSOLE = path.join(ROOT, 'console');
export const CONSOLE_DIST = path.join(CONSOLE, 'dist');
export const CHROMIUM = '/usr/bin/chromium';

function* files(dir) {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) yield* files(full);
    else yield full;
  }
}

function sourceHash() {
  const hash = createHash('sha256');
  const inputs = ['index.html', 'vite.config.ts', 'package.json', 'tsconfig.json']
    .map((f) => path.join(CONSOLE, f))
    .filter((f) => existsSync(f));
  for (const dir of ['src', 'public']) {
    if (existsSync(path.join(CONSOLE, dir))) inputs.push(...files(path.join(CONSOLE, dir)));
  }
  for (const file of inputs) {
    hash.update(path.relative(CONSOLE, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

/** Returns true when a build ran. Throws when the build fails. */
export function ensureConsoleBuilt({
  log = (line) => process.stdout.write(`calldock: ${line}\n`),
} = {}) {
  if (!existsSync(path.join(CONSOLE, 'index.html'))) return false;
  const marker = path.join(CONSOLE_DIST, '.source-hash');
  const want = sourceHash();
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want) return false;
  log('building the console (vite)…');
  const vite = path.join(ROOT, 'node_modules/.bin/vite');
  const result = spawnSync(
    vite,
    ['build', '--config', path.join(CONSOLE, 'vite.config.ts'), '--logLevel', 'warn'],
    {
      cwd: ROOT,
      stdio: 'inherit',
      // Under vitest NODE_ENV is "test": the console would be built with React's development code.
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  if (result.status !== 0) throw new Error('the console build failed; see above');
  writeFileSync(marker, want);
  return true;
}

/** Installs Debian's chromium with apt when /usr/bin/chromium is missing (needs root). */
export function ensureChromium({
  log = (line) => process.stdout.write(`calldock: ${line}\n`),
} = {}) {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  log('installing chromium for the browser tests (apt-get install chromium)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
    stdio: 'inherit',
    env,
  });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    result = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      stdio: 'inherit',
      env,
    });
  }
  if (result.status !== 0 || !existsSync(CHROMIUM)) {
    throw new Error('chromium could not be installed (apt-get install -y chromium, as root)');
  }
  return CHROMIUM;
}
