import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { AuditLogTable } from '../../db/schema.ts';
import { paginate, type ListQuery, type Page } from '../../lib/pagination.ts';

export type AuditRow = Selectable<AuditLogTable>;

export interface AuditFilters {
  /** `undefined`: every tenant (platform admins only). */
  tenantId?: number | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  action?: string | undefined;
  actorUserId?: number | undefined;
}

// Ids grow with time, so newest-first is `-id`, which is also the cheapest cursor.
const SORTABLE = { id: 'id', createdAt: 'createdAt' };

export async function list(db: Executor, query: ListQuery & AuditFilters): Promise<Page<AuditRow>> {
  let q = db.selectFrom('auditLog').selectAll();
  if (query.tenantId !== undefined) q = q.where('tenantId', '=', query.tenantId);
  if (query.entityType) q = q.where('entityType', '=', query.entityType);
  if (query.entityId) q = q.where('entityId', '=', query.entityId);
  if (query.action) q = q.where('action', '=', query.action);
  if (query.actorUserId !== undefined) q = q.where('actorUserId', '=', query.actorUserId);
  return paginate(q, { ...query, sort: query.sort ?? '-id' }, SORTABLE, 'auditLog');
}
