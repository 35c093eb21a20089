import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { expectedVersion, setEtag } from '../../lib/concurrency.ts';
import { tenantOf } from '../../plugins/auth.ts';
import { IdParams, READ_ROLES, WRITE_ROLES, ctxOf } from '../routing/common.ts';
import { Did, DidCreate, DidList, DidListQuery, DidPatch } from './schemas.ts';
import * as service from './service.ts';

const tags = ['dids'];

/** DIDs: the tenant's phone numbers and where each one routes its calls. */
export const didRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/dids',
    {
      config: { auth: READ_ROLES },
      schema: { tags, summary: 'List DIDs', querystring: DidListQuery, response: { 200: DidList } },
    },
    async (request) => service.listDids(app.db, tenantOf(request), request.query),
  );

  app.post(
    '/dids',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Add a DID (409 DID_TAKEN when the number is in use anywhere)',
        body: DidCreate,
        response: { 201: Did },
      },
    },
    async (request, reply) => {
      const did = await service.createDid(ctxOf(app, request), request.body);
      setEtag(reply, did.version);
      return reply.code(201).header('location', `/api/v1/dids/${did.id}`).send(did);
    },
  );

  app.get(
    '/dids/:id',
    {
      config: { auth: READ_ROLES },
      schema: { tags, summary: 'Get a DID', params: IdParams, response: { 200: Did } },
    },
    async (request, reply) => {
      const did = await service.getDid(app.db, tenantOf(request), request.params.id);
      setEtag(reply, did.version);
      return did;
    },
  );

  app.patch(
    '/dids/:id',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Change a DID',
        params: IdParams,
        body: DidPatch,
        response: { 200: Did },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const did = await service.updateDid(
        ctxOf(app, request),
        request.params.id,
        version,
        request.body,
      );
      setEtag(reply, did.version);
      return did;
    },
  );

  app.delete(
    '/dids/:id',
    {
      config: { auth: WRITE_ROLES },
      schema: { tags, summary: 'Remove a DID', params: IdParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await service.deleteDid(ctxOf(app, request), request.params.id, expectedVersion(request));
      return reply.code(204).send(null);
    },
  );
};
