/**
 * Users of a tenant. People join through invites (modules/invites), so there is no create here;
 * admins change roles, extensions and status.
 *
 * Nobody is deleted: CDRs, audit rows and queue history point at users, and they must keep their
 * names. DELETE disables instead (the login stops working and its sessions end at once, and the
 * user's phone leaves Asterisk). A user that calls are still routed to (a DID, an IVR option, a
 * queue's overflow) cannot be disabled until those routes point elsewhere: 409 IN_USE names them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Updateable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { UserTable } from '../../db/schema.ts';
import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { translateDbErrors } from '../../lib/db-errors.ts';
import { AppError, createError } from '../../lib/errors.ts';
import type { ListQuery, Page } from '../../lib/pagination.ts';
import { forget, revokeUserSessions } from '../auth/service.ts';
import { findReferences, inUse } from '../routing/targets.ts';
import * as tenants from '../tenants/repository.ts';
import * as repo from './repository.ts';
import { toUser, type User, type UserPatch } from './schemas.ts';

export const userNotFound = createError('USER_NOT_FOUND', 'User %s not found', 404);

export const limitReached = (max: number) =>
  new AppError(
    'LIMIT_REACHED',
    `The tenant may have at most ${max} active agents; disable one or ask for a higher limit`,
    409,
    { limit: 'maxAgents', max },
  );

/**
 * Throws unless the tenant has a free agent seat. Locks the tenant row first, so concurrent
 * changes in the same tenant take turns and cannot both take the last seat.
 */
export async function assertAgentSeat(trx: Executor, tenantId: number): Promise<void> {
  const tenant = await tenants.lockForUpdate(trx, tenantId);
  if (!tenant) throw new AppError('TENANT_NOT_FOUND', `Tenant ${tenantId} not found`, 404);
  if ((await repo.countActive(trx, tenantId, 'agent')) >= tenant.maxAgents) {
    throw limitReached(tenant.maxAgents);
  }
}

export async function list(
  app: FastifyInstance,
  tenantId: number,
  query: ListQuery & repo.UserFilters,
): Promise<Page<User>> {
  const page = await repo.list(app.db, tenantId, query);
  return { items: page.items.map(toUser), nextCursor: page.nextCursor };
}

export async function get(app: FastifyInstance, tenantId: number, id: number): Promise<User> {
  const row = await repo.findById(app.db, tenantId, id);
  if (!row) throw userNotFound(id);
  return toUser(row);
}

const isActiveAs = (u: { role: string; status: string }, role: string) =>
  u.role === role && u.status === 'active';

export async function update(
  app: FastifyInstance,
  request: FastifyRequest,
  tenantId: number,
  id: number,
  expectedVersion: number,
  patch: Omit<UserPatch, 'version'>,
  action = 'user.update',
): Promise<User> {
  // The user's endpoint in Asterisk follows the change (disabled: removed; renamed: caller ID).
  const { user, endedSessions } = await app.endpoints.changeUser(tenantId, id, async (trx) => {
    // Lock order everywhere: tenant row, then user rows.
    await tenants.lockForUpdate(trx, tenantId);
    const before = await repo.findById(trx, tenantId, id);
    if (!before) throw userNotFound(id);
    if (before.version !== expectedVersion) throw versionConflict(before.version);

    const changes: Updateable<UserTable> = {};
    if (patch.displayName !== undefined) changes.displayName = patch.displayName.trim();
    if (patch.role !== undefined) changes.role = patch.role;
    if (patch.extension !== undefined) changes.extension = patch.extension;
    if (patch.status !== undefined) changes.status = patch.status;
    if (patch.outboundAllowed !== undefined)
      changes.outboundAllowed = patch.outboundAllowed ? 1 : 0;
    if (Object.keys(changes).length === 0) return { user: toUser(before), endedSessions: [] };
    const after = { role: changes.role ?? before.role, status: changes.status ?? before.status };

    if (isActiveAs(before, 'tenant_admin') && !isActiveAs(after, 'tenant_admin')) {
      if ((await repo.countActive(trx, tenantId, 'tenant_admin')) <= 1) {
        throw new AppError(
          'LAST_ADMIN',
          'This is the last active tenant admin; make someone else admin first',
          409,
        );
      }
    }
    if (after.status === 'disabled' && before.status !== 'disabled') {
      const refs = await findReferences(trx, tenantId, 'user', id);
      if (refs.length) throw inUse(`User ${before.displayName}`, refs);
    }
    if (isActiveAs(after, 'agent') && !isActiveAs(before, 'agent')) {
      await assertAgentSeat(trx, tenantId);
    }

    const written = await translateDbErrors(
      () => repo.update(trx, tenantId, id, before.version, changes),
      {
        field: 'extension',
        message: 'Another user of this tenant has this extension',
        code: 'EXTENSION_TAKEN',
      },
    );
    if (!written) throw versionConflict(before.version + 1);

    // A role change or a disabled account ends the user's sessions: their access tokens carry
    // the old role, and a disabled person must be out now, not when the token expires.
    const roleChanged = after.role !== before.role;
    const disabled = after.status === 'disabled' && before.status !== 'disabled';
    const endedSessions =
      roleChanged || disabled ? await revokeUserSessions(trx, id, 'user_changed') : [];

    const row = await repo.findById(trx, tenantId, id);
    if (!row) throw userNotFound(id);
    await audit(trx, request, {
      action,
      entityType: 'user',
      entityId: id,
      tenantId,
      before: toUser(before),
      after: toUser(row),
    });
    return { user: toUser(row), endedSessions };
  });
  forget(app, endedSessions);
  return user;
}
