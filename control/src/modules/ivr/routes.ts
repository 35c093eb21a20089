import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { expectedVersion, setEtag } from '../../lib/concurrency.ts';
import { tenantOf } from '../../plugins/auth.ts';
import { IdParams, READ_ROLES, WRITE_ROLES, ctxOf } from '../routing/common.ts';
import { IvrCreate, IvrList, IvrListQuery, IvrMenu, IvrPatch } from './schemas.ts';
import * as service from './service.ts';

const tags = ['ivr'];

/** IVR menus: a prompt, digits to targets, and what happens on silence or a wrong key. */
export const ivrRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/ivr-menus',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags,
        summary: 'List IVR menus',
        querystring: IvrListQuery,
        response: { 200: IvrList },
      },
    },
    async (request) => service.listMenus(app.db, tenantOf(request), request.query),
  );

  app.post(
    '/ivr-menus',
    {
      config: { auth: WRITE_ROLES },
      schema: { tags, summary: 'Create an IVR menu', body: IvrCreate, response: { 201: IvrMenu } },
    },
    async (request, reply) => {
      const menu = await service.createMenu(ctxOf(app, request), request.body);
      setEtag(reply, menu.version);
      return reply.code(201).header('location', `/api/v1/ivr-menus/${menu.id}`).send(menu);
    },
  );

  app.get(
    '/ivr-menus/:id',
    {
      config: { auth: READ_ROLES },
      schema: { tags, summary: 'Get an IVR menu', params: IdParams, response: { 200: IvrMenu } },
    },
    async (request, reply) => {
      const menu = await service.getMenu(app.db, tenantOf(request), request.params.id);
      setEtag(reply, menu.version);
      return menu;
    },
  );

  app.patch(
    '/ivr-menus/:id',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Change an IVR menu; `options` replaces the whole set',
        params: IdParams,
        body: IvrPatch,
        response: { 200: IvrMenu },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const menu = await service.updateMenu(
        ctxOf(app, request),
        request.params.id,
        version,
        request.body,
      );
      setEtag(reply, menu.version);
      return menu;
    },
  );

  app.delete(
    '/ivr-menus/:id',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Delete an IVR menu (409 IN_USE while a DID, queue or menu routes to it)',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.deleteMenu(ctxOf(app, request), request.params.id, expectedVersion(request));
      return reply.code(204).send(null);
    },
  );
};
