/**
 * The audit trail: one row per change an admin makes (who, what, before/after, when, request id),
 * written in the same transaction as the change, so there is never a change without its row.
 */
import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/database.ts';
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { toJson } from '../db/json.ts';

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId?: string | number | null;
  /** Tenant the change belongs to; defaults to the caller's. */
  tenantId?: number | null;
  before?: unknown;
  after?: unknown;
}

/** Secrets never reach the audit log. */
const SECRET_KEYS = /password|secret|token|hash/i;

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.test(k) ? '[redacted]' : redact(v)]),
    );
  }
  return value;
}

export async function audit(
  db: Db | Transaction<Database>,
  request: FastifyRequest,
  entry: AuditEntry,
): Promise<void> {
  await db
    .insertInto('auditLog')
    .values({
      tenantId: entry.tenantId !== undefined ? entry.tenantId : (request.auth?.tenantId ?? null),
      actorUserId: request.auth?.userId ?? null,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId === undefined || entry.entityId === null ? null : String(entry.entityId),
      beforeData: entry.before === undefined ? null : toJson(redact(entry.before)),
      afterData: entry.after === undefined ? null : toJson(redact(entry.after)),
      requestId: request.id,
      ip: request.ip,
    })
    .execute();
}
