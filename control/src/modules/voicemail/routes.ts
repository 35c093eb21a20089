/**
 * Voicemail messages: list, read, mark listened, delete, and their audio (with HTTP ranges).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TENANT_ROLES, requireAuth, tenantOf } from '../../plugins/auth.ts';
import { listQuery, listResponse } from '../../lib/pagination.ts';
import { audioResponses, sendRecording } from '../recordings/audio.ts';
import * as service from './service.ts';

const tags = ['voicemail'];
const config = { auth: TENANT_ROLES };

const Voicemail = Type.Object({
  id: Type.Integer(),
  callId: Type.Union([Type.Integer(), Type.Null()]),
  callLinkedid: Type.String(),
  boxUserId: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The user whose box it is; null for a shared box',
  }),
  boxName: Type.Union([Type.String(), Type.Null()], {
    description: 'The shared box it was left in',
  }),
  fromNumber: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  listenedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const Params = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const voicemailRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/voicemails',
    {
      config,
      schema: {
        tags,
        summary: 'Voicemail messages, newest first',
        description:
          'Agents and helpdesk see their own box; supervisors and admins every box, shared ones too.',
        querystring: listQuery({
          boxUserId: Type.Optional(Type.Integer({ minimum: 1 })),
          boxName: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
          listened: Type.Optional(Type.Boolean()),
        }),
        response: { 200: listResponse(Voicemail) },
      },
    },
    async (request) => service.list(app, tenantOf(request), requireAuth(request), request.query),
  );

  app.get(
    '/voicemails/:id',
    {
      config,
      schema: {
        tags,
        summary: 'One voicemail message',
        params: Params,
        response: { 200: Voicemail },
      },
    },
    async (request) => service.get(app, tenantOf(request), requireAuth(request), request.params.id),
  );

  app.post(
    '/voicemails/:id/listened',
    {
      config,
      schema: {
        tags,
        summary: 'Mark a message listened to',
        description: 'The first time counts; doing it again changes nothing.',
        params: Params,
        response: { 200: Voicemail },
      },
    },
    async (request) =>
      service.markListened(app, tenantOf(request), requireAuth(request), request.params.id),
  );

  app.delete(
    '/voicemails/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Delete a message and its audio',
        description:
          'Messages are not edited, so no If-Match: deleting one twice is a 404 the second time.',
        params: Params,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.remove(
        app,
        request,
        tenantOf(request),
        requireAuth(request),
        request.params.id,
      );
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/voicemails/:id/audio',
    {
      config,
      schema: {
        tags,
        summary: "A message's audio (WAV, byte ranges)",
        params: Params,
        response: audioResponses,
      },
    },
    async (request, reply) => {
      const row = await service.row(
        app,
        tenantOf(request),
        requireAuth(request),
        request.params.id,
      );
      return sendRecording(app.telephony, request, reply, row.recordingName);
    },
  );
};
