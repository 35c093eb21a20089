/**
 * Invites: how people join a tenant. An admin creates one and gets a one-time link back (no mail
 * server needed: the admin passes it on); the invitee opens it and sets a password, which creates
 * their user. Only the token's hash is stored, so the link cannot be shown twice; a new invite
 * for the same email replaces a pending one (that is how a lost link is re-sent).
 *
 *   pending ──accept──► accepted
 *      ├──revoke / replaced──► revoked
 *      └──7 days──► expired
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Executor } from '../../db/database.ts';
import { audit } from '../../lib/audit.ts';
import { translateDbErrors } from '../../lib/db-errors.ts';
import { AppError, createError } from '../../lib/errors.ts';
import type { ListQuery, Page } from '../../lib/pagination.ts';
import { hashSecret, newSecret } from '../../lib/secrets.ts';
import { argon2Hash, sessionUser, type SessionUser } from '../auth/service.ts';
import * as tenants from '../tenants/repository.ts';
import * as users from '../users/repository.ts';
import { assertAgentSeat } from '../users/service.ts';
import { toUser } from '../users/schemas.ts';
import * as repo from './repository.ts';
import { toInvite, type CreatedInvite, type Invite, type NewInvite } from './schemas.ts';

export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;

const inviteNotFound = createError('INVITE_NOT_FOUND', 'Invite %s not found', 404);
const emailTaken = () =>
  new AppError('EMAIL_TAKEN', 'A user with this email already exists', 409, [
    { field: 'email', message: 'already belongs to a user' },
  ]);

/** Where people open the console: PUBLIC_URL, or the origin this request came to. */
export function publicOrigin(app: FastifyInstance, request: FastifyRequest): string {
  return app.config.publicUrl ?? `${request.protocol}://${request.host}`;
}

/**
 * Creates an invite inside the caller's transaction (also used when a tenant is created with
 * its first admin). Takes the tenant lock, so seat counts and email checks do not race.
 */
export async function createInvite(
  trx: Executor,
  request: FastifyRequest,
  origin: string,
  tenantId: number,
  invite: NewInvite,
): Promise<CreatedInvite> {
  const email = invite.email.trim().toLowerCase();
  if (!(await tenants.lockForUpdate(trx, tenantId))) {
    throw new AppError('TENANT_NOT_FOUND', `Tenant ${tenantId} not found`, 404);
  }
  if (await users.emailTaken(trx, email)) throw emailTaken();
  if (invite.role === 'agent') await assertAgentSeat(trx, tenantId);

  const replaced = await repo.revokePendingFor(trx, tenantId, email);
  const token = newSecret();
  const id = await repo.insert(trx, {
    tenantId,
    email,
    displayName: invite.displayName.trim(),
    role: invite.role,
    tokenHash: token.hash,
    invitedBy: request.auth?.userId ?? null,
    expiresAt: new Date(Date.now() + INVITE_TTL_MS),
  });
  const row = await repo.findById(trx, tenantId, id);
  if (!row) throw inviteNotFound(id);
  await audit(trx, request, {
    action: 'invite.create',
    entityType: 'invite',
    entityId: id,
    tenantId,
    after: { ...toInvite(row), replacedInviteIds: replaced },
  });
  return { ...toInvite(row), inviteUrl: `${origin}/invite/${token.secret}` };
}

export function create(
  app: FastifyInstance,
  request: FastifyRequest,
  tenantId: number,
  invite: NewInvite,
): Promise<CreatedInvite> {
  const origin = publicOrigin(app, request);
  return app.db
    .transaction()
    .execute((trx) => createInvite(trx, request, origin, tenantId, invite));
}

export async function list(
  app: FastifyInstance,
  tenantId: number,
  query: ListQuery & repo.InviteFilters,
): Promise<Page<Invite>> {
  const page = await repo.list(app.db, tenantId, query);
  return { items: page.items.map((row) => toInvite(row)), nextCursor: page.nextCursor };
}

export async function revoke(
  app: FastifyInstance,
  request: FastifyRequest,
  tenantId: number,
  id: number,
): Promise<void> {
  await app.db.transaction().execute(async (trx) => {
    await tenants.lockForUpdate(trx, tenantId);
    const before = await repo.findById(trx, tenantId, id);
    if (!before) throw inviteNotFound(id);
    if (before.acceptedAt) {
      throw new AppError(
        'INVITE_ALREADY_ACCEPTED',
        'This invite was accepted; disable the user instead',
        409,
      );
    }
    if (before.revokedAt) return;
    await repo.markRevoked(trx, tenantId, id);
    const after = await repo.findById(trx, tenantId, id);
    await audit(trx, request, {
      action: 'invite.revoke',
      entityType: 'invite',
      entityId: id,
      tenantId,
      before: toInvite(before),
      after: after ? toInvite(after) : undefined,
    });
  });
}

/** The invite if its link can still be used; otherwise the reason, as an error. */
function usable(row: repo.InviteRow | undefined): repo.InviteRow {
  if (!row) throw new AppError('INVITE_NOT_FOUND', 'This invite link is not valid', 404);
  switch (repo.statusOf(row)) {
    case 'accepted':
      throw new AppError('INVITE_USED', 'This invite link was already used; log in instead', 410);
    case 'revoked':
      throw new AppError('INVITE_REVOKED', 'This invite was withdrawn; ask for a new one', 410);
    case 'expired':
      throw new AppError('INVITE_EXPIRED', 'This invite link has expired; ask for a new one', 410);
    case 'pending':
      return row;
  }
}

/** The invitee sets a password: their user is created and the link is spent. */
export async function accept(
  app: FastifyInstance,
  request: FastifyRequest,
  token: string,
  password: string,
): Promise<SessionUser> {
  const tokenHash = hashSecret(token);
  const seen = usable(await repo.findByTokenHash(app.db, tokenHash));
  // argon2 is slow on purpose: hash before taking any lock.
  const passwordHash = await argon2Hash(password);

  return app.db.transaction().execute(async (trx) => {
    await tenants.lockForUpdate(trx, seen.tenantId);
    // Again under the lock: of two concurrent accepts, the second finds it used.
    const invite = usable(await repo.findByTokenHash(trx, tokenHash, true));
    if (await users.emailTaken(trx, invite.email)) throw emailTaken();
    if (invite.role === 'agent') await assertAgentSeat(trx, invite.tenantId);

    const userId = await translateDbErrors(
      () =>
        users.insert(trx, {
          tenantId: invite.tenantId,
          email: invite.email,
          displayName: invite.displayName,
          role: invite.role,
          passwordHash,
        }),
      { field: 'email', message: 'A user with this email already exists', code: 'EMAIL_TAKEN' },
    );
    await repo.markAccepted(trx, invite.id);
    const user = await users.findById(trx, invite.tenantId, userId);
    if (!user) throw new Error(`user ${userId} vanished inside its own transaction`);
    await audit(trx, request, {
      action: 'invite.accept',
      entityType: 'user',
      entityId: userId,
      tenantId: invite.tenantId,
      after: { ...toUser(user), inviteId: invite.id, invitedBy: invite.invitedBy },
    });
    return sessionUser(user);
  });
}
