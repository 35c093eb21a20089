/** Builds the control plane against this run's database and the test Asterisk. */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import type { RouteOptions } from 'fastify';
import { buildApp } from '../../control/src/app.ts';
import { loadConfig, type Config } from '../../control/src/config.ts';
import { lockTelephony } from './telephony-lock.ts';

export interface TestAppOptions {
  /**
   * The app takes the calls of the shared test PBX (subscribes to the `calldock` Stasis app),
   * holding the telephony lock until it closes. Without it, the app subscribes under a name of
   * its own and never sees a call.
   */
  telephony?: boolean;
  /** The test file already holds the telephony lock itself (it also needs the PBX app-less). */
  lockHeld?: boolean;
  /** Sees every route as it is added. */
  onRoute?: (route: RouteOptions) => void;
}

export function testConfig(overrides: Partial<Config> = {}, options: TestAppOptions = {}): Config {
  const main = inject('asteriskMain');
  const base = loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    ARI_URL: main.ariUrl,
    ARI_USER: main.ariUser,
    ARI_PASSWORD: main.ariPassword,
    ARI_APP: options.telephony ? 'calldock' : `calldock-test-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: '0',
  });
  // Each app its own outbox: apps running side by side must not replay each other's.
  const cdrOutboxFile = path.join(tmpdir(), `calldock-outbox-${randomBytes(6).toString('hex')}.jsonl`);
  // Only the app that owns the test PBX re-pushes endpoints on connect: others connecting
  // meanwhile would re-push an endpoint another test just deleted.
  const resyncEndpointsOnConnect = Boolean(options.telephony);
  // Attachments of test apps go to the temporary folder, never into the work tree.
  const helpdesk = { ...base.helpdesk, attachmentsDir: path.join(tmpdir(), 'calldock-test-attachments') };
  return { ...base, cdrOutboxFile, resyncEndpointsOnConnect, helpdesk, ...overrides };
}

export async function buildTestApp(overrides: Partial<Config> = {}, options: TestAppOptions = {}) {
  const unlock = options.telephony && !options.lockHeld ? await lockTelephony() : undefined;
  try {
    const app = await buildApp(
      testConfig(overrides, options),
      options.onRoute ? { onRoute: options.onRoute } : {},
    );
    if (unlock) app.addHook('onClose', unlock);
    await app.ready();
    return app;
  } catch (err) {
    await unlock?.();
    throw err;
  }
}
