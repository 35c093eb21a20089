import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { expectedVersion, setEtag } from '../../lib/concurrency.ts';
import { listResponse } from '../../lib/pagination.ts';
import { tenantOf } from '../../plugins/auth.ts';
import { User, UserListQuery, UserParams, UserPatch } from './schemas.ts';
import * as service from './service.ts';

const tags = ['users'];
const readers = ['tenant_admin', 'supervisor'] as const;
const admins = ['tenant_admin'] as const;

export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/users',
    {
      config: { auth: readers },
      schema: {
        tags,
        summary: 'List the users of your tenant',
        querystring: UserListQuery,
        response: { 200: listResponse(User) },
      },
    },
    async (request) => service.list(app, tenantOf(request), request.query),
  );

  app.get(
    '/users/:id',
    {
      config: { auth: readers },
      schema: { tags, summary: 'One user', params: UserParams, response: { 200: User } },
    },
    async (request, reply) => {
      const user = await service.get(app, tenantOf(request), request.params.id);
      setEtag(reply, user.version);
      return user;
    },
  );

  app.patch(
    '/users/:id',
    {
      config: { auth: admins },
      schema: {
        tags,
        summary: 'Change a user: name, role, extension, status, outbound calling',
        description:
          'Needs If-Match (or `version`). Nobody can be made platform admin, and the last active ' +
          'tenant admin cannot be demoted or disabled (409 LAST_ADMIN). Becoming an active agent ' +
          'takes a seat of the tenant’s maxAgents (409 LIMIT_REACHED). A role change or disabling ' +
          'ends the user’s sessions; disabling also takes their phone out of Asterisk, and is ' +
          'refused (409 IN_USE, naming them) while a DID, IVR menu or queue routes calls to the user.',
        params: UserParams,
        body: UserPatch,
        response: { 200: User },
      },
    },
    async (request, reply) => {
      const { version, ...patch } = request.body;
      const user = await service.update(
        app,
        request,
        tenantOf(request),
        request.params.id,
        expectedVersion(request, version),
        patch,
      );
      setEtag(reply, user.version);
      return user;
    },
  );

  app.delete(
    '/users/:id',
    {
      config: { auth: admins },
      schema: {
        tags,
        summary: 'Disable a user (users are never erased: calls and the audit log refer to them)',
        description:
          'Same as PATCH `{"status":"disabled"}`: needs If-Match; the login stops working, its ' +
          'sessions end at once and its phone leaves Asterisk. 409 IN_USE while calls are routed ' +
          'to the user. Answers the disabled user.',
        params: UserParams,
        response: { 200: User },
      },
    },
    async (request, reply) => {
      const user = await service.update(
        app,
        request,
        tenantOf(request),
        request.params.id,
        expectedVersion(request),
        { status: 'disabled' },
        'user.disable',
      );
      setEtag(reply, user.version);
      return user;
    },
  );
};
