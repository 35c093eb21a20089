/** What helpdesk services need: the database, the tenant, who acts, and where live updates go. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../../db/database.ts';
import type { Role } from '../../db/schema.ts';
import { requireAuth, tenantOf } from '../../plugins/auth.ts';
import type { RealtimeHub } from '../../plugins/realtime.ts';

export interface HelpdeskCtx {
  db: Db;
  tenantId: number;
  /** The acting user; null for the system (breach job, a widget form). */
  actorUserId: number | null;
  role: Role | null;
  hub: RealtimeHub | undefined;
  /** The request, for the audit log of admin changes. */
  request: FastifyRequest | undefined;
}

export function helpdeskCtx(app: FastifyInstance, request: FastifyRequest): HelpdeskCtx {
  const auth = requireAuth(request);
  return {
    db: app.db,
    tenantId: tenantOf(request),
    actorUserId: auth.userId,
    role: auth.role,
    hub: app.realtime,
    request,
  };
}

/**
 * The system acting for a tenant, with no user: for code outside a staff request, such as the
 * widget's public offline form (`ticketFromOfflineForm(systemCtx(app, tenantId), form)`).
 */
export function systemCtx(app: FastifyInstance, tenantId: number): HelpdeskCtx {
  return {
    db: app.db,
    tenantId,
    actorUserId: null,
    role: null,
    hub: app.realtime,
    request: undefined,
  };
}

/** Staff who work tickets: every change, every reply. */
export const WORK_ROLES: readonly Role[] = ['tenant_admin', 'supervisor', 'helpdesk'];
/** Who may read tickets and contacts (agents too: screen-pop and their calls' tickets). */
export const READ_ROLES: readonly Role[] = ['tenant_admin', 'supervisor', 'helpdesk', 'agent'];
/** Who configures SLA policies and custom fields. */
export const ADMIN_ROLES: readonly Role[] = ['tenant_admin'];
/** Who sees reports and exports contacts. */
export const REPORT_ROLES: readonly Role[] = ['tenant_admin', 'supervisor', 'helpdesk'];
