/**
 * The chat UI, loaded on click. The visitor token lives in localStorage (per widget), so a
 * reload in the same browser reconnects to the same chat and shows its history.
 *
 *   no token ──POST /widgets/:id/chats──► token ──► socket ──► history, then live messages,
 *   typing, read marks, status (waiting → active with a name → closed)
 */
import type { UiContext } from '../types.ts';

interface Message {
  id: number;
  sender: 'visitor' | 'staff' | 'system';
  body: string;
}

type Incoming =
  | {
      type: 'history';
      chat: { status: string; staffReadId: number };
      agentName: string | null;
      messages: Message[];
    }
  | { type: 'message'; message: Message }
  | { type: 'typing'; typing: boolean }
  | { type: 'read'; upTo: number }
  | { type: 'status'; status: string; agentName: string | null }
  | { type: 'error'; message: string };

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, unknown> = {},
  ...kids: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node: HTMLElementTagNameMap[K] = Object.assign(document.createElement(tag), props);
  node.append(...kids);
  return node;
}

export function start(ctx: UiContext): void {
  void new ChatUi(ctx).begin();
}

class ChatUi {
  private readonly key: string;
  private socket: WebSocket | undefined;
  private readonly status = h('p', { className: 's' });
  private readonly list = h('div', { className: 'msgs' });
  private readonly typing = h('p', { className: 's typing', hidden: true, textContent: 'Typing…' });
  private readonly input = h('input', {
    name: 'chat',
    placeholder: 'Type a message',
    autocomplete: 'off',
  });
  private readonly seen = h('p', { className: 's seen', hidden: true, textContent: 'Seen' });
  private typingTimer: number | undefined;
  private typingSent = false;
  private lastVisitorId = 0;

  constructor(private readonly ctx: UiContext) {
    this.key = `calldock-chat:${ctx.config.id}`;
  }

  async begin(): Promise<void> {
    const form = h('form');
    const send = h('button', { className: 'a', type: 'submit', textContent: 'Send' });
    send.style.background = this.ctx.config.color;
    form.append(this.input, send);
    form.onsubmit = (e) => {
      e.preventDefault();
      const body = this.input.value.trim();
      if (!body) return;
      this.send({ type: 'message', body });
      this.input.value = '';
      this.setTyping(false);
    };
    this.input.oninput = () => {
      this.setTyping(true);
      window.clearTimeout(this.typingTimer);
      this.typingTimer = window.setTimeout(() => this.setTyping(false), 2000);
    };
    this.ctx.panel.replaceChildren(this.status, this.list, this.seen, this.typing, form);
    this.show('connecting', 'Connecting…');
    let token = localStorage.getItem(this.key);
    if (!token) {
      const res = await fetch(`${this.ctx.base}/api/v1/widgets/${this.ctx.config.id}/chats`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: this.ctx.visitor.name || undefined,
          email: this.ctx.visitor.email || undefined,
          pageUrl: location.href,
        }),
      }).catch(() => undefined);
      if (!res?.ok) return this.show('failed', 'Chat is not available right now.');
      token = ((await res.json()) as { token: string }).token;
      localStorage.setItem(this.key, token);
    }
    this.connect(token);
  }

  private show(state: string, text: string): void {
    this.status.dataset.state = state;
    this.status.textContent = text;
  }

  private connect(token: string): void {
    const url = `${this.ctx.base.replace(/^http/, 'ws')}/api/v1/widgets/${this.ctx.config.id}/chat?token=${encodeURIComponent(token)}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onmessage = (e) => this.receive(JSON.parse(String(e.data)) as Incoming);
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      if (e.code === 1008 || e.code === 4401) {
        localStorage.removeItem(this.key);
        return this.show('failed', 'This chat has expired.');
      }
      this.show('reconnecting', 'Connection lost; reconnecting…');
      window.setTimeout(() => this.connect(token), 2000);
    };
  }

  private send(message: unknown): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private setTyping(typing: boolean): void {
    if (this.typingSent === typing) return;
    this.typingSent = typing;
    this.send({ type: 'typing', typing });
  }

  private add(m: Message): void {
    if (this.list.querySelector(`[data-id="${m.id}"]`)) return;
    const p = h('p', { textContent: m.body });
    p.dataset.id = String(m.id);
    p.dataset.sender = m.sender;
    p.style.textAlign = m.sender === 'visitor' ? 'right' : 'left';
    if (m.sender === 'system') p.className = 's';
    this.list.append(p);
    if (m.sender === 'staff') {
      this.typing.hidden = true;
      this.send({ type: 'read', upTo: m.id });
    }
    if (m.sender === 'visitor') {
      this.lastVisitorId = m.id;
      this.seen.hidden = true;
    }
  }

  private statusText(status: string, agentName: string | null): void {
    if (status === 'active')
      this.show('active', agentName ? `You are chatting with ${agentName}` : 'Connected');
    else if (status === 'waiting') this.show('waiting', 'Waiting for someone to join…');
    else {
      this.show('closed', 'This chat has ended.');
      localStorage.removeItem(this.key);
    }
  }

  private receive(m: Incoming): void {
    switch (m.type) {
      case 'history':
        this.list.replaceChildren();
        m.messages.forEach((x) => this.add(x));
        this.statusText(m.chat.status, m.agentName);
        if (this.lastVisitorId && m.chat.staffReadId >= this.lastVisitorId)
          this.seen.hidden = false;
        break;
      case 'message':
        this.add(m.message);
        break;
      case 'typing':
        this.typing.hidden = !m.typing;
        break;
      case 'read':
        if (m.upTo >= this.lastVisitorId) this.seen.hidden = false;
        break;
      case 'status':
        this.statusText(m.status, m.agentName);
        break;
      default:
        break;
    }
  }
}
