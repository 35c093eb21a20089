import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  seenStaffMessageId,
  TypingSender,
  TypingTracker,
  unreadCounts,
  unreadUpTo,
  withMessage,
  withRead,
  type ChatMessage,
  type ChatWithMessages,
} from './chat.ts';

const msg = (id: number, sender: ChatMessage['sender'], chatId = 1): ChatMessage => ({
  id,
  chatId,
  sender,
  userId: sender === 'staff' ? 7 : null,
  body: `m${id}`,
  createdAt: new Date(0).toISOString(),
});

const chat = (messages: ChatMessage[], reads = { visitorReadId: 0, staffReadId: 0 }) =>
  ({
    id: 1,
    widgetId: 1,
    queueId: 1,
    visitorName: 'Vera',
    visitorEmail: null,
    pageUrl: null,
    status: 'active',
    assignedUserId: 7,
    createdAt: new Date(0).toISOString(),
    acceptedAt: null,
    closedAt: null,
    ...reads,
    messages,
  }) satisfies ChatWithMessages;

describe('chat conversation state', () => {
  it('adds a message once, in id order, whichever of the answer and the event comes first', () => {
    const c = chat([msg(1, 'visitor'), msg(3, 'visitor')]);
    const once = withMessage(c, msg(2, 'staff'));
    expect(once.messages.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(withMessage(once, msg(2, 'staff'))).toBe(once);
  });

  it('ignores messages and read marks of another chat', () => {
    const c = chat([msg(1, 'visitor')]);
    expect(withMessage(c, msg(5, 'visitor', 2))).toBe(c);
    expect(withRead(c, { chatId: 2, by: 'visitor', upTo: 9 })).toBe(c);
  });

  it('moves read marks forward only', () => {
    const c = chat([msg(1, 'staff'), msg(2, 'staff')], { visitorReadId: 2, staffReadId: 0 });
    expect(withRead(c, { chatId: 1, by: 'visitor', upTo: 1 })).toBe(c);
    expect(withRead(c, { chatId: 1, by: 'staff', upTo: 4 }).staffReadId).toBe(4);
  });

  it('marks the newest visitor message read only when it is not yet', () => {
    const c = chat([msg(1, 'visitor'), msg(2, 'staff'), msg(3, 'visitor'), msg(4, 'staff')]);
    expect(unreadUpTo(c)).toBe(3);
    expect(unreadUpTo({ ...c, staffReadId: 3 })).toBeUndefined();
  });

  it('puts the Seen mark on the last staff message the visitor read', () => {
    const c = chat([msg(1, 'staff'), msg(2, 'visitor'), msg(3, 'staff'), msg(4, 'staff')], {
      visitorReadId: 3,
      staffReadId: 0,
    });
    expect(seenStaffMessageId(c)).toBe(3);
    expect(seenStaffMessageId({ ...c, visitorReadId: 0 })).toBeUndefined();
  });

  it('counts unread visitor messages of chats not open, cleared by a read or a close', () => {
    const ev = (topic: string, data: Record<string, unknown>) => ({ topic, data });
    let counts = unreadCounts({}, ev('chat.message', { chatId: 4, sender: 'visitor' }), 1);
    counts = unreadCounts(counts, ev('chat.message', { chatId: 4, sender: 'visitor' }), 1);
    counts = unreadCounts(counts, ev('chat.message', { chatId: 1, sender: 'visitor' }), 1);
    counts = unreadCounts(counts, ev('chat.message', { chatId: 4, sender: 'staff' }), 1);
    expect(counts).toEqual({ 4: 2 });
    expect(unreadCounts(counts, ev('chat.read', { chatId: 4, by: 'staff', upTo: 3 }), 1)).toEqual(
      {},
    );
    expect(unreadCounts(counts, ev('chat.closed', { id: 4 }), 1)).toEqual({});
  });
});

describe('typing indicators', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('shows the visitor typing until false, a message, or the hold lapses', () => {
    const t = new TypingTracker(6_000);
    t.update(1, true, 1_000);
    expect(t.isTyping(1, 2_000)).toBe(true);
    expect(t.isTyping(1, 7_001)).toBe(false);
    t.update(1, true, 8_000);
    t.message(1);
    expect(t.isTyping(1, 8_001)).toBe(false);
    t.update(1, true, 9_000);
    t.update(1, false, 9_500);
    expect(t.isTyping(1, 9_600)).toBe(false);
  });

  it('sends true once per burst of keys, refreshes it, and false after a pause or on send', () => {
    const sent: boolean[] = [];
    const s = new TypingSender(
      (v) => sent.push(v),
      3_500,
      4_000,
      () => Date.now(),
    );
    s.keystroke();
    vi.advanceTimersByTime(1_000);
    s.keystroke();
    expect(sent).toEqual([true]);
    vi.advanceTimersByTime(3_000);
    s.keystroke(); // 4 s after the first true: refreshed
    expect(sent).toEqual([true, true]);
    vi.advanceTimersByTime(3_499);
    expect(sent).toEqual([true, true]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([true, true, false]);
    s.keystroke();
    s.stop();
    s.stop();
    expect(sent).toEqual([true, true, false, true, false]);
  });
});
