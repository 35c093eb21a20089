/**
 * Live chat between website visitors and staff.
 *
 *   visitor: POST /widgets/:id/chats (pre-chat form) ──► chat 'waiting' + a visitor token
 *            (JWT, kept in the page's localStorage: a reload resumes the chat with its history)
 *   routing: to a member of the widget's chat queue with spare capacity ──► 'active'
 *            nobody ──► stays 'waiting'; tried again when an agent frees up or a chat closes
 *   either side: messages, typing, read marks ──► the other side live (visitor WebSocket;
 *            staff through the console's realtime topics chat.*)
 *   staff: transfer (to a person or a queue), close ──► 'closed'
 *
 * The capacity model is shared with voice: a person takes one call, or up to the tenant's
 * `max_chats_per_agent` chats. Unless the tenant allows the two at once (`chat_during_call`), a
 * person on a call (ringing, talking, wrapping up) gets no new chat, and a person holding chats
 * is offered no call: the ACD asks `holdsChats()`, answered from counts this service keeps in
 * memory (refreshed from MySQL whenever a chat changes hands), since the call path must not wait
 * on a query. When someone's last chat ends, `onChatsFreed` lets the ACD offer them a call.
 */
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { SignJWT, jwtVerify } from 'jose';
import type { WebSocket } from 'ws';
import type { Db } from '../../db/database.ts';
import type { ChatStatus } from '../../db/schema.ts';
import { fromJson } from '../../db/json.ts';
import { AppError } from '../../lib/errors.ts';
import type { RealtimeHub } from '../../plugins/realtime.ts';
import type { AgentRegistry } from '../agents/registry.ts';
import { AgentStatus } from '../calls/acd/agent-state.ts';

const ISSUER = 'calldock';
const AUDIENCE = 'calldock-visitor';
const TOKEN_TTL = '30d';

export interface ChatMessage {
  id: number;
  chatId: number;
  sender: 'visitor' | 'staff' | 'system';
  userId: number | null;
  body: string;
  createdAt: string;
}

export interface Chat {
  id: number;
  widgetId: number | null;
  queueId: number | null;
  visitorName: string | null;
  visitorEmail: string | null;
  pageUrl: string | null;
  status: ChatStatus;
  assignedUserId: number | null;
  visitorReadId: number;
  staffReadId: number;
  createdAt: string;
  acceptedAt: string | null;
  closedAt: string | null;
}

export const chatNotFound = (id: number | string) =>
  new AppError('CHAT_NOT_FOUND', `Chat ${id} not found`, 404);

type ChatRow = Awaited<ReturnType<ChatService['row']>> & object;

function toChat(row: NonNullable<ChatRow>): Chat {
  return {
    id: row.id,
    widgetId: row.widgetId,
    queueId: row.queueId,
    visitorName: row.visitorName,
    visitorEmail: row.visitorEmail,
    pageUrl: row.pageUrl,
    status: row.status,
    assignedUserId: row.assignedUserId,
    visitorReadId: row.visitorReadId,
    staffReadId: row.staffReadId,
    createdAt: row.createdAt.toISOString(),
    acceptedAt: row.acceptedAt?.toISOString() ?? null,
    closedAt: row.closedAt?.toISOString() ?? null,
  };
}

/** Statuses in which a person is "on a call" for the capacity model. */
const ON_CALL = new Set<string>([AgentStatus.Ringing, AgentStatus.OnCall, AgentStatus.WrapUp]);

export class ChatService {
  /** Visitors' open sockets, by chat. */
  private readonly visitors = new Map<number, Set<WebSocket>>();
  private secret: Uint8Array | undefined;
  /** Active chats per person, by tenant, and whether the tenant lets chats and calls mix. */
  private readonly load = new Map<number, { chatDuringCall: boolean; chats: Map<number, number> }>();
  /** Called with a person whose last active chat just ended (the ACD may offer them a call). */
  onChatsFreed: ((tenantId: number, userId: number) => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly agents: AgentRegistry,
    private readonly realtime: RealtimeHub,
    private readonly log: FastifyBaseLogger,
  ) {}

  // ── Visitor tokens ──────────────────────────────────────────────────────────────────────

  /**
   * Visitor tokens are HS256 JWTs under a key derived from the platform's current signing key,
   * so they survive restarts without a secret of their own, and never pass as access tokens
   * (another audience, another algorithm).
   */
  private async key(): Promise<Uint8Array> {
    if (this.secret) return this.secret;
    const row = await this.db
      .selectFrom('signingKeys')
      .select('privateJwk')
      .where('retiredAt', 'is', null)
      .orderBy('createdAt', 'asc')
      .executeTakeFirst();
    if (!row) throw new AppError('NOT_READY', 'Signing keys are not loaded yet', 503);
    const d = fromJson<{ d?: string }>(row.privateJwk, {}).d ?? '';
    this.secret = createHash('sha256').update(`calldock-visitor-token:${d}`).digest();
    return this.secret;
  }

  async issueToken(chatId: number, visitorKey: string, tenantId: number): Promise<string> {
    return new SignJWT({ cid: chatId, tid: tenantId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(visitorKey)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(TOKEN_TTL)
      .sign(await this.key());
  }

  /** The chat a visitor token is for, or a 401. */
  async verifyToken(
    token: string,
  ): Promise<{ chatId: number; tenantId: number; visitorKey: string }> {
    try {
      const { payload } = await jwtVerify(token, await this.key(), {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
      });
      const chatId = Number(payload.cid);
      const tenantId = Number(payload.tid);
      if (
        !Number.isInteger(chatId) ||
        !Number.isInteger(tenantId) ||
        typeof payload.sub !== 'string'
      )
        throw new Error('claims');
      return { chatId, tenantId, visitorKey: payload.sub };
    } catch {
      throw new AppError('UNAUTHENTICATED', 'The visitor token is not valid', 401);
    }
  }

  // ── Reads ───────────────────────────────────────────────────────────────────────────────

  row(tenantId: number, id: number) {
    return this.db
      .selectFrom('chats')
      .selectAll()
      .where('tenantId', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async get(tenantId: number, id: number): Promise<Chat> {
    const row = await this.row(tenantId, id);
    if (!row) throw chatNotFound(id);
    return toChat(row);
  }

  async messages(tenantId: number, chatId: number): Promise<ChatMessage[]> {
    const rows = await this.db
      .selectFrom('chatMessages')
      .selectAll()
      .where('tenantId', '=', tenantId)
      .where('chatId', '=', chatId)
      .orderBy('id')
      .limit(1000)
      .execute();
    return rows.map((m) => ({
      id: m.id,
      chatId: m.chatId,
      sender: m.sender,
      userId: m.userId,
      body: m.body,
      createdAt: m.createdAt.toISOString(),
    }));
  }

  async list(
    tenantId: number,
    filter: {
      status?: ChatStatus | undefined;
      assignedUserId?: number | undefined;
      limit?: number | undefined;
    },
  ): Promise<Chat[]> {
    let q = this.db.selectFrom('chats').selectAll().where('tenantId', '=', tenantId);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.assignedUserId !== undefined)
      q = q.where('assignedUserId', '=', filter.assignedUserId);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
    return rows.map(toChat);
  }

  async settings(tenantId: number): Promise<{ maxChatsPerAgent: number; chatDuringCall: boolean }> {
    const row = await this.db
      .selectFrom('tenants')
      .select(['maxChatsPerAgent', 'chatDuringCall'])
      .where('id', '=', tenantId)
      .executeTakeFirst();
    return {
      maxChatsPerAgent: row?.maxChatsPerAgent ?? 3,
      chatDuringCall: Boolean(row?.chatDuringCall),
    };
  }

  async setSettings(
    tenantId: number,
    values: { maxChatsPerAgent?: number | undefined; chatDuringCall?: boolean | undefined },
  ): Promise<void> {
    const set: { maxChatsPerAgent?: number; chatDuringCall?: number } = {};
    if (values.maxChatsPerAgent !== undefined) set.maxChatsPerAgent = values.maxChatsPerAgent;
    if (values.chatDuringCall !== undefined) set.chatDuringCall = values.chatDuringCall ? 1 : 0;
    if (Object.keys(set).length > 0) {
      await this.db.updateTable('tenants').set(set).where('id', '=', tenantId).execute();
      await this.refreshLoad(tenantId);
    }
  }

  // ── Capacity shared with calls ──────────────────────────────────────────────────────────

  /** True when `userId` holds active chats and the tenant keeps chats and calls apart. */
  holdsChats(tenantId: number, userId: number): boolean {
    const tenant = this.load.get(tenantId);
    return tenant !== undefined && !tenant.chatDuringCall && (tenant.chats.get(userId) ?? 0) > 0;
  }

  /** Reads every tenant's active chats (at start). */
  async primeLoad(): Promise<void> {
    const tenants = await this.db
      .selectFrom('chats')
      .select('tenantId')
      .distinct()
      .where('status', '=', 'active')
      .execute();
    for (const { tenantId } of tenants) await this.refreshLoad(tenantId);
  }

  /** Reads one tenant's active chats per person again; tells who has none left. */
  async refreshLoad(tenantId: number): Promise<void> {
    const [rows, { chatDuringCall }] = await Promise.all([
      this.db
        .selectFrom('chats')
        .select(['assignedUserId', (eb) => eb.fn.countAll<number>().as('n')])
        .where('tenantId', '=', tenantId)
        .where('status', '=', 'active')
        .where('assignedUserId', 'is not', null)
        .groupBy('assignedUserId')
        .execute(),
      this.settings(tenantId),
    ]);
    const chats = new Map(rows.map((r) => [Number(r.assignedUserId), Number(r.n)]));
    const before = this.load.get(tenantId);
    this.load.set(tenantId, { chatDuringCall, chats });
    for (const userId of before?.chats.keys() ?? []) {
      if (!chats.has(userId) || (chatDuringCall && !before?.chatDuringCall)) this.onChatsFreed?.(tenantId, userId);
    }
  }

  private refreshSoon(tenantId: number): void {
    this.refreshLoad(tenantId).catch((err: unknown) => this.log.warn({ err, tenantId }, 'chat load refresh failed'));
  }

  // ── Starting, routing ───────────────────────────────────────────────────────────────────

  async start(
    widget: { id: number; tenantId: number; chatQueueId: number | null },
    visitor: {
      name?: string | undefined;
      email?: string | undefined;
      pageUrl?: string | undefined;
    },
  ): Promise<{ chat: Chat; token: string }> {
    if (widget.chatQueueId === null)
      throw new AppError('CHAT_NOT_OFFERED', 'This widget does not offer chat', 409);
    const visitorKey = randomBytes(16).toString('hex');
    const result = await this.db
      .insertInto('chats')
      .values({
        tenantId: widget.tenantId,
        widgetId: widget.id,
        queueId: widget.chatQueueId,
        visitorKey,
        visitorName: visitor.name?.trim() || null,
        visitorEmail: visitor.email?.trim() || null,
        pageUrl: visitor.pageUrl?.slice(0, 1000) ?? null,
      })
      .executeTakeFirstOrThrow();
    const id = Number(result.insertId);
    const chat = await this.get(widget.tenantId, id);
    this.realtime.publish(widget.tenantId, 'chat.created', chat);
    await this.route(widget.tenantId, id);
    return {
      chat: await this.get(widget.tenantId, id),
      token: await this.issueToken(id, visitorKey, widget.tenantId),
    };
  }

  /** Who of `userIds` may take one more chat now, least loaded first. */
  private async withCapacity(
    tenantId: number,
    userIds: number[],
    except?: number,
  ): Promise<number[]> {
    if (userIds.length === 0) return [];
    const { maxChatsPerAgent, chatDuringCall } = await this.settings(tenantId);
    const loads = await this.db
      .selectFrom('chats')
      .select(['assignedUserId', (eb) => eb.fn.countAll<number>().as('n')])
      .where('tenantId', '=', tenantId)
      .where('status', '=', 'active')
      .where('assignedUserId', 'in', userIds)
      .groupBy('assignedUserId')
      .execute();
    const load = new Map(loads.map((l) => [Number(l.assignedUserId), Number(l.n)]));
    const records = await this.agents.getMany(userIds);
    return records
      .filter((r) => r.userId !== except)
      .filter(
        (r) =>
          r.state.status === AgentStatus.Available ||
          (chatDuringCall && ON_CALL.has(r.state.status)),
      )
      .filter((r) => (load.get(r.userId) ?? 0) < maxChatsPerAgent)
      .sort((a, b) => (load.get(a.userId) ?? 0) - (load.get(b.userId) ?? 0))
      .map((r) => r.userId);
  }

  /** Offers a waiting chat to a queue member with capacity; true when it was assigned. */
  async route(tenantId: number, chatId: number, except?: number): Promise<boolean> {
    const chat = await this.row(tenantId, chatId);
    if (!chat || chat.status !== 'waiting' || chat.queueId === null) return false;
    const members = await this.db
      .selectFrom('queueMembers')
      .select('userId')
      .where('tenantId', '=', tenantId)
      .where('queueId', '=', chat.queueId)
      .execute();
    const [userId] = await this.withCapacity(
      tenantId,
      members.map((m) => m.userId),
      except,
    );
    if (userId === undefined) return false;
    return this.assign(tenantId, chatId, userId, 'waiting');
  }

  private async assign(
    tenantId: number,
    chatId: number,
    userId: number,
    from: ChatStatus,
  ): Promise<boolean> {
    const updated = await this.db
      .updateTable('chats')
      .set({ status: 'active', assignedUserId: userId, acceptedAt: new Date() })
      .where('tenantId', '=', tenantId)
      .where('id', '=', chatId)
      .where('status', '=', from)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return false;
    await this.refreshLoad(tenantId);
    const user = await this.db
      .selectFrom('users')
      .select('displayName')
      .where('id', '=', userId)
      .executeTakeFirst();
    const chat = await this.get(tenantId, chatId);
    this.realtime.publish(tenantId, 'chat.assigned', {
      ...chat,
      agentName: user?.displayName ?? null,
    });
    this.toVisitor(chatId, {
      type: 'status',
      status: 'active',
      agentName: user?.displayName ?? null,
    });
    return true;
  }

  /** Someone may have capacity again: waiting chats of the tenant, oldest first. */
  async routeWaiting(tenantId: number): Promise<void> {
    const waiting = await this.db
      .selectFrom('chats')
      .select('id')
      .where('tenantId', '=', tenantId)
      .where('status', '=', 'waiting')
      .orderBy('id')
      .limit(50)
      .execute();
    for (const { id } of waiting) await this.route(tenantId, id);
  }

  // ── Messages, typing, read marks ────────────────────────────────────────────────────────

  async post(
    tenantId: number,
    chatId: number,
    from: { sender: 'visitor' | 'staff' | 'system'; userId?: number },
    body: string,
  ): Promise<ChatMessage> {
    const chat = await this.row(tenantId, chatId);
    if (!chat) throw chatNotFound(chatId);
    if (chat.status === 'closed') throw new AppError('CHAT_CLOSED', 'This chat is closed', 409);
    const result = await this.db
      .insertInto('chatMessages')
      .values({ tenantId, chatId, sender: from.sender, userId: from.userId ?? null, body })
      .executeTakeFirstOrThrow();
    const message: ChatMessage = {
      id: Number(result.insertId),
      chatId,
      sender: from.sender,
      userId: from.userId ?? null,
      body,
      createdAt: new Date().toISOString(),
    };
    this.realtime.publish(tenantId, 'chat.message', message);
    this.toVisitor(chatId, { type: 'message', message });
    return message;
  }

  typing(tenantId: number, chatId: number, from: 'visitor' | 'staff', typing: boolean): void {
    if (from === 'visitor')
      this.realtime.publish(tenantId, 'chat.typing', { chatId, from, typing });
    else this.toVisitor(chatId, { type: 'typing', from, typing });
  }

  async read(
    tenantId: number,
    chatId: number,
    by: 'visitor' | 'staff',
    upTo: number,
  ): Promise<void> {
    const column = by === 'visitor' ? 'visitorReadId' : 'staffReadId';
    await this.db
      .updateTable('chats')
      .set({ [column]: upTo })
      .where('tenantId', '=', tenantId)
      .where('id', '=', chatId)
      .where(column, '<', upTo)
      .execute();
    this.realtime.publish(tenantId, 'chat.read', { chatId, by, upTo });
    if (by === 'staff') this.toVisitor(chatId, { type: 'read', by, upTo });
  }

  // ── Transfer, close ─────────────────────────────────────────────────────────────────────

  async transfer(
    tenantId: number,
    chatId: number,
    to: { userId?: number | undefined; queueId?: number | undefined },
    byUserId: number,
  ): Promise<Chat> {
    const chat = await this.row(tenantId, chatId);
    if (!chat) throw chatNotFound(chatId);
    if (chat.status === 'closed') throw new AppError('CHAT_CLOSED', 'This chat is closed', 409);
    if (to.userId !== undefined) {
      const user = await this.db
        .selectFrom('users')
        .select(['id', 'displayName'])
        .where('tenantId', '=', tenantId)
        .where('id', '=', to.userId)
        .where('status', '=', 'active')
        .executeTakeFirst();
      if (!user)
        throw new AppError('VALIDATION_FAILED', 'Invalid body', 400, [
          { field: 'userId', message: 'is not an active user of this tenant' },
        ]);
      await this.db
        .updateTable('chats')
        .set({ status: 'active', assignedUserId: user.id, acceptedAt: new Date() })
        .where('id', '=', chatId)
        .execute();
      await this.post(tenantId, chatId, { sender: 'system' }, `Transferred to ${user.displayName}`);
      this.toVisitor(chatId, { type: 'status', status: 'active', agentName: user.displayName });
    } else if (to.queueId !== undefined) {
      const queue = await this.db
        .selectFrom('queues')
        .select('id')
        .where('tenantId', '=', tenantId)
        .where('id', '=', to.queueId)
        .executeTakeFirst();
      if (!queue)
        throw new AppError('VALIDATION_FAILED', 'Invalid body', 400, [
          { field: 'queueId', message: 'is not a queue of this tenant' },
        ]);
      await this.db
        .updateTable('chats')
        .set({ status: 'waiting', assignedUserId: null, queueId: queue.id })
        .where('id', '=', chatId)
        .execute();
      await this.post(
        tenantId,
        chatId,
        { sender: 'system' },
        'Transferred; someone will be with you shortly',
      );
      this.toVisitor(chatId, { type: 'status', status: 'waiting', agentName: null });
      await this.route(tenantId, chatId, byUserId);
    } else {
      throw new AppError('VALIDATION_FAILED', 'Invalid body', 400, [
        { field: 'userId', message: 'give userId or queueId' },
      ]);
    }
    this.refreshSoon(tenantId);
    const after = await this.get(tenantId, chatId);
    this.realtime.publish(tenantId, 'chat.transferred', {
      ...after,
      fromUserId: chat.assignedUserId,
      byUserId,
    });
    return after;
  }

  async close(tenantId: number, chatId: number, by: 'visitor' | 'staff'): Promise<Chat> {
    const chat = await this.row(tenantId, chatId);
    if (!chat) throw chatNotFound(chatId);
    if (chat.status !== 'closed') {
      await this.db
        .updateTable('chats')
        .set({ status: 'closed', closedAt: new Date() })
        .where('id', '=', chatId)
        .execute();
      this.toVisitor(chatId, { type: 'status', status: 'closed', agentName: null, by });
      await this.refreshLoad(tenantId);
    }
    const after = await this.get(tenantId, chatId);
    this.realtime.publish(tenantId, 'chat.closed', { ...after, by });
    if (chat.assignedUserId !== null) await this.routeWaiting(tenantId);
    return after;
  }

  // ── Visitor sockets ─────────────────────────────────────────────────────────────────────

  attach(chatId: number, socket: WebSocket): void {
    let set = this.visitors.get(chatId);
    if (!set) this.visitors.set(chatId, (set = new Set()));
    set.add(socket);
    socket.on('close', () => {
      set.delete(socket);
      if (set.size === 0) this.visitors.delete(chatId);
    });
  }

  private toVisitor(chatId: number, message: unknown): void {
    const text = JSON.stringify(message);
    for (const socket of this.visitors.get(chatId) ?? [])
      if (socket.readyState === socket.OPEN) socket.send(text);
  }

  closeAll(): void {
    for (const set of this.visitors.values())
      for (const s of set) s.close(1001, 'server shutting down');
    this.visitors.clear();
    this.log.debug('visitor chat sockets closed');
  }
}
