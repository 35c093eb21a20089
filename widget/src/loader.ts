/**
 * widget.js: the loader a customer's site embeds with one script tag. No framework, kept
 * under 5 KB gzip: it reads the widget's public settings, draws a floating button inside a
 * shadow root (the page's CSS cannot reach in, ours cannot leak out), and loads the call UI
 * (with SIP.js) or the chat UI only when the visitor asks for it.
 */
import type { UiContext, WidgetConfig } from './types.ts';

const script =
  (document.currentScript as HTMLScriptElement | null) ??
  document.querySelector<HTMLScriptElement>('script[src*="widget.js?id="]');

const CSS = `:host{all:initial}*{box-sizing:border-box;font:14px/1.4 system-ui,sans-serif}
.b{position:fixed;bottom:20px;z-index:2147483000;border:0;border-radius:24px;padding:12px 18px;color:#fff;cursor:pointer;box-shadow:0 4px 14px #0004}
.p{position:fixed;bottom:76px;z-index:2147483000;width:300px;max-height:70vh;overflow:auto;background:#fff;color:#222;border-radius:12px;padding:16px;box-shadow:0 8px 30px #0005}
.r{right:20px}.l{left:20px}button.a{border:0;border-radius:6px;padding:8px 12px;color:#fff;cursor:pointer;margin:4px 4px 0 0}
input,textarea{width:100%;margin:4px 0;padding:6px;border:1px solid #bbb;border-radius:6px}img{max-height:32px}
.m{color:#a00}.s{color:#555}[hidden]{display:none}`;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, unknown> = {},
  ...kids: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node: HTMLElementTagNameMap[K] = Object.assign(document.createElement(tag), props);
  node.append(...kids);
  return node;
}

async function boot(): Promise<void> {
  if (!script) return;
  const src = new URL(script.src);
  const base = src.origin;
  const id = src.searchParams.get('id') ?? '';
  const res = await fetch(`${base}/api/v1/widgets/${encodeURIComponent(id)}/config`);
  if (!res.ok) return;
  const config = (await res.json()) as WidgetConfig;

  const host = el('div');
  host.id = 'calldock-widget';
  const root = host.attachShadow({ mode: 'open' });
  const side = config.position === 'bottom-left' ? 'l' : 'r';
  const button = el('button', { className: `b ${side}`, textContent: config.label });
  button.style.background = config.color;
  button.setAttribute('part', 'launcher');
  const panel = el('div', { className: `p ${side}`, hidden: true });
  panel.setAttribute('role', 'dialog');
  root.append(el('style', { textContent: CSS }), panel, button);
  document.body.append(host);

  const action = (text: string, onclick: () => void) => {
    const b = el('button', { className: 'a', textContent: text, onclick });
    b.style.background = config.color;
    return b;
  };
  const visitor: Record<string, string> = {};

  const ctx: UiContext = { base, config, panel, visitor, close: home, offline };

  function home(): void {
    panel.replaceChildren();
    if (config.logoUrl) panel.append(el('img', { src: config.logoUrl, alt: '' }));
    panel.append(el('p', { textContent: config.greeting ?? 'Hello! How can we help?' }));
    if (!config.open) return offline();
    if (config.call) panel.append(action('Call us', () => prechat('call')));
    if (config.chat) panel.append(action('Chat', () => prechat('chat')));
    if (!config.call && !config.chat) offline();
  }

  /** The pre-call / pre-chat form (the widget's fields), then the lazily loaded UI. */
  function prechat(kind: 'call' | 'chat'): void {
    const fields = config.prechatFields;
    // A chat this browser already has (its token in localStorage) resumes with its history.
    if (
      fields.length === 0 ||
      (kind === 'chat' && localStorage.getItem(`calldock-chat:${config.id}`))
    )
      return void open(kind);
    const form = el('form');
    for (const f of fields) {
      form.append(
        el(
          'label',
          {},
          f.label,
          el('input', {
            name: f.name,
            type: f.type,
            required: f.required,
            value: visitor[f.name] ?? '',
          }),
        ),
      );
    }
    form.append(
      el('button', {
        className: 'a',
        type: 'submit',
        textContent: kind === 'call' ? 'Start call' : 'Start chat',
      }),
    );
    (form.lastChild as HTMLElement).style.background = config.color;
    form.onsubmit = (e) => {
      e.preventDefault();
      for (const [k, v] of new FormData(form)) visitor[k] = String(v);
      void open(kind);
    };
    panel.replaceChildren(form);
  }

  async function open(kind: 'call' | 'chat'): Promise<void> {
    panel.replaceChildren(el('p', { className: 's', textContent: 'Loading…' }));
    try {
      const ui = (await import(/* @vite-ignore */ `${base}/widget/${kind}.js`)) as {
        start(ctx: UiContext): void;
      };
      ui.start(ctx);
    } catch {
      panel.replaceChildren(
        el('p', { className: 'm', textContent: 'Could not load. Check your connection.' }),
        action('Retry', () => void open(kind)),
      );
    }
  }

  function offline(note?: string): void {
    const form = el('form');
    form.append(
      el('p', {
        textContent:
          note ?? 'We are not available right now. Leave a message and we will get back to you.',
      }),
      el('input', { name: 'name', placeholder: 'Name', value: visitor.name ?? '' }),
      el('input', {
        name: 'email',
        type: 'email',
        placeholder: 'Email',
        value: visitor.email ?? '',
      }),
      el('textarea', { name: 'message', placeholder: 'Message', required: true }),
      action('Send', () => undefined),
    );
    (form.lastChild as HTMLButtonElement).type = 'submit';
    form.onsubmit = async (e) => {
      e.preventDefault();
      const body = Object.fromEntries(new FormData(form)) as Record<string, string>;
      const r = await fetch(`${base}/api/v1/widgets/${config.id}/offline-messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, pageUrl: location.href }),
      }).catch(() => undefined);
      panel.replaceChildren(
        el('p', {
          className: r?.ok ? 's' : 'm',
          textContent: r?.ok
            ? 'Thank you, we got your message.'
            : 'Sending failed; please try again later.',
        }),
      );
    };
    panel.append(form);
  }

  button.onclick = () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden && !panel.childElementCount) home();
  };
}

void boot();
