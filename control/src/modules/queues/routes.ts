import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { expectedVersion, setEtag } from '../../lib/concurrency.ts';
import { listResponse } from '../../lib/pagination.ts';
import { tenantOf } from '../../plugins/auth.ts';
import { IdParams, READ_ROLES, WRITE_ROLES, ctxOf } from '../routing/common.ts';
import {
  Member,
  MemberBody,
  MemberList,
  MemberListQuery,
  MemberParams,
  MemberPatch,
  MembersReplace,
  Queue,
  QueueCreate,
  QueueList,
  QueueListQuery,
  QueuePatch,
} from './schemas.ts';
import * as service from './service.ts';

const tags = ['queues'];
const membershipNote =
  'Membership is part of the queue: member reads carry the queue’s ETag, and every member change ' +
  'moves the queue to its next version.';

/** Queues (ACD settings, overflow) and their members. */
export const queueRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/queues',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags,
        summary: 'List queues',
        querystring: QueueListQuery,
        response: { 200: QueueList },
      },
    },
    async (request) => service.listQueues(app.db, tenantOf(request), request.query),
  );

  app.post(
    '/queues',
    {
      config: { auth: WRITE_ROLES },
      schema: { tags, summary: 'Create a queue', body: QueueCreate, response: { 201: Queue } },
    },
    async (request, reply) => {
      const queue = await service.createQueue(ctxOf(app, request), request.body);
      setEtag(reply, queue.version);
      return reply.code(201).header('location', `/api/v1/queues/${queue.id}`).send(queue);
    },
  );

  app.get(
    '/queues/:id',
    {
      config: { auth: READ_ROLES },
      schema: { tags, summary: 'Get a queue', params: IdParams, response: { 200: Queue } },
    },
    async (request, reply) => {
      const queue = await service.getQueue(app.db, tenantOf(request), request.params.id);
      setEtag(reply, queue.version);
      return queue;
    },
  );

  app.patch(
    '/queues/:id',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Change a queue',
        params: IdParams,
        body: QueuePatch,
        response: { 200: Queue },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const queue = await service.updateQueue(
        ctxOf(app, request),
        request.params.id,
        version,
        request.body,
      );
      setEtag(reply, queue.version);
      return queue;
    },
  );

  app.delete(
    '/queues/:id',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Delete a queue (409 IN_USE while a DID, IVR menu or queue routes to it)',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.deleteQueue(ctxOf(app, request), request.params.id, expectedVersion(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/queues/:id/members',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags,
        summary: 'List a queue’s members',
        description: membershipNote,
        params: IdParams,
        querystring: MemberListQuery,
        response: { 200: MemberList },
      },
    },
    async (request, reply) => {
      const { page, version } = await service.listMembers(
        app.db,
        tenantOf(request),
        request.params.id,
        request.query,
      );
      setEtag(reply, version);
      return page;
    },
  );

  app.post(
    '/queues/:id/members',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Add a member',
        description: membershipNote,
        params: IdParams,
        body: MemberBody,
        response: { 201: Member },
      },
    },
    async (request, reply) => {
      const { result, version } = await service.addMember(
        ctxOf(app, request),
        request.params.id,
        request.body,
      );
      setEtag(reply, version);
      return reply.code(201).send(result);
    },
  );

  app.put(
    '/queues/:id/members',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Replace the whole membership (all or nothing)',
        description: membershipNote,
        params: IdParams,
        body: MembersReplace,
        response: { 200: listResponse(Member) },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const { result, version: next } = await service.replaceMembers(
        ctxOf(app, request),
        request.params.id,
        version,
        request.body.members,
      );
      setEtag(reply, next);
      return { items: result, nextCursor: null };
    },
  );

  app.patch(
    '/queues/:id/members/:userId',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Change a member’s penalty or skills',
        description: membershipNote,
        params: MemberParams,
        body: MemberPatch,
        response: { 200: Member },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const { id, userId } = request.params;
      const { result, version: next } = await service.updateMember(
        ctxOf(app, request),
        id,
        userId,
        version,
        request.body,
      );
      setEtag(reply, next);
      return result;
    },
  );

  app.delete(
    '/queues/:id/members/:userId',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Remove a member',
        description: membershipNote,
        params: MemberParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { id, userId } = request.params;
      await service.removeMember(ctxOf(app, request), id, userId, expectedVersion(request));
      return reply.code(204).send(null);
    },
  );
};
