/**
 * `npm start` end to end, on its own ports and Asterisk instance: the stack comes up ready,
 * and Ctrl-C (SIGINT) leaves no Asterisk behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dropDatabase } from '../../control/src/db/migrate.ts';
import { asteriskRunning, stopAsterisk, testInstance } from '../support/asterisk.ts';
import { freshDatabaseUrl } from '../support/database.ts';
import { freePort } from '../support/net.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const slot = testInstance('stack');
const NAME = slot.name;

describe('npm start', () => {
  const databaseUrl = freshDatabaseUrl(inject('mysqlServerUrl'), 'stack');

  afterAll(async () => {
    if (asteriskRunning(NAME)) stopAsterisk(NAME);
    await dropDatabase(databaseUrl);
  });

  beforeAll(() => stopAsterisk(NAME));

  it('brings up a ready stack, prints the logins, and Ctrl-C leaves no Asterisk running', async () => {
    // Free now, per attempt (a port picked at random in the ephemeral range was once taken by
    // some connection's own end).
    const port = await freePort();
    const child = spawn('node', ['control/scripts/stack.mjs', 'start'], {
      cwd: REPO,
      env: {
        ...process.env,
        CALLDOCK_INSTANCE: NAME,
        CALLDOCK_SKIP_INSTALL: '1',
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        ASTERISK_HTTP_PORT: String(slot.httpPort),
        ASTERISK_SIP_PORT: String(slot.sipPort),
        ASTERISK_RTP_START: String(slot.rtpStart),
        ASTERISK_RTP_END: String(slot.rtpEnd),
        ARI_PASSWORD: randomBytes(12).toString('hex'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready after 60 s:\n${output}`)), 60_000);
        const check = () => {
          if (output.includes('calldock: ready')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', check);
        void exited.then(() => reject(new Error(`npm start exited early:\n${output}`)));
      });

      expect(output).toContain('admin@demo.calldock.test');
      expect(output).toContain('agent1@demo.calldock.test');
      expect(output).toContain(`http://127.0.0.1:${port}/`);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        checks: { database: { up: true }, asterisk: { up: true } },
      });
      expect(asteriskRunning(NAME)).toBe(true);
    } finally {
      child.kill('SIGINT');
    }

    expect(await exited).toBe(0);
    expect(asteriskRunning(NAME)).toBe(false);
    const left = spawnSync('pgrep', ['-f', `calldock/${NAME}/etc/asterisk.conf`], { encoding: 'utf8' });
    expect(left.stdout.trim()).toBe('');
  }, 120_000);
});

describe('the control plane with bad configuration', () => {
  it('stops with one line naming the variable, not a stack trace', () => {
    const result = spawnSync(path.join(REPO, 'node_modules/.bin/tsx'), ['control/src/server.ts'], {
      cwd: REPO,
      env: { ...process.env, PORT: 'eighty', ARI_PASSWORD: 'x' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr.trim()).toBe(
      'calldock: invalid configuration: PORT must be an integer between 0 and 65535 (got "eighty")',
    );
  });
});
