/**
 * Login, refresh-token rotation with reuse detection, logout and login throttling, against the
 * real database.
 */
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_LOGINS, DEMO_PASSWORD, PLATFORM_ADMIN, seedDemo } from '../../control/src/db/seed.ts';
import { buildTestApp } from '../support/app.ts';
import {
  TEST_PASSWORD,
  bearer,
  createTenant,
  createUser,
  login,
  randomIp,
  tokenFor,
  type Session,
  type TestTenant,
} from '../support/fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

describe('auth', () => {
  let app: App;
  let tenant: TestTenant;

  beforeAll(async () => {
    app = await buildTestApp();
    tenant = await createTenant(app.db);
  });

  afterAll(async () => {
    await app.close();
  });

  const postLogin = (email: string, password: string, ip = randomIp()) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password },
      remoteAddress: ip,
    });
  const postRefresh = (refreshToken: string) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });
  const me = (token: string) => app.inject({ url: '/api/v1/auth/me', headers: bearer(token) });

  describe('login', () => {
    it('answers tokens and the user for the right password, and records the login', async () => {
      const user = await createUser(app.db, tenant.id, 'agent', { displayName: 'Ann Agent' });
      const res = await postLogin(user.email, TEST_PASSWORD);
      expect(res.statusCode).toBe(200);
      const body = res.json<Session>();
      expect(body).toEqual({
        accessToken: expect.any(String),
        expiresIn: 900,
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        user: {
          id: user.id,
          tenantId: tenant.id,
          role: 'agent',
          displayName: 'Ann Agent',
          email: user.email,
        },
      });

      const claims = decodeJwt(body.accessToken);
      expect(claims).toMatchObject({ sub: String(user.id), tid: tenant.id, role: 'agent' });
      const stored = await app.db
        .selectFrom('refreshTokens')
        .selectAll()
        .where('userId', '=', user.id)
        .execute();
      expect(stored).toHaveLength(1);
      // The session id in the access token is the refresh-token family; only a hash is stored.
      expect(stored[0]!.familyId).toBe(claims.sid);
      expect(stored[0]!.tokenHash).toBe(
        createHash('sha256').update(body.refreshToken).digest('hex'),
      );
      expect(stored[0]!.expiresAt.getTime() - Date.now()).toBeGreaterThan(29 * 24 * 3600 * 1000);

      const row = await app.db
        .selectFrom('users')
        .select('lastLoginAt')
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      expect(row.lastLoginAt).not.toBeNull();
      expect((await me(body.accessToken)).json()).toMatchObject({
        id: user.id,
        tenant: { id: tenant.id },
      });
    });

    it('answers a wrong password and an unknown email with the same 401', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      const wrongPassword = await postLogin(user.email, 'not the password');
      const unknownEmail = await postLogin('nobody@example.test', 'not the password');
      expect(wrongPassword.statusCode).toBe(401);
      expect(unknownEmail.statusCode).toBe(401);
      expect(wrongPassword.json()).toEqual(unknownEmail.json());
      expect(wrongPassword.json().error.code).toBe('INVALID_CREDENTIALS');
    });

    it('refuses a disabled user, and tells them so only when the password is right', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      await app.db
        .updateTable('users')
        .set({ status: 'disabled' })
        .where('id', '=', user.id)
        .execute();
      const right = await postLogin(user.email, TEST_PASSWORD);
      expect(right.statusCode).toBe(403);
      expect(right.json().error.code).toBe('ACCOUNT_DISABLED');
      const wrong = await postLogin(user.email, 'not the password');
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error.code).toBe('INVALID_CREDENTIALS');
    });

    it('refuses a user who has no password yet', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      await app.db
        .updateTable('users')
        .set({ passwordHash: null })
        .where('id', '=', user.id)
        .execute();
      const res = await postLogin(user.email, TEST_PASSWORD);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('INVALID_CREDENTIALS');
    });

    it('refuses the users of a suspended tenant', async () => {
      const suspended = await createTenant(app.db);
      const user = await createUser(app.db, suspended.id, 'tenant_admin');
      await app.db
        .updateTable('tenants')
        .set({ status: 'suspended' })
        .where('id', '=', suspended.id)
        .execute();
      const res = await postLogin(user.email, TEST_PASSWORD);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('TENANT_SUSPENDED');
    });

    it('takes the email in any letter case', async () => {
      const user = await createUser(app.db, tenant.id, 'supervisor');
      const res = await postLogin(user.email.toUpperCase(), TEST_PASSWORD);
      expect(res.statusCode).toBe(200);
      expect(res.json().user.id).toBe(user.id);
    });

    it('names missing and unknown fields in a 400', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'a@example.test', extra: 1 },
        remoteAddress: randomIp(),
      });
      expect(res.statusCode).toBe(400);
      const fields = res
        .json()
        .error.details.map((d: { field: string }) => d.field)
        .sort();
      expect(fields).toEqual(['extra', 'password']);
    });

    it('logs in every seeded demo user with the demo password', async () => {
      await seedDemo(app.db);
      for (const demo of [PLATFORM_ADMIN, ...DEMO_LOGINS]) {
        const session = await login(app, demo.email, DEMO_PASSWORD);
        expect(session.user).toMatchObject({ email: demo.email, role: demo.role });
      }
    });

    it('logs in a platform admin, who has no tenant', async () => {
      const admin = await createUser(app.db, null, 'platform_admin');
      const session = await login(app, admin.email);
      expect(session.user).toMatchObject({ tenantId: null, role: 'platform_admin' });
      const res = await me(session.accessToken);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: admin.id, tenantId: null, tenant: null });
    });
  });

  describe('refresh', () => {
    it('rotates: answers a new refresh token in the same session and retires the old one', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      const first = await login(app, user.email);
      const res = await postRefresh(first.refreshToken);
      expect(res.statusCode).toBe(200);
      const second = res.json<Session>();
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(decodeJwt(second.accessToken).sid).toBe(decodeJwt(first.accessToken).sid);
      expect((await me(second.accessToken)).statusCode).toBe(200);

      const third = await postRefresh(second.refreshToken);
      expect(third.statusCode).toBe(200);
      const rows = await app.db
        .selectFrom('refreshTokens')
        .select(['rotatedAt', 'revokedAt'])
        .where('userId', '=', user.id)
        .orderBy('id')
        .execute();
      expect(rows.map((r) => [r.rotatedAt !== null, r.revokedAt !== null])).toEqual([
        [true, false],
        [true, false],
        [false, false],
      ]);
    });

    it('takes the role the user has now, not the one they logged in with', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      const session = await login(app, user.email);
      await app.db
        .updateTable('users')
        .set({ role: 'supervisor' })
        .where('id', '=', user.id)
        .execute();
      const res = await postRefresh(session.refreshToken);
      expect(res.json().user.role).toBe('supervisor');
      expect(decodeJwt(res.json().accessToken).role).toBe('supervisor');
    });

    it('ends the whole session when a rotated refresh token is used again, access tokens included', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      const first = await login(app, user.email);
      const second = (await postRefresh(first.refreshToken)).json<Session>();
      expect((await me(second.accessToken)).statusCode).toBe(200);

      // Someone replays the first token (a stolen copy, say).
      const replay = await postRefresh(first.refreshToken);
      expect(replay.statusCode).toBe(401);
      expect(replay.json().error.code).toBe('REFRESH_TOKEN_REUSED');

      // The legitimate holder's tokens of that session are all dead now.
      const next = await postRefresh(second.refreshToken);
      expect(next.statusCode).toBe(401);
      expect(next.json().error.code).toBe('SESSION_REVOKED');
      for (const token of [first.accessToken, second.accessToken]) {
        const res = await me(token);
        expect(res.statusCode).toBe(401);
        expect(res.json().error.code).toBe('UNAUTHENTICATED');
      }
      const rows = await app.db
        .selectFrom('refreshTokens')
        .select(['revokedAt', 'revokedReason'])
        .where('userId', '=', user.id)
        .execute();
      expect(rows.every((r) => r.revokedAt !== null && r.revokedReason === 'reuse')).toBe(true);
    });

    it('refuses that session on a replica that never saw the revocation (it asks the database)', async () => {
      const other = await buildTestApp();
      try {
        const user = await createUser(app.db, tenant.id, 'agent');
        const first = await login(app, user.email);
        await postRefresh(first.refreshToken);
        await postRefresh(first.refreshToken);
        const res = await other.inject({
          url: '/api/v1/auth/me',
          headers: bearer(first.accessToken),
        });
        expect(res.statusCode).toBe(401);
      } finally {
        await other.close();
      }
    });

    it('lets exactly one of two concurrent refreshes with the same token succeed', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      const session = await login(app, user.email);
      const results = await Promise.all([
        postRefresh(session.refreshToken),
        postRefresh(session.refreshToken),
      ]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
      const rotations = await app.db
        .selectFrom('refreshTokens')
        .select('id')
        .where('userId', '=', user.id)
        .execute();
      // The login's token and exactly one successor.
      expect(rotations).toHaveLength(2);
    });

    it('refuses an unknown and an expired refresh token', async () => {
      const unknown = await postRefresh('x'.repeat(43));
      expect(unknown.statusCode).toBe(401);
      expect(unknown.json().error.code).toBe('INVALID_REFRESH_TOKEN');

      const user = await createUser(app.db, tenant.id, 'agent');
      const session = await login(app, user.email);
      await app.db
        .updateTable('refreshTokens')
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where('userId', '=', user.id)
        .execute();
      const expired = await postRefresh(session.refreshToken);
      expect(expired.statusCode).toBe(401);
      expect(expired.json().error.code).toBe('REFRESH_TOKEN_EXPIRED');
    });

    it('ends the session of a user who was disabled meanwhile', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      const session = await login(app, user.email);
      await app.db
        .updateTable('users')
        .set({ status: 'disabled' })
        .where('id', '=', user.id)
        .execute();
      const res = await postRefresh(session.refreshToken);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('ACCOUNT_DISABLED');
      expect((await me(session.accessToken)).statusCode).toBe(401);
    });
  });

  describe('logout', () => {
    it('ends the session on the server: its access and refresh tokens are refused right after', async () => {
      const user = await createUser(app.db, tenant.id, 'helpdesk');
      const session = await login(app, user.email);
      const other = await login(app, user.email);
      expect((await me(session.accessToken)).statusCode).toBe(200);

      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(session.accessToken),
      });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expect((await me(session.accessToken)).statusCode).toBe(401);
      expect((await postRefresh(session.refreshToken)).statusCode).toBe(401);
      // Another session of the same user (another device) goes on.
      expect((await me(other.accessToken)).statusCode).toBe(200);
    });

    it('needs a token', async () => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/logout' });
      expect(res.statusCode).toBe(401);
    });
  });

  describe('me', () => {
    it('answers every role, with the tenant’s flags', async () => {
      await app.db
        .updateTable('tenants')
        .set({ featureFlags: JSON.stringify({ chat: true }) })
        .where('id', '=', tenant.id)
        .execute();
      for (const role of ['tenant_admin', 'supervisor', 'agent', 'helpdesk'] as const) {
        const user = await createUser(app.db, tenant.id, role);
        const res = await me(await tokenFor(app, user));
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({
          id: user.id,
          role,
          tenant: { id: tenant.id, featureFlags: { chat: true } },
        });
      }
    });
  });

  describe('throttling', () => {
    // The limiters count in fixed windows (a minute; 15 minutes for accounts, which also turn
    // on the minute): a test that straddles a turn would see its counts start over.
    beforeEach(async () => {
      const left = 60_000 - (Date.now() % 60_000);
      if (left < 15_000) await new Promise((r) => setTimeout(r, left + 50));
    });

    it('answers 429 with Retry-After after 10 attempts a minute from one address', async () => {
      const ip = randomIp();
      for (let i = 0; i < 10; i++) {
        const res = await postLogin(`someone-${i}@example.test`, 'wrong password', ip);
        expect(res.statusCode).toBe(401);
      }
      const user = await createUser(app.db, tenant.id, 'agent');
      const limited = await postLogin(user.email, TEST_PASSWORD, ip);
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error.code).toBe('RATE_LIMITED');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);

      // Another address is not held back.
      expect((await postLogin(user.email, TEST_PASSWORD)).statusCode).toBe(200);
    });

    it('answers 429 with Retry-After after 5 failed attempts on one account, from any address', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      const bystander = await createUser(app.db, tenant.id, 'agent');
      for (let i = 0; i < 5; i++) {
        expect((await postLogin(user.email, `guess ${i}`)).statusCode).toBe(401);
      }
      // Even the right password, from a new address, waits now.
      const limited = await postLogin(user.email.toUpperCase(), TEST_PASSWORD);
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error.code).toBe('RATE_LIMITED');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);

      expect((await postLogin(bystander.email, TEST_PASSWORD)).statusCode).toBe(200);
    });

    it('keeps both counts across a control-plane restart (they live in MySQL)', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      const ip = randomIp();
      for (let i = 0; i < 5; i++) expect((await postLogin(user.email, `guess ${i}`, ip)).statusCode).toBe(401);
      // A new process on the same database: the account is still held back, from any address…
      const restarted = await buildTestApp();
      try {
        const login = (email: string, password: string, from: string) =>
          restarted.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress: from });
        const held = await login(user.email, TEST_PASSWORD, randomIp());
        expect(held.statusCode).toBe(429);
        expect(Number(held.headers['retry-after'])).toBeGreaterThan(0);
        // …and the address has 5 of its 10 attempts a minute left, not a fresh 10.
        const statuses = [];
        for (let i = 0; i < 6; i++) statuses.push((await login(`nobody-${i}@example.test`, 'wrong', ip)).statusCode);
        expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      } finally {
        await restarted.close();
      }
    });

    it('counts parallel guesses before checking them, so a burst cannot slip past', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => postLogin(user.email, `parallel guess ${i}`)),
      );
      const statuses = results.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    });

    it('throttles the client behind a trusted proxy by X-Forwarded-For, and ignores it otherwise', async () => {
      const proxy = randomIp();
      const behind = await buildTestApp({ trustProxy: [proxy], loginRateLimitPerMinute: 3 });
      try {
        const viaProxy = (client: string, from = proxy) =>
          behind.inject({
            method: 'POST',
            url: '/api/v1/auth/login',
            payload: { email: `nobody-${randomIp()}@example.test`, password: 'wrong password' },
            remoteAddress: from,
            headers: { 'x-forwarded-for': client },
          });
        const [first, second] = [randomIp(), randomIp()];
        const statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await viaProxy(first)).statusCode);
        expect(statuses).toEqual([401, 401, 401, 429]);
        // Another client behind the same proxy has its own allowance.
        expect((await viaProxy(second)).statusCode).toBe(401);
        // From an address that is not the proxy, the header is not believed: the limit is the
        // sender's own, whatever address it claims.
        const direct = randomIp();
        const forged = [];
        for (let i = 0; i < 4; i++) forged.push((await viaProxy(randomIp(), direct)).statusCode);
        expect(forged).toEqual([401, 401, 401, 429]);
      } finally {
        await behind.close();
      }
    });

    it('does not count successful logins against the account', async () => {
      const user = await createUser(app.db, tenant.id, 'agent');
      for (let i = 0; i < 7; i++) {
        expect((await postLogin(user.email, TEST_PASSWORD)).statusCode).toBe(200);
      }
    });
  });
});
