/**
 * Kills a dedicated Asterisk (never the one other test files share) under a running control
 * plane: /readyz must say Asterisk is down within 5 s and recover by itself once it is back.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { killAsterisk, startAsterisk, stopAsterisk, testInstance } from '../support/asterisk.ts';
import { buildTestApp } from '../support/app.ts';

const slot = testInstance('restart');
const NAME = slot.name;
const spec = {
  ...slot,
  role: 'main' as const,
  ariUser: 'calldock',
  ariPassword: randomBytes(12).toString('hex'),
};

interface ReadyzBody {
  checks: Record<string, { up: boolean; state?: string }>;
  error: { message: string; details: { checks: Record<string, { up: boolean }> } };
}

async function pollReadyz(
  app: Awaited<ReturnType<typeof buildTestApp>>,
  want: number,
  withinMs: number,
): Promise<{ afterMs: number; body: ReadyzBody }> {
  const started = Date.now();
  for (;;) {
    const res = await app.inject({ url: '/readyz' });
    if (res.statusCode === want) return { afterMs: Date.now() - started, body: res.json() };
    if (Date.now() - started > withinMs) {
      throw new Error(`/readyz still ${res.statusCode} after ${withinMs} ms: ${res.body}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Asterisk killed under a running control plane', () => {
  stopAsterisk(NAME);
  const instance = startAsterisk(spec);
  let app: Awaited<ReturnType<typeof buildTestApp>> | undefined;

  afterAll(async () => {
    await app?.close();
    stopAsterisk(NAME);
  });

  it('is reported down within 5 s and comes back by itself', async () => {
    app = await buildTestApp({
      ari: { url: instance.ariUrl, user: spec.ariUser, password: spec.ariPassword, app: 'calldock' },
    });
    await app.ari.waitUntilConnected(15_000);
    await pollReadyz(app, 200, 5_000);

    killAsterisk(NAME);
    const down = await pollReadyz(app, 503, 5_000);
    expect(down.afterMs).toBeLessThan(5_000);
    expect(down.body.error.message).toBe('Not ready: asterisk down');
    expect(down.body.error.details.checks.asterisk).toMatchObject({ up: false });
    expect(down.body.error.details.checks.database).toMatchObject({ up: true });

    startAsterisk(spec);
    const up = await pollReadyz(app, 200, 15_000);
    expect(up.body.checks.asterisk).toMatchObject({ up: true, state: 'connected' });
  });
});
