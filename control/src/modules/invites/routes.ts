import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listResponse } from '../../lib/pagination.ts';
import { tenantOf } from '../../plugins/auth.ts';
import { AnyRole } from '../users/schemas.ts';
import {
  AcceptInvite,
  CreatedInvite,
  Invite,
  InviteListQuery,
  InviteParams,
  MIN_PASSWORD_LENGTH,
  NewInvite,
} from './schemas.ts';
import * as service from './service.ts';

const tags = ['invites'];
const admins = ['tenant_admin'] as const;

export const inviteRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/invites',
    {
      config: { auth: admins },
      schema: {
        tags,
        summary: 'Invite someone to your tenant; answers the one-time link to pass on',
        description:
          'The link is valid 7 days and shown only in this answer. A new invite for the same ' +
          'email replaces a pending one. 409 EMAIL_TAKEN when the email already has a user; an ' +
          'agent invite needs a free seat (409 LIMIT_REACHED).',
        body: NewInvite,
        response: { 201: CreatedInvite },
      },
    },
    async (request, reply) => {
      const invite = await service.create(app, request, tenantOf(request), request.body);
      return reply.status(201).send(invite);
    },
  );

  app.get(
    '/invites',
    {
      config: { auth: admins },
      schema: {
        tags,
        summary: 'List your tenant’s invites',
        querystring: InviteListQuery,
        response: { 200: listResponse(Invite) },
      },
    },
    async (request) => service.list(app, tenantOf(request), request.query),
  );

  app.delete(
    '/invites/:id',
    {
      config: { auth: admins },
      schema: {
        tags,
        summary: 'Withdraw an invite: its link stops working',
        params: InviteParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.revoke(app, request, tenantOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/invites/accept',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Accept an invite by setting a password; creates the user',
        description:
          `The password needs at least ${MIN_PASSWORD_LENGTH} characters. A link already used, ` +
          'withdrawn or expired answers 410 (INVITE_USED, INVITE_REVOKED, INVITE_EXPIRED); an ' +
          'unknown one 404; an email that meanwhile has a user 409.',
        body: AcceptInvite,
        response: {
          201: Type.Object({
            user: Type.Object({
              id: Type.Integer(),
              tenantId: Type.Union([Type.Integer(), Type.Null()]),
              role: AnyRole,
              displayName: Type.String(),
              email: Type.String(),
            }),
          }),
        },
      },
    },
    async (request, reply) => {
      const user = await service.accept(app, request, request.body.token, request.body.password);
      return reply.status(201).send({ user });
    },
  );
};
