/**
 * Tenants, for platform admins: create (optionally with the first admin's invite, in the same
 * transaction), read, change limits, feature flags and status. Suspending a tenant ends every
 * session of its users; they cannot log in again until it is active.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Updateable } from 'kysely';
import { toJson } from '../../db/json.ts';
import type { TenantTable } from '../../db/schema.ts';
import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { translateDbErrors } from '../../lib/db-errors.ts';
import { AppError, createError } from '../../lib/errors.ts';
import type { ListQuery, Page } from '../../lib/pagination.ts';
import { forget, revokeTenantSessions } from '../auth/service.ts';
import { createInvite, publicOrigin } from '../invites/service.ts';
import * as repo from './repository.ts';
import {
  toTenant,
  type CreatedTenant,
  type NewTenant,
  type Tenant,
  type TenantPatch,
} from './schemas.ts';

export const tenantNotFound = createError('TENANT_NOT_FOUND', 'Tenant %s not found', 404);

const slugTaken = { field: 'slug', message: 'Another tenant has this slug', code: 'SLUG_TAKEN' };

/** The IANA name as the runtime spells it (`europe/london` → `Europe/London`), or a 400. */
export function canonicalTimezone(name: string): string {
  try {
    // Offsets such as "+01:00" are not zones; Intl refuses them on Node 20, this keeps it so.
    if (!/^[A-Za-z]/.test(name)) throw new RangeError();
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new AppError('VALIDATION_FAILED', 'Invalid body', 400, [
      { field: 'timezone', message: `"${name}" is not an IANA time zone, like Europe/London` },
    ]);
  }
}

export async function create(
  app: FastifyInstance,
  request: FastifyRequest,
  input: NewTenant,
): Promise<CreatedTenant> {
  const timezone = input.timezone === undefined ? undefined : canonicalTimezone(input.timezone);
  const origin = publicOrigin(app, request);
  return app.db.transaction().execute(async (trx) => {
    const id = await translateDbErrors(
      () =>
        repo.insert(trx, {
          name: input.name.trim(),
          slug: input.slug,
          ...(timezone ? { timezone } : {}),
          ...(input.status ? { status: input.status } : {}),
          ...input.limits,
          featureFlags: toJson(input.featureFlags ?? {}),
        }),
      slugTaken,
    );
    const row = await repo.findById(trx, id);
    if (!row) throw tenantNotFound(id);
    const tenant = toTenant(row);
    await audit(trx, request, {
      action: 'tenant.create',
      entityType: 'tenant',
      entityId: id,
      tenantId: id,
      after: tenant,
    });
    const adminInvite = input.admin
      ? await createInvite(trx, request, origin, id, { ...input.admin, role: 'tenant_admin' })
      : null;
    return { ...tenant, adminInvite };
  });
}

export async function list(
  app: FastifyInstance,
  query: ListQuery & repo.TenantFilters,
): Promise<Page<Tenant>> {
  const page = await repo.list(app.db, query);
  return { items: page.items.map(toTenant), nextCursor: page.nextCursor };
}

export async function get(app: FastifyInstance, id: number): Promise<Tenant> {
  const row = await repo.findById(app.db, id);
  if (!row) throw tenantNotFound(id);
  return toTenant(row);
}

export async function update(
  app: FastifyInstance,
  request: FastifyRequest,
  id: number,
  expectedVersion: number,
  patch: Omit<TenantPatch, 'version'>,
): Promise<Tenant> {
  const changes: Updateable<TenantTable> = { ...patch.limits };
  if (patch.name !== undefined) changes.name = patch.name.trim();
  if (patch.slug !== undefined) changes.slug = patch.slug;
  if (patch.timezone !== undefined) changes.timezone = canonicalTimezone(patch.timezone);
  if (patch.status !== undefined) changes.status = patch.status;
  if (patch.featureFlags !== undefined) changes.featureFlags = toJson(patch.featureFlags);
  if (patch.dialing?.homeCountryCode !== undefined) changes.homeCountryCode = patch.dialing.homeCountryCode;
  if (patch.dialing?.allowedPrefixes !== undefined) changes.outboundAllowedPrefixes = toJson(patch.dialing.allowedPrefixes);

  const { tenant, endedSessions } = await app.db.transaction().execute(async (trx) => {
    const before = await repo.lockForUpdate(trx, id);
    if (!before) throw tenantNotFound(id);
    if (before.version !== expectedVersion) throw versionConflict(before.version);
    if (Object.keys(changes).length === 0) return { tenant: toTenant(before), endedSessions: [] };

    await translateDbErrors(() => repo.update(trx, id, before.version, changes), slugTaken);
    const suspended = changes.status === 'suspended' && before.status !== 'suspended';
    const endedSessions = suspended ? await revokeTenantSessions(trx, id, 'tenant_suspended') : [];
    const row = await repo.findById(trx, id);
    if (!row) throw tenantNotFound(id);
    await audit(trx, request, {
      action: suspended ? 'tenant.suspend' : 'tenant.update',
      entityType: 'tenant',
      entityId: id,
      tenantId: id,
      before: toTenant(before),
      after: toTenant(row),
    });
    return { tenant: toTenant(row), endedSessions };
  });
  forget(app, endedSessions);
  return tenant;
}
