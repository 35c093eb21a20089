/**
 * Chat routes: the visitor's side (public, from allowed origins, a visitor token) and the staff
 * inbox the console shows (active chats, history, reply, typing, read, transfer, close).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Role } from '../../db/schema.ts';
import { fromJson } from '../../db/json.ts';
import { AppError } from '../../lib/errors.ts';
import { requireAuth, tenantOf } from '../../plugins/auth.ts';
import { IdParams, StringEnum, nullable } from '../routing/common.ts';
import { originAllowed } from '../widgets/origins.ts';
import * as widgets from '../widgets/repository.ts';
import { PublicIdParams } from '../widgets/schemas.ts';
import { chatNotFound } from './service.ts';

const tags = ['chat'];
const STAFF: readonly Role[] = ['tenant_admin', 'supervisor', 'agent', 'helpdesk'];
/** Who may see and act on every chat of the tenant; others only on chats assigned to them. */
const SUPERVISING: readonly Role[] = ['tenant_admin', 'supervisor'];

const ChatSchema = Type.Object({
  id: Type.Integer(),
  widgetId: nullable(Type.Integer()),
  queueId: nullable(Type.Integer()),
  visitorName: nullable(Type.String()),
  visitorEmail: nullable(Type.String()),
  pageUrl: nullable(Type.String()),
  status: StringEnum(['waiting', 'active', 'closed'] as const),
  assignedUserId: nullable(Type.Integer()),
  visitorReadId: Type.Integer(),
  staffReadId: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  acceptedAt: nullable(Type.String({ format: 'date-time' })),
  closedAt: nullable(Type.String({ format: 'date-time' })),
});
const MessageSchema = Type.Object({
  id: Type.Integer(),
  chatId: Type.Integer(),
  sender: StringEnum(['visitor', 'staff', 'system'] as const),
  userId: nullable(Type.Integer()),
  body: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
const ChatWithMessages = Type.Composite([
  ChatSchema,
  Type.Object({ messages: Type.Array(MessageSchema) }),
]);
const Settings = Type.Object({
  maxChatsPerAgent: Type.Integer({
    minimum: 1,
    maximum: 20,
    description: 'Chats one person may hold at once',
  }),
  chatDuringCall: Type.Boolean({
    description: 'A person on a call may still be offered new chats',
  }),
});
const Body = Type.Object(
  { body: Type.String({ minLength: 1, maxLength: 5000 }) },
  { additionalProperties: false },
);

export const chatRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const chats = () => app.chats;

  /** The chat, if this staff member may work on it (404 otherwise, like any other tenant's). */
  const staffChat = async (request: FastifyRequest, id: number) => {
    const auth = requireAuth(request);
    const chat = await chats().get(tenantOf(request), id);
    if (!SUPERVISING.includes(auth.role) && chat.assignedUserId !== auth.userId)
      throw chatNotFound(id);
    return chat;
  };

  // ── Visitor ─────────────────────────────────────────────────────────────────────────────

  const allowedWidget = async (request: FastifyRequest, publicId: string) => {
    const widget = await widgets.findByPublicId(app.db, publicId);
    if (!widget || !widget.enabled) throw new AppError('WIDGET_NOT_FOUND', 'No such widget', 404);
    const origin = request.headers.origin;
    if (!originAllowed(origin, fromJson<string[]>(widget.allowedOrigins, []))) {
      throw new AppError('ORIGIN_NOT_ALLOWED', 'This site is not allowed to use the widget', 403);
    }
    return { widget, origin: origin! };
  };

  app.options(
    '/widgets/:id/chats',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'CORS preflight: 204 for an allowed origin',
        params: PublicIdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { origin } = await allowedWidget(request, (request.params as { id: string }).id);
      return reply
        .header('access-control-allow-origin', origin)
        .header('vary', 'Origin')
        .header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', 'content-type')
        .code(204)
        .send(null);
    },
  );

  app.post(
    '/widgets/:id/chats',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary:
          'A visitor starts a chat (pre-chat form); answers a visitor token for the chat socket',
        params: PublicIdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ maxLength: 120 })),
            email: Type.Optional(Type.String({ maxLength: 254 })),
            pageUrl: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ chat: ChatSchema, token: Type.String() }) },
      },
    },
    async (request, reply) => {
      const { widget, origin } = await allowedWidget(request, request.params.id);
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      await app.widgetCalls.limiter.hit([
        { bucket: `widget-chat:ip:${request.ip}`, max: app.config.widget.callsPerIpPerWindow },
      ]);
      if (!widget.chatEnabled)
        throw new AppError('CHAT_NOT_OFFERED', 'This widget does not offer chat', 409);
      const started = await chats().start(widget, request.body);
      return reply.code(201).send(started);
    },
  );

  app.get(
    '/widgets/:id/chat',
    {
      websocket: true,
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'The visitor’s chat (WebSocket, visitor token in the query)',
        description:
          'Server → visitor: `{"type":"history"|"message"|"typing"|"read"|"status",...}`. Visitor → ' +
          'server: `{"type":"message","body"}`, `{"type":"typing","typing"}`, `{"type":"read","upTo"}`, `{"type":"close"}`.',
        params: PublicIdParams,
        querystring: Type.Object({ token: Type.String() }),
        response: { 101: Type.Null({ description: 'Switching Protocols' }) },
      },
      preValidation: async (request) => {
        const { widget } = await allowedWidget(request, (request.params as { id: string }).id);
        const visitor = await chats().verifyToken((request.query as { token: string }).token);
        if (visitor.tenantId !== widget.tenantId)
          throw new AppError('UNAUTHENTICATED', 'The visitor token is not valid', 401);
        (request as unknown as { visitor: typeof visitor }).visitor = visitor;
      },
    },
    async (socket, request) => {
      const { chatId, tenantId } = (
        request as unknown as { visitor: { chatId: number; tenantId: number } }
      ).visitor;
      chats().attach(chatId, socket);
      const send = (m: unknown) =>
        socket.readyState === socket.OPEN && socket.send(JSON.stringify(m));
      socket.on('message', (raw: Buffer) => {
        void (async () => {
          const m = JSON.parse(raw.toString()) as {
            type?: string;
            body?: unknown;
            typing?: unknown;
            upTo?: unknown;
          };
          if (
            m.type === 'message' &&
            typeof m.body === 'string' &&
            m.body.trim() &&
            m.body.length <= 5000
          ) {
            await chats().post(tenantId, chatId, { sender: 'visitor' }, m.body);
          } else if (m.type === 'typing')
            chats().typing(tenantId, chatId, 'visitor', Boolean(m.typing));
          else if (m.type === 'read' && Number.isInteger(m.upTo))
            await chats().read(tenantId, chatId, 'visitor', Number(m.upTo));
          else if (m.type === 'close') await chats().close(tenantId, chatId, 'visitor');
        })().catch((err: unknown) =>
          send({ type: 'error', message: err instanceof AppError ? err.message : 'failed' }),
        );
      });
      const chat = await chats().get(tenantId, chatId);
      const agent =
        chat.assignedUserId === null
          ? undefined
          : await app.db
              .selectFrom('users')
              .select('displayName')
              .where('id', '=', chat.assignedUserId)
              .executeTakeFirst();
      send({
        type: 'history',
        chat,
        agentName: agent?.displayName ?? null,
        messages: await chats().messages(tenantId, chatId),
      });
    },
  );

  // ── Staff inbox ─────────────────────────────────────────────────────────────────────────

  app.get(
    '/chats',
    {
      config: { auth: STAFF },
      schema: {
        tags,
        summary: 'The chat inbox: chats by status (agents and helpdesk see their own)',
        querystring: Type.Object({
          status: Type.Optional(StringEnum(['waiting', 'active', 'closed'] as const)),
          assignedUserId: Type.Optional(Type.Integer({ minimum: 1 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(ChatSchema) }) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const q = request.query;
      const assignedUserId = SUPERVISING.includes(auth.role) ? q.assignedUserId : auth.userId;
      if (
        !SUPERVISING.includes(auth.role) &&
        q.assignedUserId !== undefined &&
        q.assignedUserId !== auth.userId
      )
        return { items: [] };
      return {
        items: await chats().list(tenantOf(request), {
          status: q.status,
          assignedUserId,
          limit: q.limit,
        }),
      };
    },
  );

  app.get(
    '/chats/:id',
    {
      config: { auth: STAFF },
      schema: {
        tags,
        summary: 'A chat with its history',
        params: IdParams,
        response: { 200: ChatWithMessages },
      },
    },
    async (request) => {
      const chat = await staffChat(request, request.params.id);
      return { ...chat, messages: await chats().messages(tenantOf(request), chat.id) };
    },
  );

  app.post(
    '/chats/:id/messages',
    {
      config: { auth: STAFF },
      schema: {
        tags,
        summary: 'Reply to the visitor',
        params: IdParams,
        body: Body,
        response: { 201: MessageSchema },
      },
    },
    async (request, reply) => {
      const chat = await staffChat(request, request.params.id);
      const message = await chats().post(
        tenantOf(request),
        chat.id,
        { sender: 'staff', userId: requireAuth(request).userId },
        request.body.body,
      );
      return reply.code(201).send(message);
    },
  );

  app.post(
    '/chats/:id/typing',
    {
      config: { auth: STAFF },
      schema: {
        tags,
        summary: 'Tell the visitor you are typing (or stopped)',
        params: IdParams,
        body: Type.Object({ typing: Type.Boolean() }, { additionalProperties: false }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const chat = await staffChat(request, request.params.id);
      chats().typing(tenantOf(request), chat.id, 'staff', request.body.typing);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/chats/:id/read',
    {
      config: { auth: STAFF },
      schema: {
        tags,
        summary: 'Mark the visitor’s messages read up to a message id',
        params: IdParams,
        body: Type.Object({ upTo: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const chat = await staffChat(request, request.params.id);
      await chats().read(tenantOf(request), chat.id, 'staff', request.body.upTo);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/chats/:id/transfer',
    {
      config: { auth: STAFF },
      schema: {
        tags,
        summary: 'Hand the chat to another person, or back to a queue',
        params: IdParams,
        body: Type.Object(
          {
            userId: Type.Optional(Type.Integer({ minimum: 1 })),
            queueId: Type.Optional(Type.Integer({ minimum: 1 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ChatSchema },
      },
    },
    async (request) => {
      const chat = await staffChat(request, request.params.id);
      return chats().transfer(
        tenantOf(request),
        chat.id,
        request.body,
        requireAuth(request).userId,
      );
    },
  );

  app.post(
    '/chats/:id/close',
    {
      config: { auth: STAFF },
      schema: { tags, summary: 'Close the chat', params: IdParams, response: { 200: ChatSchema } },
    },
    async (request) => {
      const chat = await staffChat(request, request.params.id);
      return chats().close(tenantOf(request), chat.id, 'staff');
    },
  );

  app.get(
    '/chat-settings',
    {
      config: { auth: ['tenant_admin', 'supervisor'] },
      schema: {
        tags,
        summary: 'The tenant’s chat capacity (shared with voice)',
        response: { 200: Settings },
      },
    },
    async (request) => chats().settings(tenantOf(request)),
  );

  app.put(
    '/chat-settings',
    {
      config: { auth: ['tenant_admin'] },
      schema: {
        tags,
        summary: 'Set the chat capacity',
        body: Type.Partial(Settings, { additionalProperties: false }),
        response: { 200: Settings },
      },
    },
    async (request) => {
      const tenantId = tenantOf(request);
      await chats().setSettings(tenantId, request.body);
      await chats().routeWaiting(tenantId);
      return chats().settings(tenantId);
    },
  );
};
