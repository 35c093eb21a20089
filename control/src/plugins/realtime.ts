/**
 * One WebSocket per console at /api/v1/ws, authenticated with the access token (the
 * `access_token` query parameter: browsers cannot set headers on a WebSocket), subscribed to its
 * tenant's topics: `call.*`, `agent.state`, `queue.stats`, `chat.*`, `ticket.*`.
 *
 * Messages are JSON: `{ "topic": "agent.state", "data": {...}, "at": "2026-…Z" }`. A client may
 * narrow what it gets with `{ "subscribe": ["call.*", "agent.state"] }`.
 */
import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { Type } from '@sinclair/typebox';
import { TENANT_ROLES, unauthenticated, type AuthContext } from './auth.ts';

declare module 'fastify' {
  interface FastifyInstance {
    realtime: RealtimeHub;
  }
}

interface Client {
  socket: WebSocket;
  auth: AuthContext;
  topics: string[];
}

function matches(patterns: readonly string[], topic: string): boolean {
  return patterns.some((p) => p === topic || p === '*' || (p.endsWith('.*') && topic.startsWith(p.slice(0, -1))));
}

export class RealtimeHub {
  private readonly clients = new Set<Client>();
  private outbox: Array<{ tenantId: number; topic: string; message: string }> = [];

  get size(): number {
    return this.clients.size;
  }

  add(client: Client): void {
    this.clients.add(client);
  }

  remove(client: Client): void {
    this.clients.delete(client);
  }

  /**
   * Sends to every console of the tenant subscribed to the topic. The message is made now (its
   * `at` and its data as they are now) but sent once the current I/O round is over: a call's
   * events are published on the way to dialling its agent, and a socket write per console must
   * not stand between the caller and the agent's phone. Order is kept.
   */
  publish(tenantId: number, topic: string, data: unknown): void {
    if (this.clients.size === 0) return;
    this.outbox.push({ tenantId, topic, message: JSON.stringify({ topic, data, at: new Date().toISOString() }) });
    if (this.outbox.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const batch = this.outbox;
    this.outbox = [];
    for (const { tenantId, topic, message } of batch) {
      for (const client of this.clients) {
        if (client.auth.tenantId !== tenantId || !matches(client.topics, topic)) continue;
        if (client.socket.readyState === client.socket.OPEN) client.socket.send(message);
      }
    }
  }

  closeAll(): void {
    for (const client of this.clients) client.socket.close(1001, 'server shutting down');
    this.clients.clear();
  }
}

async function realtimePlugin(app: FastifyInstance): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  // @fastify/websocket hides its routes from OpenAPI. The console's event stream is part of the
  // API all the same: show it, as the GET that answers 101 Switching Protocols.
  app.addHook('onRoute', (route) => {
    if (route.websocket && route.schema) (route.schema as { hide?: boolean }).hide = false;
  });
  const hub = new RealtimeHub();
  app.decorate('realtime', hub);
  app.addHook('onClose', async () => hub.closeAll());

  app.get(
    '/api/v1/ws',
    {
      websocket: true,
      // Authenticated below from the query string, not by the bearer-header hook.
      config: { auth: 'public' },
      schema: {
        tags: ['realtime'],
        summary: 'Live events for the console (WebSocket)',
        description:
          'A WebSocket: connect with the access token in the query. Events of your tenant arrive as ' +
          '`{"topic","data","at"}`; send `{"subscribe":["call.*","agent.state"]}` to narrow them.',
        querystring: Type.Object({ access_token: Type.String() }),
        response: { 101: Type.Null({ description: 'Switching Protocols: the WebSocket is open' }) },
      },
      preValidation: async (request) => {
        const token = (request.query as { access_token?: string }).access_token;
        if (!token) throw unauthenticated();
        const auth = await app.tokens.verifyAccessToken(token);
        if (!TENANT_ROLES.includes(auth.role)) throw unauthenticated('Live events belong to a tenant');
        request.auth = auth;
      },
    },
    (socket, request) => {
      const client: Client = { socket, auth: request.auth!, topics: ['*'] };
      hub.add(client);
      socket.on('message', (raw: Buffer) => {
        try {
          const message = JSON.parse(raw.toString()) as { subscribe?: unknown };
          if (Array.isArray(message.subscribe) && message.subscribe.every((t) => typeof t === 'string')) {
            client.topics = message.subscribe as string[];
          }
        } catch {
          socket.send(JSON.stringify({ topic: 'error', data: { message: 'messages must be JSON' } }));
        }
      });
      socket.on('close', () => hub.remove(client));
      socket.send(JSON.stringify({ topic: 'hello', data: { userId: client.auth.userId }, at: new Date().toISOString() }));
    },
  );
}

export default fp(realtimePlugin, { name: 'realtime', fastify: '5.x', dependencies: ['auth'] });
