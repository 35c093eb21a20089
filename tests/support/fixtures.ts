/**
 * Test data written straight to the database, and tokens for it, so a test can set up "tenant A
 * with an admin and two agents" in a line without going through the API it is not testing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../control/src/db/database.ts';
import { toJson } from '../../control/src/db/json.ts';
import type { Role } from '../../control/src/db/schema.ts';

export const TEST_PASSWORD = 'correct horse battery staple';
let passwordHash: string | undefined;

const unique = () => randomBytes(4).toString('hex');

export interface TestTenant {
  id: number;
  slug: string;
}

export async function createTenant(
  db: Db,
  values: { name?: string; maxAgents?: number; timezone?: string } = {},
): Promise<TestTenant> {
  const slug = `t-${unique()}`;
  const result = await db
    .insertInto('tenants')
    .values({
      name: values.name ?? `Tenant ${slug}`,
      slug,
      featureFlags: toJson({}),
      ...(values.maxAgents !== undefined ? { maxAgents: values.maxAgents } : {}),
      ...(values.timezone ? { timezone: values.timezone } : {}),
    })
    .executeTakeFirstOrThrow();
  return { id: Number(result.insertId), slug };
}

export interface TestUser {
  id: number;
  tenantId: number | null;
  role: Role;
  email: string;
  extension: string | null;
}

export async function createUser(
  db: Db,
  tenantId: number | null,
  role: Role,
  values: { email?: string; extension?: string; displayName?: string } = {},
): Promise<TestUser> {
  passwordHash ??= await argon2.hash(TEST_PASSWORD, { type: argon2.argon2id });
  const email = values.email ?? `${role}-${unique()}@example.test`;
  const result = await db
    .insertInto('users')
    .values({
      tenantId,
      email,
      role,
      displayName: values.displayName ?? `${role} ${email}`,
      passwordHash,
      extension: values.extension ?? null,
    })
    .executeTakeFirstOrThrow();
  return { id: Number(result.insertId), tenantId, role, email, extension: values.extension ?? null };
}

/** A valid access token for the user, as login would issue (a fresh session each time). */
export async function tokenFor(app: FastifyInstance, user: TestUser): Promise<string> {
  const { token } = await app.tokens.issueAccessToken({
    userId: user.id,
    tenantId: user.tenantId,
    role: user.role,
    sessionId: randomUUID(),
  });
  return token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * A made-up client address (198.18.0.0/15, set aside for tests). Login is limited per address,
 * so a test that logs in often comes from addresses of its own.
 */
export const randomIp = () => `198.18.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

export interface Session {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  user: { id: number; tenantId: number | null; role: Role; displayName: string; email: string };
}

/** Logs in through the API (from a fresh address) and answers the session; throws on refusal. */
export async function login(
  app: FastifyInstance,
  email: string,
  password = TEST_PASSWORD,
): Promise<Session> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
    remoteAddress: randomIp(),
  });
  if (res.statusCode !== 200) {
    throw new Error(`login of ${email} answered ${res.statusCode}: ${res.body}`);
  }
  return res.json<Session>();
}
