/**
 * What the engine reads about queues and routes from MySQL. Read fresh for every call (and every
 * ACD round for members), so an admin's change takes effect for the next call without a restart.
 */
import type { Db } from '../../db/database.ts';
import { fromJson } from '../../db/json.ts';
import type { TargetType } from '../../db/schema.ts';
import type { QueuePolicy, Strategy } from './acd/strategy.ts';
import type { DialRules } from './dial-rules.ts';

export interface Target {
  type: TargetType;
  id: number | null;
  value: string | null;
}

export interface QueueConfig extends QueuePolicy {
  id: number;
  tenantId: number;
  name: string;
  ringTimeoutSeconds: number;
  maxWaitSeconds: number;
  wrapupSeconds: number;
  announcePositionSeconds: number;
  mohClass: string;
  recordingEnabled: boolean;
  callbackEnabled: boolean;
  callbackDigit: string;
  abandonCallbackSeconds: number;
  overflow: Target | undefined;
}

export interface QueueMember {
  userId: number;
  penalty: number;
  skills: Record<string, number>;
}

export function toTarget(type: TargetType | null, id: number | null, value: string | null): Target | undefined {
  return type ? { type, id, value } : undefined;
}

export async function loadQueue(db: Db, tenantId: number, queueId: number): Promise<QueueConfig | undefined> {
  const row = await db
    .selectFrom('queues')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', queueId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    strategy: row.strategy as Strategy,
    penaltyRelaxSeconds: row.penaltyRelaxSeconds,
    requiredSkills: fromJson<Record<string, number>>(row.requiredSkills, {}),
    ringTimeoutSeconds: row.ringTimeoutSeconds,
    maxWaitSeconds: row.maxWaitSeconds,
    wrapupSeconds: row.wrapupSeconds,
    announcePositionSeconds: row.announcePositionSeconds,
    mohClass: row.mohClass,
    recordingEnabled: Boolean(row.recordingEnabled),
    callbackEnabled: Boolean(row.callbackEnabled),
    callbackDigit: row.callbackDigit,
    abandonCallbackSeconds: row.abandonCallbackSeconds,
    overflow: toTarget(row.overflowTargetType, row.overflowTargetId, row.overflowTargetValue),
  };
}

export async function loadMembers(db: Db, tenantId: number, queueId: number): Promise<QueueMember[]> {
  const rows = await db
    .selectFrom('queueMembers')
    .innerJoin('users', 'users.id', 'queueMembers.userId')
    .select(['queueMembers.userId', 'queueMembers.penalty', 'queueMembers.skills'])
    .where('queueMembers.tenantId', '=', tenantId)
    .where('queueMembers.queueId', '=', queueId)
    .where('users.status', '=', 'active')
    .execute();
  return rows.map((r) => ({
    userId: r.userId,
    penalty: r.penalty,
    skills: fromJson<Record<string, number>>(r.skills, {}),
  }));
}

/**
 * Each member's queues in a tenant (to rerun their ACD when an agent frees up): one read for the
 * whole tenant, as agents free up one after the other and each would be a read of their own.
 */
export async function queuesByUser(db: Db, tenantId: number): Promise<Map<number, number[]>> {
  const rows = await db.selectFrom('queueMembers').select(['userId', 'queueId']).where('tenantId', '=', tenantId).execute();
  const byUser = new Map<number, number[]>();
  for (const { userId, queueId } of rows) {
    const queues = byUser.get(userId);
    if (queues) queues.push(queueId);
    else byUser.set(userId, [queueId]);
  }
  return byUser;
}

export interface TenantLimits {
  maxConcurrentCalls: number;
  maxCallsPerSecond: number;
  maxCallSeconds: number;
  status: 'active' | 'suspended';
}

export async function loadTenantLimits(db: Db, tenantId: number): Promise<TenantLimits | undefined> {
  return db
    .selectFrom('tenants')
    .select(['maxConcurrentCalls', 'maxCallsPerSecond', 'maxCallSeconds', 'status'])
    .where('id', '=', tenantId)
    .executeTakeFirst();
}

export async function loadDialRules(db: Db, tenantId: number): Promise<DialRules | undefined> {
  const row = await db
    .selectFrom('tenants')
    .select(['homeCountryCode', 'outboundAllowedPrefixes'])
    .where('id', '=', tenantId)
    .executeTakeFirst();
  if (!row) return undefined;
  return { homeCountryCode: row.homeCountryCode, allowedPrefixes: fromJson<string[]>(row.outboundAllowedPrefixes, []) };
}
