import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { expectedVersion, setEtag } from '../../lib/concurrency.ts';
import { tenantOf } from '../../plugins/auth.ts';
import { IdParams, READ_ROLES, WRITE_ROLES, ctxOf } from '../routing/common.ts';
import {
  Hours,
  HoursCreate,
  HoursList,
  HoursListQuery,
  HoursPatch,
  HoursStatus,
  HoursStatusQuery,
} from './schemas.ts';
import * as service from './service.ts';

const tags = ['business hours'];

/** Business hours: a weekly schedule in a time zone, plus holidays, that DIDs switch on. */
export const hoursRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/hours',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags,
        summary: 'List business hours',
        querystring: HoursListQuery,
        response: { 200: HoursList },
      },
    },
    async (request) => service.listHours(app.db, tenantOf(request), request.query),
  );

  app.post(
    '/hours',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Create business hours',
        body: HoursCreate,
        response: { 201: Hours },
      },
    },
    async (request, reply) => {
      const hours = await service.createHours(ctxOf(app, request), request.body);
      setEtag(reply, hours.version);
      return reply.code(201).header('location', `/api/v1/hours/${hours.id}`).send(hours);
    },
  );

  app.get(
    '/hours/:id',
    {
      config: { auth: READ_ROLES },
      schema: { tags, summary: 'Get business hours', params: IdParams, response: { 200: Hours } },
    },
    async (request, reply) => {
      const hours = await service.getHours(app.db, tenantOf(request), request.params.id);
      setEtag(reply, hours.version);
      return hours;
    },
  );

  app.get(
    '/hours/:id/status',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags,
        summary: 'Whether the hours are open at an instant, and when that next changes',
        params: IdParams,
        querystring: HoursStatusQuery,
        response: { 200: HoursStatus },
      },
    },
    async (request) => {
      const at = request.query.at ? new Date(request.query.at) : new Date();
      return service.hoursStatus(app.db, tenantOf(request), request.params.id, at);
    },
  );

  app.patch(
    '/hours/:id',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Change business hours; `holidays` replaces the whole set',
        params: IdParams,
        body: HoursPatch,
        response: { 200: Hours },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const hours = await service.updateHours(
        ctxOf(app, request),
        request.params.id,
        version,
        request.body,
      );
      setEtag(reply, hours.version);
      return hours;
    },
  );

  app.delete(
    '/hours/:id',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Delete business hours (409 IN_USE while a DID uses them)',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.deleteHours(ctxOf(app, request), request.params.id, expectedVersion(request));
      return reply.code(204).send(null);
    },
  );
};
