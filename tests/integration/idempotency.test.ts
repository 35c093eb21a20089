/**
 * Stored Idempotency-Key answers are forgotten after 24 hours: they can hold what is shown only
 * once (an invite link), and a retry comes within minutes, not days.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IDEMPOTENCY_KEY_TTL_MS,
  purgeIdempotencyKeys,
} from '../../control/src/plugins/idempotency.ts';
import { buildTestApp } from '../support/app.ts';
import { bearer, createTenant, createUser, tokenFor, type TestUser } from '../support/fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

describe('idempotency key purge', () => {
  let app: App;
  let admin: TestUser;
  let token: string;

  beforeAll(async () => {
    app = await buildTestApp();
    const tenant = await createTenant(app.db);
    admin = await createUser(app.db, tenant.id, 'tenant_admin');
    token = await tokenFor(app, admin);
  });

  afterAll(async () => {
    await app.close();
  });

  const invite = (email: string, key: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/invites',
      headers: { ...bearer(token), 'idempotency-key': key },
      payload: { email, displayName: 'Ida Empotent', role: 'supervisor' },
    });
  const keysOf = async (key: string) =>
    app.db
      .selectFrom('idempotencyKeys')
      .select(['id', 'responseBody'])
      .where('userId', '=', admin.id)
      .where('idempotencyKey', '=', key)
      .execute();
  /** Backdates a key (created_at is never updated by the app, so the schema type forbids it). */
  const age = (key: string, ms: number) =>
    sql`UPDATE idempotency_keys SET created_at = ${new Date(Date.now() - ms)}
        WHERE user_id = ${admin.id} AND idempotency_key = ${key}`.execute(app.db);

  it('purges keys older than 24 hours at start-up, with the invite links they held', async () => {
    const [old, young] = [`old-${Date.now()}`, `young-${Date.now()}`];
    expect((await invite(`old-${Date.now()}@example.test`, old)).statusCode).toBe(201);
    expect((await invite(`young-${Date.now()}@example.test`, young)).statusCode).toBe(201);
    expect((await keysOf(old))[0]?.responseBody).toContain('inviteUrl');
    await age(old, IDEMPOTENCY_KEY_TTL_MS + 60_000);
    await age(young, IDEMPOTENCY_KEY_TTL_MS - 60_000);

    // The job runs when an app starts (and hourly after that).
    const another = await buildTestApp();
    await another.close();

    expect(await keysOf(old)).toEqual([]);
    expect(await keysOf(young)).toHaveLength(1);
  });

  it('deletes only what is older than the cut-off, and a purged key is new again', async () => {
    const key = `again-${Date.now()}`;
    const email = `again-${Date.now()}@example.test`;
    const first = await invite(email, key);
    expect((await invite(email, key)).headers['idempotent-replayed']).toBe('true');
    await age(key, IDEMPOTENCY_KEY_TTL_MS + 1_000);

    const cutOff = new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS);
    expect(await purgeIdempotencyKeys(app.db, cutOff)).toBeGreaterThanOrEqual(1);
    expect(await keysOf(key)).toEqual([]);

    // Same key, same body, a day later: handled as a new request (which replaces the invite).
    const later = await invite(email, key);
    expect(later.statusCode).toBe(201);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
    expect(later.json().id).not.toBe(first.json().id);
  });
});
