/**
 * Access tokens: the JWKS serves the key they are signed with, and every kind of forged,
 * altered or stale token is refused.
 */
import { createHmac, randomUUID } from 'node:crypto';
import {
  SignJWT,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JWK,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJson } from '../../control/src/db/json.ts';
import { buildTestApp } from '../support/app.ts';
import { bearer, createTenant, createUser, tokenFor, type TestUser } from '../support/fixtures.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('access tokens', () => {
  let app: App;
  let user: TestUser;
  let good: string;
  let kid: string;
  let privateJwk: JWK;
  let publicJwk: JWK;

  beforeAll(async () => {
    app = await buildTestApp();
    const tenant = await createTenant(app.db);
    user = await createUser(app.db, tenant.id, 'agent');
    good = await tokenFor(app, user);
    kid = decodeProtectedHeader(good).kid!;
    const key = await app.db
      .selectFrom('signingKeys')
      .selectAll()
      .where('kid', '=', kid)
      .executeTakeFirstOrThrow();
    privateJwk = fromJson<JWK>(key.privateJwk, {});
    publicJwk = fromJson<JWK>(key.publicJwk, {});
  });

  afterAll(async () => {
    await app.close();
  });

  const me = (token: string) => app.inject({ url: '/api/v1/auth/me', headers: bearer(token) });
  const claims = () => ({
    sub: String(user.id),
    tid: user.tenantId,
    role: user.role,
    sid: randomUUID(),
    iss: 'calldock',
    aud: 'calldock-api',
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 600,
  });

  async function expectRefused(token: string) {
    const res = await me(token);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
    return res.json().error.message as string;
  }

  describe('JWKS', () => {
    it('serves the kid of issued tokens at both addresses, without private parts', async () => {
      for (const url of ['/.well-known/jwks.json', '/api/v1/auth/jwks']) {
        const res = await app.inject({ url });
        expect(res.statusCode).toBe(200);
        expect(res.headers['cache-control']).toContain('max-age');
        const { keys } = res.json<{ keys: JWK[] }>();
        const served = keys.find((k) => k.kid === kid);
        expect(served).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
        expect(keys.every((k) => k.d === undefined)).toBe(true);
      }
    });

    it('verifies an issued token with the served key set alone', async () => {
      const jwks = (await app.inject({ url: '/.well-known/jwks.json' })).json();
      const { payload, protectedHeader } = await jwtVerify(good, createLocalJWKSet(jwks), {
        issuer: 'calldock',
        audience: 'calldock-api',
      });
      expect(protectedHeader).toMatchObject({ alg: 'ES256', kid });
      expect(payload).toMatchObject({ sub: String(user.id), role: 'agent' });
    });
  });

  describe('refused', () => {
    it('accepts the genuine token (the control for what follows)', async () => {
      expect((await me(good)).statusCode).toBe(200);
    });

    it('refuses an expired token signed with the real key', async () => {
      const key = await importJWK(privateJwk, 'ES256');
      const past = Math.floor(Date.now() / 1000) - 3600;
      const token = await new SignJWT({ ...claims(), iat: past - 900, exp: past })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .sign(key);
      expect(await expectRefused(token)).toMatch(/expired/);
    });

    it('refuses a token whose payload was altered', async () => {
      const [header, payload, signature] = good.split('.') as [string, string, string];
      const raised = b64({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
        role: 'tenant_admin',
      });
      await expectRefused(`${header}.${raised}.${signature}`);
      // One flipped character is enough.
      const flipped = payload.slice(0, 10) + (payload[10] === 'A' ? 'B' : 'A') + payload.slice(11);
      await expectRefused(`${header}.${flipped}.${signature}`);
    });

    it('refuses an unsigned token (alg: none)', async () => {
      await expectRefused(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`);
      await expectRefused(`${b64({ alg: 'none', kid, typ: 'JWT' })}.${b64(claims())}.`);
    });

    it('refuses a token signed with another key that claims the real kid', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .sign(privateKey);
      await expectRefused(token);
    });

    it('refuses HS256 tokens keyed with the public key (algorithm confusion)', async () => {
      const pem = await exportSPKI((await importJWK(publicJwk, 'ES256')) as CryptoKey);
      for (const secret of [pem, JSON.stringify(publicJwk)]) {
        const signingInput = `${b64({ alg: 'HS256', kid, typ: 'JWT' })}.${b64(claims())}`;
        const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
        await expectRefused(`${signingInput}.${signature}`);
      }
    });

    it('refuses tokens for another issuer or audience, and garbage', async () => {
      const key = await importJWK(privateJwk, 'ES256');
      for (const override of [{ iss: 'someone-else' }, { aud: 'another-api' }]) {
        const token = await new SignJWT({ ...claims(), ...override })
          .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
          .sign(key);
        await expectRefused(token);
      }
      await expectRefused('not.a.jwt');
      const missing = await app.inject({ url: '/api/v1/auth/me' });
      expect(missing.statusCode).toBe(401);
      const basic = await app.inject({
        url: '/api/v1/auth/me',
        headers: { authorization: `Basic ${good}` },
      });
      expect(basic.statusCode).toBe(401);
    });
  });
});
