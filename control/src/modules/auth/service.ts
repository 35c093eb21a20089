/**
 * Logins and sessions. A session is a refresh-token family: login starts one, refresh rotates
 * within it, logout or a reused token ends it. Access tokens carry the family id, so ending a
 * session refuses its access tokens at once (plugins/auth.ts asks `isFamilyRevoked`).
 *
 *   login ──► [token 1] ──refresh──► [token 2] ──refresh──► [token 3] ...
 *                 │ (rotated)            │ (rotated)
 *                 └── presented again ───┴──► whole family revoked (stolen copy or replay)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import type { FastifyInstance } from 'fastify';
import { inTransaction, type Executor } from '../../db/database.ts';
import type { Role } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';
import { hashSecret, newSecret } from '../../lib/secrets.ts';
import * as tenants from '../tenants/repository.ts';
import * as users from '../users/repository.ts';
import type { UserRow } from '../users/repository.ts';
import * as sessions from './repository.ts';
import type { RevokedReason } from './repository.ts';

export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;

export interface SessionUser {
  id: number;
  tenantId: number | null;
  role: Role;
  displayName: string;
  email: string;
}

export interface IssuedSession {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  user: SessionUser;
}

export interface ClientInfo {
  ip: string;
  userAgent: string | undefined;
}

/** Unknown email, wrong password, no password yet: one answer, so nobody learns which. */
export const invalidCredentials = () =>
  new AppError('INVALID_CREDENTIALS', 'Email or password is wrong', 401);
const invalidRefresh = (code: string, message: string) => new AppError(code, message, 401);

export function sessionUser(row: UserRow): SessionUser {
  return {
    id: row.id,
    tenantId: row.tenantId,
    role: row.role,
    displayName: row.displayName,
    email: row.email,
  };
}

export function argon2Hash(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

let dummyHash: Promise<string> | undefined;
/** A hash to verify against when there is no user, so both answers take as long. */
function timingDummy(): Promise<string> {
  dummyHash ??= argon2Hash(randomBytes(16).toString('hex'));
  return dummyHash;
}

export type LoginOutcome =
  | { ok: true; session: IssuedSession }
  /** The password was right, but the account may not log in now. */
  | { ok: false; error: AppError; passwordMatched: true }
  | { ok: false; error: AppError; passwordMatched: false };

async function canUseAccount(db: Executor, user: UserRow): Promise<AppError | undefined> {
  if (user.status !== 'active') {
    return new AppError(
      'ACCOUNT_DISABLED',
      'This account is disabled; ask your administrator',
      403,
    );
  }
  if (user.tenantId !== null) {
    const tenant = await tenants.findById(db, user.tenantId);
    if (!tenant || tenant.status !== 'active') {
      return new AppError('TENANT_SUSPENDED', 'This organisation is suspended', 403);
    }
  }
  return undefined;
}

async function startSession(
  app: FastifyInstance,
  user: UserRow,
  client: ClientInfo,
): Promise<IssuedSession> {
  const familyId = randomUUID();
  const refresh = newSecret();
  await sessions.insert(app.db, {
    userId: user.id,
    familyId,
    tokenHash: refresh.hash,
    expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS),
    userAgent: client.userAgent?.slice(0, 255) ?? null,
    ip: client.ip,
  });
  const access = await app.tokens.issueAccessToken({
    userId: user.id,
    tenantId: user.tenantId,
    role: user.role,
    sessionId: familyId,
  });
  return {
    accessToken: access.token,
    expiresIn: access.expiresIn,
    refreshToken: refresh.secret,
    user: sessionUser(user),
  };
}

export async function login(
  app: FastifyInstance,
  email: string,
  password: string,
  client: ClientInfo,
): Promise<LoginOutcome> {
  const user = await users.findByEmail(app.db, email);
  const hash = user?.passwordHash ?? (await timingDummy());
  const matched = await argon2.verify(hash, password).catch(() => false);
  if (!user || !user.passwordHash || !matched) {
    return { ok: false, error: invalidCredentials(), passwordMatched: false };
  }
  const refused = await canUseAccount(app.db, user);
  if (refused) return { ok: false, error: refused, passwordMatched: true };
  await users.touchLastLogin(app.db, user.id);
  return { ok: true, session: await startSession(app, user, client) };
}

type RefreshResult =
  | { kind: 'rotated'; user: UserRow; familyId: string; refreshToken: string }
  | { kind: 'refused'; error: AppError; revokedFamily?: string };

export async function refresh(
  app: FastifyInstance,
  refreshToken: string,
  client: ClientInfo,
): Promise<IssuedSession> {
  // The row lock makes the check-and-rotate atomic: of two concurrent refreshes with the same
  // token the second waits, then finds it rotated and is treated as reuse. (InnoDB sometimes
  // picks the waiting one as a deadlock's victim instead: it then runs again and finds the
  // token rotated all the same.)
  const result = await inTransaction(app.db, async (trx): Promise<RefreshResult> => {
    const row = await sessions.findByHashForUpdate(trx, hashSecret(refreshToken));
    if (!row) {
      return {
        kind: 'refused',
        error: invalidRefresh('INVALID_REFRESH_TOKEN', 'The refresh token is not valid'),
      };
    }
    const endFamily = async (reason: RevokedReason, error: AppError): Promise<RefreshResult> => {
      await sessions.revokeFamilies(trx, [row.familyId], reason);
      return { kind: 'refused', error, revokedFamily: row.familyId };
    };
    if (row.rotatedAt) {
      return endFamily(
        'reuse',
        invalidRefresh(
          'REFRESH_TOKEN_REUSED',
          'This refresh token was already used; the session has been ended. Log in again',
        ),
      );
    }
    if (row.revokedAt) {
      return endFamily(
        'reuse',
        invalidRefresh('SESSION_REVOKED', 'The session has ended; log in again'),
      );
    }
    if (row.expiresAt.getTime() <= Date.now()) {
      return {
        kind: 'refused',
        error: invalidRefresh('REFRESH_TOKEN_EXPIRED', 'The session has expired; log in again'),
      };
    }
    const user = await users.findByIdAnyTenant(trx, row.userId);
    const refused = user ? await canUseAccount(trx, user) : invalidCredentials();
    if (!user || refused) return endFamily('refused', refused ?? invalidCredentials());

    await sessions.markRotated(trx, row.id);
    const next = newSecret();
    await sessions.insert(trx, {
      userId: user.id,
      familyId: row.familyId,
      tokenHash: next.hash,
      expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS),
      userAgent: client.userAgent?.slice(0, 255) ?? null,
      ip: client.ip,
    });
    return { kind: 'rotated', user, familyId: row.familyId, refreshToken: next.secret };
  });

  if (result.kind === 'refused') {
    // Revoked only now that the transaction has committed: a rollback must not end a session.
    if (result.revokedFamily) {
      app.tokens.revokeSession(result.revokedFamily);
      app.log.warn(
        { familyId: result.revokedFamily, code: result.error.code },
        'refresh refused; session revoked',
      );
    }
    throw result.error;
  }
  // The role may have changed since login: the new access token says what it is now.
  const access = await app.tokens.issueAccessToken({
    userId: result.user.id,
    tenantId: result.user.tenantId,
    role: result.user.role,
    sessionId: result.familyId,
  });
  return {
    accessToken: access.token,
    expiresIn: access.expiresIn,
    refreshToken: result.refreshToken,
    user: sessionUser(result.user),
  };
}

export async function logout(app: FastifyInstance, sessionId: string): Promise<void> {
  await sessions.revokeFamilies(app.db, [sessionId], 'logout');
  app.tokens.revokeSession(sessionId);
}

/**
 * Ends every open session of a user inside the caller's transaction. Call `forget` with the
 * result after the commit, so access tokens stop working on this replica without waiting.
 */
export async function revokeUserSessions(
  trx: Executor,
  userId: number,
  reason: RevokedReason,
): Promise<string[]> {
  const families = await sessions.openFamiliesOfUser(trx, userId);
  await sessions.revokeFamilies(trx, families, reason);
  return families;
}

export async function revokeTenantSessions(
  trx: Executor,
  tenantId: number,
  reason: RevokedReason,
): Promise<string[]> {
  const families = await sessions.openFamiliesOfTenant(trx, tenantId);
  await sessions.revokeFamilies(trx, families, reason);
  return families;
}

export function forget(app: FastifyInstance, families: readonly string[]): void {
  for (const family of families) app.tokens.revokeSession(family);
}

export function isSessionRevoked(app: FastifyInstance, sessionId: string): Promise<boolean> {
  return sessions.isFamilyRevoked(app.db, sessionId);
}
