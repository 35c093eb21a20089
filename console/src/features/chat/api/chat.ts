/**
 * The staff side of live chat: the inbox, one conversation, and what the realtime topics
 * (`chat.*`, `widget.offline_message`) change in them. Messages, typing and read marks arrive
 * over the console's one WebSocket; the REST answers are the truth after a reconnect.
 */
import { queryOptions } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api.ts';

export type ChatStatus = 'waiting' | 'active' | 'closed';

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

export interface ChatMessage {
  id: number;
  chatId: number;
  sender: 'visitor' | 'staff' | 'system';
  userId: number | null;
  body: string;
  createdAt: string;
}

export interface ChatWithMessages extends Chat {
  messages: ChatMessage[];
}

export interface OfflineMessage {
  id: number;
  widgetId: number | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  message: string;
  pageUrl: string | null;
  createdAt: string;
  handledAt: string | null;
}

export const getChats = (status: ChatStatus) =>
  api.request<{ items: Chat[] }>('GET', `/chats${qs({ status, limit: 100 })}`);
export const getChat = (id: number) => api.request<ChatWithMessages>('GET', `/chats/${id}`);
export const sendMessage = (id: number, body: string) =>
  api.request<ChatMessage>('POST', `/chats/${id}/messages`, { body });
export const sendTyping = (id: number, typing: boolean) =>
  api.request('POST', `/chats/${id}/typing`, { typing });
export const markRead = (id: number, upTo: number) =>
  api.request('POST', `/chats/${id}/read`, { upTo });
export const transferChat = (id: number, to: { userId: number } | { queueId: number }) =>
  api.request<Chat>('POST', `/chats/${id}/transfer`, to);
export const closeChat = (id: number) => api.request<Chat>('POST', `/chats/${id}/close`);
export const getOfflineMessages = () =>
  api.request<Page<OfflineMessage>>('GET', `/offline-messages${qs({ limit: 50 })}`);
/** Colleagues to hand a chat to (every staff role may read the agent list). */
export const getColleagues = () =>
  api.request<{ items: Array<{ userId: number; displayName: string; status: string }> }>(
    'GET',
    '/agents',
  );
/** Queues, for those allowed to list them (admins, supervisors); others get none. */
export const getQueues = () =>
  api
    .request<Page<{ id: number; name: string }>>('GET', `/queues${qs({ limit: 200 })}`)
    .catch(() => ({ items: [], nextCursor: null }));

export const chatKeys = {
  all: ['chats'] as const,
  list: (status: ChatStatus) => ['chats', 'list', status] as const,
  one: (id: number) => ['chats', 'one', id] as const,
  offline: ['offline-messages'] as const,
};

export const chatsQuery = (status: ChatStatus) =>
  queryOptions({ queryKey: chatKeys.list(status), queryFn: () => getChats(status) });
export const chatQuery = (id: number) =>
  queryOptions({ queryKey: chatKeys.one(id), queryFn: () => getChat(id) });
export const offlineQuery = () =>
  queryOptions({ queryKey: chatKeys.offline, queryFn: getOfflineMessages });
export const colleaguesQuery = () =>
  queryOptions({ queryKey: ['chat-colleagues'], queryFn: getColleagues, staleTime: 30_000 });
export const transferQueuesQuery = () =>
  queryOptions({ queryKey: ['chat-queues'], queryFn: getQueues, staleTime: 60_000 });

// ── Pure helpers (tested) ─────────────────────────────────────────────────────────────────

/** A new message into a conversation: once, in id order (the REST answer and the event race). */
export function withMessage(chat: ChatWithMessages, message: ChatMessage): ChatWithMessages {
  if (message.chatId !== chat.id || chat.messages.some((m) => m.id === message.id)) return chat;
  const messages = [...chat.messages, message].sort((a, b) => a.id - b.id);
  return { ...chat, messages };
}

/** A read mark into a conversation; marks only move forward. */
export function withRead(
  chat: ChatWithMessages,
  read: { chatId: number; by: 'visitor' | 'staff'; upTo: number },
): ChatWithMessages {
  if (read.chatId !== chat.id) return chat;
  const key = read.by === 'visitor' ? 'visitorReadId' : 'staffReadId';
  return read.upTo > chat[key] ? { ...chat, [key]: read.upTo } : chat;
}

/** The newest visitor message the staff side has not marked read yet (what to mark), if any. */
export function unreadUpTo(chat: ChatWithMessages): number | undefined {
  const last = chat.messages.filter((m) => m.sender === 'visitor').at(-1);
  return last && last.id > chat.staffReadId ? last.id : undefined;
}

/** The id of the last staff message the visitor has seen: where the "Seen" mark goes. */
export function seenStaffMessageId(chat: ChatWithMessages): number | undefined {
  return chat.messages.filter((m) => m.sender === 'staff' && m.id <= chat.visitorReadId).at(-1)?.id;
}

/** Unread visitor messages per chat in the inbox list, from the messages seen live. */
export function unreadCounts(
  counts: Record<number, number>,
  event: { topic: string; data: Record<string, unknown> },
  openChatId: number | undefined,
): Record<number, number> {
  const chatId = Number(event.data.chatId ?? event.data.id);
  if (event.topic === 'chat.message' && event.data.sender === 'visitor' && chatId !== openChatId)
    return { ...counts, [chatId]: (counts[chatId] ?? 0) + 1 };
  if ((event.topic === 'chat.read' && event.data.by === 'staff') || event.topic === 'chat.closed') {
    if (!(chatId in counts)) return counts;
    const next = { ...counts };
    delete next[chatId];
    return next;
  }
  return counts;
}

/**
 * Typing notices from the visitor are edges (`typing: true|false`); a lost `false` must not
 * leave the indicator on forever, so each `true` holds for a few seconds only.
 */
export class TypingTracker {
  private readonly until = new Map<number, number>();
  constructor(private readonly holdMs = 6_000) {}

  update(chatId: number, typing: boolean, now: number): void {
    if (typing) this.until.set(chatId, now + this.holdMs);
    else this.until.delete(chatId);
  }

  /** A message from the visitor ends their typing. */
  message(chatId: number): void {
    this.until.delete(chatId);
  }

  isTyping(chatId: number, now: number): boolean {
    return (this.until.get(chatId) ?? 0) > now;
  }
}

/**
 * Outgoing typing notices: `true` once when typing starts (again at most every `refreshMs`,
 * so the far side's hold does not lapse), `false` after `idleMs` without a key or on send.
 */
export class TypingSender {
  private lastSent = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private on = false;
  constructor(
    private readonly send: (typing: boolean) => void,
    private readonly idleMs = 3_000,
    private readonly refreshMs = 4_000,
    private readonly now: () => number = Date.now,
  ) {}

  keystroke(): void {
    const t = this.now();
    if (!this.on || t - this.lastSent >= this.refreshMs) {
      this.on = true;
      this.lastSent = t;
      this.send(true);
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stop(), this.idleMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    if (!this.on) return;
    this.on = false;
    this.send(false);
  }
}
