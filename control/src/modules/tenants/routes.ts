import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { expectedVersion, setEtag } from '../../lib/concurrency.ts';
import { listResponse } from '../../lib/pagination.ts';
import {
  CreatedTenant,
  NewTenant,
  Tenant,
  TenantListQuery,
  TenantParams,
  TenantPatch,
} from './schemas.ts';
import * as service from './service.ts';

const tags = ['tenants'];
const platform = ['platform_admin'] as const;

export const tenantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/tenants',
    {
      config: { auth: platform },
      schema: {
        tags,
        summary: 'Create a tenant, optionally inviting its first admin',
        description:
          'With `admin`, the tenant and the admin’s invite are created in one transaction and ' +
          'the answer carries the invite link. 409 SLUG_TAKEN when the slug is in use.',
        body: NewTenant,
        response: { 201: CreatedTenant },
      },
    },
    async (request, reply) => {
      const tenant = await service.create(app, request, request.body);
      setEtag(reply, tenant.version);
      return reply.status(201).send(tenant);
    },
  );

  app.get(
    '/tenants',
    {
      config: { auth: platform },
      schema: {
        tags,
        summary: 'List tenants',
        querystring: TenantListQuery,
        response: { 200: listResponse(Tenant) },
      },
    },
    async (request) => service.list(app, request.query),
  );

  app.get(
    '/tenants/:id',
    {
      config: { auth: platform },
      schema: { tags, summary: 'One tenant', params: TenantParams, response: { 200: Tenant } },
    },
    async (request, reply) => {
      const tenant = await service.get(app, request.params.id);
      setEtag(reply, tenant.version);
      return tenant;
    },
  );

  app.patch(
    '/tenants/:id',
    {
      config: { auth: platform },
      schema: {
        tags,
        summary: 'Change a tenant: name, slug, time zone, status, limits, feature flags',
        description:
          'Needs If-Match (or `version`). `limits` may name some limits only; `featureFlags` ' +
          'replaces the whole set. Suspending ends every session of the tenant’s users.',
        params: TenantParams,
        body: TenantPatch,
        response: { 200: Tenant },
      },
    },
    async (request, reply) => {
      const { version, ...patch } = request.body;
      const tenant = await service.update(
        app,
        request,
        request.params.id,
        expectedVersion(request, version),
        patch,
      );
      setEtag(reply, tenant.version);
      return tenant;
    },
  );
};
