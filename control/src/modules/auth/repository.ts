/**
 * Refresh tokens, grouped in families: a login starts a family (the session), every refresh
 * rotates to a new token in the same family. A family with any revoked token is over.
 */
import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { RefreshTokenTable } from '../../db/schema.ts';

export type RefreshTokenRow = Selectable<RefreshTokenTable>;

export type RevokedReason = 'logout' | 'reuse' | 'user_changed' | 'tenant_suspended' | 'refused';

export async function insert(
  db: Executor,
  values: {
    userId: number;
    familyId: string;
    tokenHash: string;
    expiresAt: Date;
    userAgent: string | null;
    ip: string | null;
  },
): Promise<void> {
  await db.insertInto('refreshTokens').values(values).execute();
}

/** The token's row, locked until the transaction ends, so one token is rotated once. */
export async function findByHashForUpdate(
  db: Executor,
  tokenHash: string,
): Promise<RefreshTokenRow | undefined> {
  return db
    .selectFrom('refreshTokens')
    .selectAll()
    .where('tokenHash', '=', tokenHash)
    .forUpdate()
    .executeTakeFirst();
}

export async function markRotated(db: Executor, id: number): Promise<void> {
  await db
    .updateTable('refreshTokens')
    .set({ rotatedAt: new Date() })
    .where('id', '=', id)
    .execute();
}

export async function revokeFamilies(
  db: Executor,
  familyIds: readonly string[],
  reason: RevokedReason,
): Promise<void> {
  if (familyIds.length === 0) return;
  await db
    .updateTable('refreshTokens')
    .set({ revokedAt: new Date(), revokedReason: reason })
    .where('familyId', 'in', familyIds)
    .where('revokedAt', 'is', null)
    .execute();
}

/** Families of the user's sessions that are still open. */
export async function openFamiliesOfUser(db: Executor, userId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('refreshTokens')
    .select('familyId')
    .distinct()
    .where('userId', '=', userId)
    .where('revokedAt', 'is', null)
    .where('expiresAt', '>', new Date())
    .execute();
  return rows.map((r) => r.familyId);
}

/** Families of open sessions of every user of the tenant. */
export async function openFamiliesOfTenant(db: Executor, tenantId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('refreshTokens')
    .innerJoin('users', 'users.id', 'refreshTokens.userId')
    .select('refreshTokens.familyId')
    .distinct()
    .where('users.tenantId', '=', tenantId)
    .where('refreshTokens.revokedAt', 'is', null)
    .where('refreshTokens.expiresAt', '>', new Date())
    .execute();
  return rows.map((r) => r.familyId);
}

export async function isFamilyRevoked(db: Executor, familyId: string): Promise<boolean> {
  const row = await db
    .selectFrom('refreshTokens')
    .select('id')
    .where('familyId', '=', familyId)
    .where('revokedAt', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
