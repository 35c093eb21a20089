/**
 * Widget routes. Admins manage settings; everything a customer's page calls is public and
 * checked against the widget's allowed origins (the page's Origin header), with CORS answers
 * only for those origins.
 */
import { systemCtx } from '../helpdesk/context.ts';
import { ticketFromOfflineForm } from '../helpdesk/tickets.ts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { expectedVersion, setEtag } from '../../lib/concurrency.ts';
import { AppError } from '../../lib/errors.ts';
import { tenantOf } from '../../plugins/auth.ts';
import { IdParams, READ_ROLES, WRITE_ROLES, ctxOf, iso } from '../routing/common.ts';
import type { Role } from '../../db/schema.ts';
import { fromJson } from '../../db/json.ts';
import { originAllowed } from './origins.ts';
import * as repo from './repository.ts';
import {
  CallTicket,
  CallbackAnswer,
  CallbackRequest,
  OfflineMessage,
  OfflineMessageCreate,
  OfflineMessageList,
  OfflineMessageListQuery,
  PublicConfig,
  PublicIdParams,
  TicketParams,
  TicketRequest,
  TicketStatus,
  Widget,
  WidgetCreate,
  WidgetList,
  WidgetListQuery,
  WidgetPatch,
  type PrechatField,
} from './schemas.ts';
import * as service from './service.ts';

const tags = ['widgets'];
/** Offline messages are for whoever answers customers. */
const STAFF_ROLES: readonly Role[] = ['tenant_admin', 'supervisor', 'agent', 'helpdesk'];

const originNotAllowed = () =>
  new AppError('ORIGIN_NOT_ALLOWED', 'This site is not allowed to use the widget', 403);
const widgetGone = () => new AppError('WIDGET_NOT_FOUND', 'No such widget', 404);
const ticketNotFound = () => new AppError('TICKET_NOT_FOUND', 'No such call ticket', 404);

/** The origin the snippet and loader URLs point at. */
export function publicBase(request: FastifyRequest): string {
  const configured = request.server.config.publicUrl;
  return configured ?? `${request.protocol}://${request.host}`;
}

function origins(widget: repo.WidgetRow): string[] {
  return fromJson<string[]>(widget.allowedOrigins, []);
}

/** CORS for an allowed page; an origin not on the list gets no CORS headers at all. */
function allowCors(
  request: FastifyRequest,
  reply: FastifyReply,
  widget: repo.WidgetRow | undefined,
): boolean {
  const origin = request.headers.origin;
  reply.header('vary', 'Origin');
  if (!widget || !originAllowed(origin, origins(widget))) return false;
  reply.header('access-control-allow-origin', origin!);
  reply.header('access-control-expose-headers', 'retry-after');
  return true;
}

const preflightSchema = {
  tags,
  summary: 'CORS preflight: 204 for an allowed origin, 403 otherwise',
  response: { 204: Type.Null(), 403: Type.Null() },
};

export const widgetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // ── Settings (admins) ─────────────────────────────────────────────────────────────────────

  app.get(
    '/widgets',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags,
        summary: 'List website widgets',
        querystring: WidgetListQuery,
        response: { 200: WidgetList },
      },
    },
    async (request) =>
      service.listWidgets(app.db, tenantOf(request), request.query, publicBase(request)),
  );

  app.post(
    '/widgets',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Create a website widget',
        body: WidgetCreate,
        response: { 201: Widget },
      },
    },
    async (request, reply) => {
      const widget = await service.createWidget(
        ctxOf(app, request),
        request.body,
        publicBase(request),
      );
      setEtag(reply, widget.version);
      return reply.code(201).header('location', `/api/v1/widgets/${widget.id}`).send(widget);
    },
  );

  app.get(
    '/widgets/:id',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags,
        summary: 'Get a website widget',
        params: IdParams,
        response: { 200: Widget },
      },
    },
    async (request, reply) => {
      const widget = await service.getWidget(
        app.db,
        tenantOf(request),
        request.params.id,
        publicBase(request),
      );
      setEtag(reply, widget.version);
      return widget;
    },
  );

  app.patch(
    '/widgets/:id',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Change a website widget',
        params: IdParams,
        body: WidgetPatch,
        response: { 200: Widget },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const widget = await service.updateWidget(
        ctxOf(app, request),
        request.params.id,
        version,
        request.body,
        publicBase(request),
      );
      setEtag(reply, widget.version);
      return widget;
    },
  );

  app.delete(
    '/widgets/:id',
    {
      config: { auth: WRITE_ROLES },
      schema: {
        tags,
        summary: 'Delete a website widget',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await service.deleteWidget(
        ctxOf(app, request),
        request.params.id,
        expectedVersion(request),
        publicBase(request),
      );
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/offline-messages',
    {
      config: { auth: STAFF_ROLES },
      schema: {
        tags,
        summary: 'Messages visitors left while nobody was there',
        querystring: OfflineMessageListQuery,
        response: { 200: OfflineMessageList },
      },
    },
    async (request) => {
      const page = await repo.listOfflineMessages(app.db, tenantOf(request), request.query);
      return {
        nextCursor: page.nextCursor,
        items: page.items.map((m) => ({
          id: m.id,
          widgetId: m.widgetId,
          name: m.name,
          email: m.email,
          phone: m.phone,
          message: m.message,
          pageUrl: m.pageUrl,
          createdAt: iso(m.createdAt),
          handledAt: m.handledAt ? iso(m.handledAt) : null,
        })),
      };
    },
  );

  // ── Public: what a customer's page calls ──────────────────────────────────────────────────

  const enabledWidget = async (publicId: string) => {
    const widget = await repo.findByPublicId(app.db, publicId);
    if (!widget || !widget.enabled) throw widgetGone();
    return widget;
  };

  /** CORS preflight of a public POST: only an allowed origin gets the go-ahead. */
  const preflight = (
    url: string,
    find: (request: FastifyRequest) => Promise<repo.WidgetRow | undefined>,
  ) =>
    app.options(
      url,
      {
        config: { auth: 'public' },
        schema: {
          ...preflightSchema,
          params: url.includes(':ticket') ? TicketParams : PublicIdParams,
        },
      },
      async (request, reply) => {
        if (!allowCors(request, reply, await find(request).catch(() => undefined)))
          return reply.code(403).send(null);
        reply.header('access-control-allow-methods', 'GET, POST');
        reply.header('access-control-allow-headers', 'content-type');
        reply.header('access-control-max-age', '600');
        return reply.code(204).send(null);
      },
    );
  const byParam = (request: FastifyRequest) =>
    repo.findByPublicId(app.db, (request.params as { id: string }).id);
  const byTicket = async (request: FastifyRequest) => {
    const ticket = await repo.findTicket(app.db, (request.params as { ticket: string }).ticket);
    return (
      ticket &&
      (await app.db
        .selectFrom('widgets')
        .selectAll()
        .where('id', '=', ticket.widgetId)
        .executeTakeFirst())
    );
  };

  app.get(
    '/widgets/:id/config',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'A widget’s public settings (for the loader on the customer’s page)',
        params: PublicIdParams,
        response: { 200: PublicConfig },
      },
    },
    async (request, reply) => {
      const widget = await enabledWidget(request.params.id);
      allowCors(request, reply, widget);
      reply.header('cache-control', 'no-store');
      return {
        id: widget.publicId,
        color: widget.color,
        label: widget.label,
        position: widget.position,
        logoUrl: widget.logoUrl,
        greeting: widget.greeting,
        call: Boolean(widget.callEnabled) && widget.callQueueId !== null,
        chat: Boolean(widget.chatEnabled) && widget.chatQueueId !== null,
        open: await service.isOpenNow(app.db, widget),
        prechatFields: fromJson<PrechatField[]>(widget.prechatFields, []),
      };
    },
  );

  preflight('/widgets/:id/calls', byParam);
  app.post(
    '/widgets/:id/calls',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'A call ticket: a short-lived WebRTC endpoint for one visitor call',
        description:
          'Only from an allowed Origin (403 otherwise); rate-limited per address and per widget ' +
          '(429 with Retry-After); outside business hours 409 WIDGET_OFFLINE (show the offline form).',
        params: PublicIdParams,
        body: TicketRequest,
        response: { 201: CallTicket },
      },
    },
    async (request, reply) => {
      const widget = await enabledWidget(request.params.id);
      if (!allowCors(request, reply, widget)) throw originNotAllowed();
      if (!widget.callEnabled || widget.callQueueId === null)
        throw new AppError('CALLS_NOT_OFFERED', 'This widget does not offer calls', 409);
      const limits = app.config.widget;
      await app.widgetCalls.limiter.hit([
        { bucket: `widget-call:ip:${request.ip}`, max: limits.callsPerIpPerWindow },
        { bucket: `widget-call:widget:${widget.id}`, max: limits.callsPerWidgetPerWindow },
      ]);
      if (!(await service.isOpenNow(app.db, widget))) {
        throw new AppError(
          'WIDGET_OFFLINE',
          'Nobody is answering now; leave a message instead',
          409,
          { offline: true },
        );
      }
      const ticket = await app.widgetCalls.calls.issue(widget, request.body, request.ip);
      return reply.code(201).header('cache-control', 'no-store').send(ticket);
    },
  );

  preflight('/widgets/:id/offline-messages', byParam);
  app.post(
    '/widgets/:id/offline-messages',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Leave a message (outside hours, or nobody available)',
        params: PublicIdParams,
        body: OfflineMessageCreate,
        response: { 201: OfflineMessage },
      },
    },
    async (request, reply) => {
      const widget = await enabledWidget(request.params.id);
      if (!allowCors(request, reply, widget)) throw originNotAllowed();
      await app.widgetCalls.limiter.hit([
        { bucket: `widget-offline:ip:${request.ip}`, max: app.config.widget.callsPerIpPerWindow },
      ]);
      const body = request.body;
      const id = await repo.insertOfflineMessage(app.db, {
        tenantId: widget.tenantId,
        widgetId: widget.id,
        name: body.name ?? null,
        email: body.email ?? null,
        phone: body.phone ?? null,
        message: body.message,
        pageUrl: body.pageUrl ?? null,
      });
      const message = {
        id,
        widgetId: widget.id,
        name: body.name ?? null,
        email: body.email ?? null,
        phone: body.phone ?? null,
        message: body.message,
        pageUrl: body.pageUrl ?? null,
        createdAt: new Date().toISOString(),
        handledAt: null,
      };
      app.realtime.publish(widget.tenantId, 'widget.offline_message', message);
      // The message becomes a helpdesk ticket too (requester: the contact with that email or
      // number, made if new). The stored message above stays, whatever happens here.
      const phone = body.phone?.replace(/[\s().-]/g, '');
      await ticketFromOfflineForm(systemCtx(app, widget.tenantId), {
        submissionId: `widget-offline-${id}`,
        name: body.name?.trim() || 'Website visitor',
        ...(body.email ? { email: body.email } : {}),
        ...(phone && /^\+[1-9][0-9]{6,14}$/.test(phone) ? { phone } : {}),
        message: body.pageUrl ? `${body.message}\n\n(left on ${body.pageUrl})` : body.message,
      }).catch((err: unknown) => request.log.warn({ err, offlineMessageId: id }, 'offline message not turned into a ticket'));
      return reply.code(201).send(message);
    },
  );

  const ticketFor = async (request: FastifyRequest, reply: FastifyReply, value: string) => {
    const ticket = await repo.findTicket(app.db, value);
    if (!ticket) throw ticketNotFound();
    const widget = await app.db
      .selectFrom('widgets')
      .selectAll()
      .where('id', '=', ticket.widgetId)
      .executeTakeFirst();
    if (!allowCors(request, reply, widget)) throw originNotAllowed();
    return ticket;
  };

  app.get(
    '/widget-calls/:ticket',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Where a visitor’s call stands (queue position while queued)',
        params: TicketParams,
        response: { 200: TicketStatus },
      },
    },
    async (request, reply) => {
      const ticket = await ticketFor(request, reply, request.params.ticket);
      reply.header('cache-control', 'no-store');
      return app.widgetCalls.calls.status(ticket);
    },
  );

  preflight('/widget-calls/:ticket/callback', byTicket);
  app.post(
    '/widget-calls/:ticket/callback',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'While queued: be called back on a number instead of waiting on the line',
        params: TicketParams,
        body: CallbackRequest,
        response: { 202: CallbackAnswer },
      },
    },
    async (request, reply) => {
      const ticket = await ticketFor(request, reply, request.params.ticket);
      if (!ticket.callLinkedid)
        throw new AppError('NOT_QUEUED', 'The call has not reached the queue', 409);
      const answer = await app.widgetCalls.calls.requestCallback(ticket, request.body.number);
      return reply.code(202).send(answer);
    },
  );
};
