/**
 * The chat inbox: chats (waiting ones for supervisors, active ones assigned to me, or all for
 * supervisors), one conversation at `/chats/:id` with history, reply, typing both ways, read
 * marks, transfer and close; and the offline messages visitors left. Live through `chat.*`.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import * as Tabs from '@radix-ui/react-tabs';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '../../../lib/api.ts';
import { useRealtime } from '../../../lib/realtime.ts';
import { navigate, usePath } from '../../../lib/router.ts';
import {
  chatKeys,
  chatQuery,
  chatsQuery,
  closeChat,
  colleaguesQuery,
  markRead,
  offlineQuery,
  seenStaffMessageId,
  sendMessage,
  sendTyping,
  transferChat,
  transferQueuesQuery,
  TypingSender,
  TypingTracker,
  unreadCounts,
  unreadUpTo,
  withMessage,
  withRead,
  type Chat,
  type ChatMessage,
  type ChatWithMessages,
} from '../api/chat.ts';

const time = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function openChatId(path: string): number | undefined {
  const m = /^\/chats\/(\d+)/.exec(path);
  return m ? Number(m[1]) : undefined;
}

export default function ChatPage() {
  const qc = useQueryClient();
  const path = usePath();
  const selected = openChatId(path);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const [unread, setUnread] = useState<Record<number, number>>({});
  const tracker = useMemo(() => new TypingTracker(), []);
  const [, rerender] = useState(0);

  useRealtime('chat.*', (event) => {
    const data = event.data;
    const chatId = Number(data.chatId ?? data.id);
    setUnread((u) => unreadCounts(u, event, selectedRef.current));
    switch (event.topic) {
      case 'chat.message':
        tracker.message(chatId);
        qc.setQueryData<ChatWithMessages>(chatKeys.one(chatId), (c) =>
          c ? withMessage(c, data as unknown as ChatMessage) : c,
        );
        rerender((n) => n + 1);
        break;
      case 'chat.typing':
        if (data.from === 'visitor') {
          tracker.update(chatId, Boolean(data.typing), Date.now());
          rerender((n) => n + 1);
          // Repaint when the hold lapses without a `false`.
          setTimeout(() => rerender((n) => n + 1), 6_100);
        }
        break;
      case 'chat.read':
        qc.setQueryData<ChatWithMessages>(chatKeys.one(chatId), (c) =>
          c
            ? withRead(c, {
                chatId,
                by: data.by === 'visitor' ? 'visitor' : 'staff',
                upTo: Number(data.upTo),
              })
            : c,
        );
        break;
      default:
        // created, assigned, transferred, closed: who holds which chat changed.
        void qc.invalidateQueries({ queryKey: chatKeys.all });
    }
  });
  useRealtime('widget.offline_message', () => {
    void qc.invalidateQueries({ queryKey: chatKeys.offline });
  });
  // After a reconnect, events may have been missed: read everything again.
  useRealtime('realtime.open', () => {
    void qc.invalidateQueries({ queryKey: chatKeys.all });
    void qc.invalidateQueries({ queryKey: chatKeys.offline });
  });

  return (
    <Tabs.Root defaultValue="chats" className="admin">
      <Tabs.List aria-label="Chat" className="tabs">
        <Tabs.Trigger value="chats">Chats</Tabs.Trigger>
        <Tabs.Trigger value="offline">Offline messages</Tabs.Trigger>
      </Tabs.List>
      <Tabs.Content value="chats">
        <div className="chat-layout">
          <Inbox
            selected={selected}
            unread={unread}
            typing={(id) => tracker.isTyping(id, Date.now())}
          />
          {selected !== undefined ? (
            <Conversation
              key={selected}
              id={selected}
              visitorTyping={tracker.isTyping(selected, Date.now())}
            />
          ) : (
            <section className="card muted">Pick a chat on the left.</section>
          )}
        </div>
      </Tabs.Content>
      <Tabs.Content value="offline">
        <OfflineMessages />
      </Tabs.Content>
    </Tabs.Root>
  );
}

function Inbox(props: {
  selected: number | undefined;
  unread: Record<number, number>;
  typing: (chatId: number) => boolean;
}) {
  const role = api.current?.user.role;
  const supervising = role === 'tenant_admin' || role === 'supervisor';
  const active = useQuery(chatsQuery('active'));
  const waiting = useQuery({ ...chatsQuery('waiting'), enabled: supervising });
  const list = (title: string, chats: Chat[] | undefined, testId: string) => (
    <>
      <h3>{title}</h3>
      {chats?.length ? (
        <ul className="chat-list" data-testid={testId}>
          {chats.map((c) => (
            <li key={c.id}>
              <a
                href={`/chats/${c.id}`}
                aria-current={c.id === props.selected ? 'true' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(`/chats/${c.id}`);
                }}
              >
                <strong>{c.visitorName ?? `Visitor #${c.id}`}</strong>
                {props.unread[c.id] ? (
                  <span className="badge" aria-label="unread">
                    {props.unread[c.id]}
                  </span>
                ) : null}
                <small className="muted">
                  {props.typing(c.id) ? 'typing…' : `since ${time(c.createdAt)}`}
                </small>
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">None</p>
      )}
    </>
  );
  return (
    <nav className="card chat-inbox" aria-label="Chat inbox">
      {supervising && list('Waiting', waiting.data?.items, 'waiting-chats')}
      {list(supervising ? 'Active' : 'My chats', active.data?.items, 'active-chats')}
    </nav>
  );
}

function Conversation({ id, visitorTyping }: { id: number; visitorTyping: boolean }) {
  const qc = useQueryClient();
  const chat = useQuery(chatQuery(id));
  const me = api.current?.user.id;
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string>();
  const typing = useMemo(
    () => new TypingSender((t) => void sendTyping(id, t).catch(() => undefined)),
    [id],
  );
  useEffect(() => () => typing.stop(), [typing]);
  const bottom = useRef<HTMLLIElement>(null);

  // Mark what I see read: the visitor gets the "Seen" mark.
  const upTo = chat.data ? unreadUpTo(chat.data) : undefined;
  useEffect(() => {
    if (upTo === undefined) return;
    qc.setQueryData<ChatWithMessages>(chatKeys.one(id), (c) =>
      c ? withRead(c, { chatId: id, by: 'staff', upTo }) : c,
    );
    void markRead(id, upTo).catch(() => undefined);
  }, [id, upTo, qc]);
  const count = chat.data?.messages.length ?? 0;
  useEffect(() => {
    // A block body: scroll methods may return a promise, which React would take for a cleanup.
    bottom.current?.scrollIntoView?.({ block: 'end' });
  }, [count, visitorTyping]);

  if (chat.isPending) return <section className="card muted">Loading…</section>;
  if (chat.isError) {
    return (
      <section className="card">
        <p className="muted">
          {chat.error instanceof ApiError && chat.error.status === 404
            ? 'This chat is no longer yours.'
            : chat.error.message}
        </p>
      </section>
    );
  }
  const c = chat.data;
  const closed = c.status === 'closed';
  const seen = seenStaffMessageId(c);

  const send = async (e: FormEvent) => {
    e.preventDefault();
    const body = draft.trim();
    if (!body) return;
    typing.stop();
    setError(undefined);
    try {
      const message = await sendMessage(id, body);
      setDraft('');
      qc.setQueryData<ChatWithMessages>(chatKeys.one(id), (old) =>
        old ? withMessage(old, message) : old,
      );
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section className="card conversation" aria-label="Conversation">
      <header className="row">
        <div>
          <h3>{c.visitorName ?? `Visitor #${c.id}`}</h3>
          <small className="muted">{[c.visitorEmail, c.pageUrl].filter(Boolean).join(' · ')}</small>
        </div>
        <span className="badge" data-testid="chat-status">
          {c.status}
        </span>
      </header>
      <ol className="messages" data-testid="messages">
        {c.messages.map((m) => (
          <li key={m.id} data-sender={m.sender} className={`msg msg-${m.sender}`}>
            <span>{m.body}</span>
            <small className="muted">
              {time(m.createdAt)}
              {m.id === seen && (
                <span className="seen" data-testid="seen">
                  {' '}
                  · Seen
                </span>
              )}
            </small>
          </li>
        ))}
        <li ref={bottom} className="typing" hidden={!visitorTyping} data-testid="visitor-typing">
          {c.visitorName ?? 'The visitor'} is typing…
        </li>
      </ol>
      {closed ? (
        <p className="muted">Closed{c.closedAt ? ` at ${time(c.closedAt)}` : ''}.</p>
      ) : (
        <>
          <form className="row composer" onSubmit={(e) => void send(e)} aria-label="Reply">
            <input
              aria-label="Message"
              value={draft}
              autoComplete="off"
              onChange={(e) => {
                setDraft(e.target.value);
                if (e.target.value) typing.keystroke();
                else typing.stop();
              }}
            />
            <button type="submit" disabled={!draft.trim()}>
              Send
            </button>
          </form>
          {error && <p className="error">{error}</p>}
          <ChatActions chat={c} me={me} />
        </>
      )}
    </section>
  );
}

function ChatActions({ chat, me }: { chat: Chat; me: number | undefined }) {
  const qc = useQueryClient();
  const colleagues = useQuery(colleaguesQuery());
  const queues = useQuery(transferQueuesQuery());
  const [to, setTo] = useState('');
  const [error, setError] = useState<string>();
  const options = [
    ...(colleagues.data?.items ?? [])
      .filter((a) => a.userId !== me && a.userId !== chat.assignedUserId)
      .map((a) => ({ value: `user:${a.userId}`, label: `${a.displayName} (${a.status})` })),
    ...(chat.queueId !== null && !(queues.data?.items ?? []).some((q) => q.id === chat.queueId)
      ? [{ value: `queue:${chat.queueId}`, label: 'Back to its queue' }]
      : []),
    ...(queues.data?.items ?? []).map((q) => ({
      value: `queue:${q.id}`,
      label: `Queue: ${q.name}`,
    })),
  ];

  const act = async (run: () => Promise<unknown>, leave: boolean) => {
    setError(undefined);
    try {
      await run();
      await qc.invalidateQueries({ queryKey: chatKeys.all });
      if (leave) navigate('/chats');
    } catch (err) {
      setError(
        err instanceof ApiError ? (Object.values(err.fields)[0] ?? err.message) : String(err),
      );
    }
  };

  return (
    <div className="row chat-actions">
      <label className="inline">
        Transfer to
        <select value={to} onChange={(e) => setTo(e.target.value)}>
          <option value="">Choose…</option>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </label>
      <button
        className="secondary"
        disabled={!to}
        onClick={() => {
          const [kind, ref] = to.split(':');
          const target = kind === 'user' ? { userId: Number(ref) } : { queueId: Number(ref) };
          // A chat handed to someone else is no longer mine to see (unless I supervise).
          void act(() => transferChat(chat.id, target), true);
        }}
      >
        Transfer
      </button>
      <button className="danger" onClick={() => void act(() => closeChat(chat.id), false)}>
        Close chat
      </button>
      {error && <p className="error">{error}</p>}
    </div>
  );
}

function OfflineMessages() {
  const messages = useQuery(offlineQuery());
  return (
    <section className="card wide" aria-label="Offline messages">
      <h3>Messages left while nobody was there</h3>
      {messages.data?.items.length ? (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>From</th>
              <th>Message</th>
              <th>Page</th>
            </tr>
          </thead>
          <tbody>
            {messages.data.items.map((m) => (
              <tr key={m.id}>
                <td>{new Date(m.createdAt).toLocaleString()}</td>
                <td>{[m.name, m.email, m.phone].filter(Boolean).join(' · ') || '—'}</td>
                <td>{m.message}</td>
                <td>{m.pageUrl ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">{messages.isPending ? 'Loading…' : 'No messages.'}</p>
      )}
    </section>
  );
}
