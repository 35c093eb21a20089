/**
 * Reading and managing voicemail messages. Agents (and helpdesk) see only their own box;
 * supervisors and admins see every box of their tenant, shared boxes included. A message a
 * reader may not see is 404, exactly like one that does not exist.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../plugins/auth.ts';
import type { Role } from '../../db/schema.ts';
import { audit } from '../../lib/audit.ts';
import { AppError } from '../../lib/errors.ts';
import type { ListQuery, Page } from '../../lib/pagination.ts';
import * as repo from './repository.ts';

const ALL_BOXES: readonly Role[] = ['tenant_admin', 'supervisor'];

export const voicemailNotFound = (id: number) =>
  new AppError('VOICEMAIL_NOT_FOUND', `Voicemail ${id} not found`, 404);

export interface Voicemail {
  id: number;
  callId: number | null;
  callLinkedid: string;
  boxUserId: number | null;
  boxName: string | null;
  fromNumber: string | null;
  durationMs: number;
  createdAt: string;
  listenedAt: string | null;
}

function present(row: repo.VoicemailRow): Voicemail {
  return {
    id: row.id,
    callId: row.callId,
    callLinkedid: row.callLinkedid,
    boxUserId: row.boxUserId,
    boxName: row.boxName,
    fromNumber: row.fromNumber,
    durationMs: row.durationMs,
    createdAt: row.createdAt.toISOString(),
    listenedAt: row.listenedAt ? row.listenedAt.toISOString() : null,
  };
}

export function scopeOf(auth: AuthContext): repo.BoxScope {
  return ALL_BOXES.includes(auth.role) ? { all: true } : { all: false, userId: auth.userId };
}

export async function list(
  app: FastifyInstance,
  tenantId: number,
  auth: AuthContext,
  query: ListQuery & repo.VoicemailFilters,
): Promise<Page<Voicemail>> {
  const { boxUserId, boxName, listened, ...page } = query;
  const filters = {
    ...(boxUserId !== undefined ? { boxUserId } : {}),
    ...(boxName !== undefined ? { boxName } : {}),
    ...(listened !== undefined ? { listened } : {}),
  };
  const result = await repo.listVoicemails(app.db, tenantId, scopeOf(auth), filters, page);
  return { items: result.items.map(present), nextCursor: result.nextCursor };
}

/** The row itself, for the audio route. */
export async function row(
  app: FastifyInstance,
  tenantId: number,
  auth: AuthContext,
  id: number,
): Promise<repo.VoicemailRow> {
  const found = await repo.findVoicemail(app.db, tenantId, id, scopeOf(auth));
  if (!found) throw voicemailNotFound(id);
  return found;
}

export async function get(
  app: FastifyInstance,
  tenantId: number,
  auth: AuthContext,
  id: number,
): Promise<Voicemail> {
  return present(await row(app, tenantId, auth, id));
}

export async function markListened(
  app: FastifyInstance,
  tenantId: number,
  auth: AuthContext,
  id: number,
): Promise<Voicemail> {
  await row(app, tenantId, auth, id);
  await repo.markListened(app.db, tenantId, id, new Date());
  return get(app, tenantId, auth, id);
}

/** Deletes the message, then its audio from Asterisk (a file left behind harms nobody; a row would). */
export async function remove(
  app: FastifyInstance,
  request: FastifyRequest,
  tenantId: number,
  auth: AuthContext,
  id: number,
): Promise<void> {
  const existing = await row(app, tenantId, auth, id);
  const deleted = await app.db.transaction().execute(async (trx) => {
    if (!(await repo.deleteVoicemail(trx, tenantId, id))) return false;
    await audit(trx, request, {
      action: 'voicemail.delete',
      entityType: 'voicemail',
      entityId: id,
      before: present(existing),
    });
    return true;
  });
  if (!deleted) throw voicemailNotFound(id);
  await app.telephony.deleteStoredRecording(existing.recordingName).catch((err: unknown) => {
    request.log.warn(
      { err, name: existing.recordingName },
      'voicemail audio not deleted from Asterisk',
    );
  });
}
