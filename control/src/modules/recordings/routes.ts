/**
 * Call recordings over HTTP, with byte ranges for seeking. Agents reach only the recordings of
 * calls they answered; supervisors and admins any of their tenant's.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Role } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';
import { TENANT_ROLES, requireAuth, tenantOf } from '../../plugins/auth.ts';
import { audioResponses, recordingNotFound, sendRecording } from './audio.ts';

const ALL_CALLS: readonly Role[] = ['tenant_admin', 'supervisor'];

export const recordingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/calls/:id/recording',
    {
      config: { auth: TENANT_ROLES },
      schema: {
        tags: ['calls'],
        summary: "A call's recording (WAV, byte ranges)",
        description: 'Recorded when the queue that answered the call has recording on.',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: audioResponses,
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const { id } = request.params;
      let query = app.db
        .selectFrom('calls')
        .select(['id', 'recordingPath'])
        .where('tenantId', '=', tenantOf(request))
        .where('id', '=', id);
      if (!ALL_CALLS.includes(auth.role)) query = query.where('agentUserId', '=', auth.userId);
      const call = await query.executeTakeFirst();
      if (!call) throw new AppError('CALL_NOT_FOUND', `Call ${id} not found`, 404);
      if (!call.recordingPath) throw recordingNotFound();
      // The engine stores the file name; ARI names a recording without its format's extension.
      return sendRecording(app.telephony, request, reply, call.recordingPath.replace(/\.wav$/, ''));
    },
  );
};
