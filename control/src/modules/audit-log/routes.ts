import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fromJson } from '../../db/json.ts';
import { listQuery, listResponse } from '../../lib/pagination.ts';
import { requireAuth } from '../../plugins/auth.ts';
import { list, type AuditRow } from './repository.ts';

const AuditEntry = Type.Object({
  id: Type.Integer(),
  tenantId: Type.Union([Type.Integer(), Type.Null()]),
  actorUserId: Type.Union([Type.Integer(), Type.Null()]),
  action: Type.String(),
  entityType: Type.String(),
  entityId: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown(),
  after: Type.Unknown(),
  requestId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
type AuditEntry = Static<typeof AuditEntry>;

const AuditQuery = listQuery({
  tenantId: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Platform admins: one tenant only' }),
  ),
  entityType: Type.Optional(Type.String({ maxLength: 40 })),
  entityId: Type.Optional(Type.String({ maxLength: 64 })),
  action: Type.Optional(Type.String({ maxLength: 64 })),
  actorUserId: Type.Optional(Type.Integer({ minimum: 1 })),
});

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    tenantId: row.tenantId,
    actorUserId: row.actorUserId,
    action: row.action,
    entityType: row.entityType,
    entityId: row.entityId,
    before: fromJson<unknown>(row.beforeData, null),
    after: fromJson<unknown>(row.afterData, null),
    requestId: row.requestId,
    ip: row.ip,
    createdAt: row.createdAt.toISOString(),
  };
}

export const auditLogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/audit-log',
    {
      config: { auth: ['tenant_admin', 'platform_admin'] },
      schema: {
        tags: ['audit'],
        summary: 'Who changed what, when (newest first by default)',
        description:
          'Tenant admins see their own tenant’s entries; platform admins see every tenant’s ' +
          '(and platform-wide ones), or one tenant’s with `tenantId`.',
        querystring: AuditQuery,
        response: { 200: listResponse(AuditEntry) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const query = { ...request.query };
      if (auth.role !== 'platform_admin') {
        // Another tenant's id finds nothing, exactly like an id that does not exist.
        if (query.tenantId !== undefined && query.tenantId !== auth.tenantId) {
          return { items: [], nextCursor: null };
        }
        query.tenantId = auth.tenantId ?? -1;
      }
      const page = await list(app.db, query);
      return { items: page.items.map(toEntry), nextCursor: page.nextCursor };
    },
  );
};
