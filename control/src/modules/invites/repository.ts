import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { InviteTable } from '../../db/schema.ts';
import { paginate, type ListQuery, type Page } from '../../lib/pagination.ts';
import { likeContains } from '../../lib/search.ts';

export type InviteRow = Selectable<InviteTable>;
export type InviteStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

export interface InviteFilters {
  status?: InviteStatus | undefined;
  q?: string | undefined;
}

const SORTABLE = { createdAt: 'createdAt', email: 'email', expiresAt: 'expiresAt', id: 'id' };

export function statusOf(row: InviteRow, now = new Date()): InviteStatus {
  if (row.acceptedAt) return 'accepted';
  if (row.revokedAt) return 'revoked';
  return row.expiresAt <= now ? 'expired' : 'pending';
}

export async function insert(
  db: Executor,
  values: Pick<
    InviteRow,
    'tenantId' | 'email' | 'displayName' | 'role' | 'tokenHash' | 'invitedBy' | 'expiresAt'
  >,
): Promise<number> {
  const result = await db.insertInto('invites').values(values).executeTakeFirstOrThrow();
  return Number(result.insertId);
}

export async function findById(
  db: Executor,
  tenantId: number,
  id: number,
): Promise<InviteRow | undefined> {
  return db
    .selectFrom('invites')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** By its token's hash: the only way in for someone who holds a link (any tenant). */
export async function findByTokenHash(
  db: Executor,
  tokenHash: string,
  lock = false,
): Promise<InviteRow | undefined> {
  const q = db.selectFrom('invites').selectAll().where('tokenHash', '=', tokenHash);
  return (lock ? q.forUpdate() : q).executeTakeFirst();
}

export async function list(
  db: Executor,
  tenantId: number,
  query: ListQuery & InviteFilters,
): Promise<Page<InviteRow>> {
  const now = new Date();
  let q = db.selectFrom('invites').selectAll().where('tenantId', '=', tenantId);
  switch (query.status) {
    case 'accepted':
      q = q.where('acceptedAt', 'is not', null);
      break;
    case 'revoked':
      q = q.where('acceptedAt', 'is', null).where('revokedAt', 'is not', null);
      break;
    case 'expired':
      q = q
        .where('acceptedAt', 'is', null)
        .where('revokedAt', 'is', null)
        .where('expiresAt', '<=', now);
      break;
    case 'pending':
      q = q
        .where('acceptedAt', 'is', null)
        .where('revokedAt', 'is', null)
        .where('expiresAt', '>', now);
      break;
  }
  if (query.q) {
    const pattern = likeContains(query.q);
    q = q.where((eb) => eb.or([eb('email', 'like', pattern), eb('displayName', 'like', pattern)]));
  }
  return paginate(q, query, SORTABLE, 'invites');
}

/** Revokes the tenant's pending invites for `email`; answers their ids. */
export async function revokePendingFor(
  db: Executor,
  tenantId: number,
  email: string,
): Promise<number[]> {
  const rows = await db
    .selectFrom('invites')
    .select('id')
    .where('tenantId', '=', tenantId)
    .where('email', '=', email)
    .where('acceptedAt', 'is', null)
    .where('revokedAt', 'is', null)
    .execute();
  const ids = rows.map((r) => r.id);
  if (ids.length > 0) {
    await db.updateTable('invites').set({ revokedAt: new Date() }).where('id', 'in', ids).execute();
  }
  return ids;
}

export async function markRevoked(db: Executor, tenantId: number, id: number): Promise<void> {
  await db
    .updateTable('invites')
    .set({ revokedAt: new Date() })
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

export async function markAccepted(db: Executor, id: number): Promise<void> {
  await db.updateTable('invites').set({ acceptedAt: new Date() }).where('id', '=', id).execute();
}
