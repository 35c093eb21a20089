/**
 * /api/v1/endpoints: agents' SIP endpoints and tenants' SIP trunks, live in Asterisk.
 * Tenant admins change them; supervisors read them.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { tenantOf } from '../../plugins/auth.ts';
import { expectedVersion, setEtag } from '../../lib/concurrency.ts';
import { listResponse } from '../../lib/pagination.ts';
import {
  CreateAgentBody,
  CreateTrunkBody,
  Endpoint,
  EndpointStatus,
  EndpointWithSecret,
  IdParams,
  ListEndpointsQuery,
  UpdateBody,
} from './schemas.ts';

const ADMIN = ['tenant_admin'] as const;
const READERS = ['tenant_admin', 'supervisor'] as const;
const tags = ['endpoints'];
const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});
const IfMatch = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'The ETag from the last read, e.g. "v3"' })),
});

export const endpointRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.endpoints;

  app.get(
    '/endpoints',
    {
      config: { auth: READERS },
      schema: {
        tags,
        summary: 'List SIP endpoints and trunks',
        querystring: ListEndpointsQuery,
        response: { 200: listResponse(Endpoint) },
      },
    },
    async (request) => service.list(tenantOf(request), request.query),
  );

  app.get(
    '/endpoints/:id',
    {
      config: { auth: READERS },
      schema: {
        tags,
        summary: 'Read one endpoint',
        params: IdParams,
        response: { 200: Endpoint, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const endpoint = await service.get(tenantOf(request), request.params.id);
      setEtag(reply, endpoint.version);
      return endpoint;
    },
  );

  app.get(
    '/endpoints/:id/status',
    {
      config: { auth: READERS },
      schema: {
        tags,
        summary: 'Registration state, as Asterisk reports it now',
        params: IdParams,
        response: { 200: EndpointStatus, 404: ErrorBody },
      },
    },
    async (request) => service.status(tenantOf(request), request.params.id),
  );

  app.post(
    '/endpoints/agents',
    {
      config: { auth: ADMIN },
      schema: {
        tags,
        summary: "Create a user's agent endpoint",
        description:
          'One per user (agent, supervisor or helpdesk). The SIP secret is in this response only; ' +
          'use rotate-secret to get a new one. Counts against the tenant’s maxAgents.',
        body: CreateAgentBody,
        response: {
          201: EndpointWithSecret,
          400: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await service.createAgent(
        request,
        tenantOf(request),
        request.body,
      );
      setEtag(reply, endpoint.version);
      return reply.status(201).send({ ...endpoint, secret });
    },
  );

  app.post(
    '/endpoints/trunks',
    {
      config: { auth: ADMIN },
      schema: {
        tags,
        summary: 'Create a SIP trunk',
        description:
          '`auth: ip`: the carrier is recognised by `match` (source addresses) and reached at host:port. ' +
          '`auth: register`: Calldock registers to host:port with username/password, and the carrier’s calls ' +
          'to that registration are recognised by it.',
        body: CreateTrunkBody,
        response: { 201: Endpoint, 400: ErrorBody, 409: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const endpoint = await service.createTrunk(request, tenantOf(request), request.body);
      setEtag(reply, endpoint.version);
      return reply.status(201).send(endpoint);
    },
  );

  app.patch(
    '/endpoints/:id',
    {
      config: { auth: ADMIN },
      schema: {
        tags,
        summary: 'Change an endpoint or trunk',
        params: IdParams,
        headers: IfMatch,
        body: UpdateBody,
        response: {
          200: Endpoint,
          400: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
          412: ErrorBody,
          428: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const endpoint = await service.update(
        request,
        tenantOf(request),
        request.params.id,
        version,
        request.body,
      );
      setEtag(reply, endpoint.version);
      return endpoint;
    },
  );

  app.post(
    '/endpoints/:id/rotate-secret',
    {
      config: { auth: ADMIN },
      schema: {
        tags,
        summary:
          'Give an agent endpoint a new SIP secret (shown once, here); the old one stops working',
        params: IdParams,
        response: { 200: EndpointWithSecret, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await service.rotateSecret(
        request,
        tenantOf(request),
        request.params.id,
      );
      setEtag(reply, endpoint.version);
      return { ...endpoint, secret };
    },
  );

  app.delete(
    '/endpoints/:id',
    {
      config: { auth: ADMIN },
      schema: {
        tags,
        summary: 'Delete an endpoint or trunk (gone from Asterisk when this returns)',
        params: IdParams,
        headers: IfMatch,
        response: {
          204: Type.Null(),
          404: ErrorBody,
          412: ErrorBody,
          428: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      await service.remove(request, tenantOf(request), request.params.id, expectedVersion(request));
      return reply.status(204).send(null);
    },
  );
};
