/**
 * The call UI, loaded on click with SIP.js. States, as the visitor sees them:
 *
 *   mic check ──(denied)──► "allow the microphone" + Retry
 *      │
 *   ticket ──(409 offline)──► leave-a-message form      ──(429)──► "too many calls" + Retry
 *      │
 *   connecting ──► queued (position N, callback form) ──► connected (timer, mute, keypad)
 *      │                                                        │
 *      └──(network drop)──► "connection lost" + Retry      hang-up ──► ended
 */
import { Inviter, SessionState, UserAgent, type Session } from 'sip.js';
import type { SessionDescriptionHandler } from 'sip.js/lib/platform/web';
import type { UiContext } from '../types.ts';

interface Ticket {
  ticket: string;
  sip: { wsUrl: string; uri: string; username: string; password: string; target: string };
  iceServers: RTCIceServer[];
}

/** For tests and diagnostics: the live call's state and peer connection. */
interface Debug {
  state: string;
  ticket?: string;
  peerConnection?: RTCPeerConnection;
}
const debug: Debug = { state: 'idle' };
(window as unknown as { calldockCall: Debug }).calldockCall = debug;

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
  new CallUi(ctx).begin();
}

class CallUi {
  private ua: UserAgent | undefined;
  private session: Session | undefined;
  private ticket: Ticket | undefined;
  private poll: number | undefined;
  private clock: number | undefined;
  private connectedAt = 0;
  private muted = false;
  private ended = false;
  private readonly status = h('p', { className: 's' });
  private readonly controls = h('div');
  private readonly audio = h('audio', { autoplay: true });

  constructor(private readonly ctx: UiContext) {}

  private button(text: string, onclick: () => void): HTMLButtonElement {
    const b = h('button', { className: 'a', textContent: text, onclick });
    b.style.background = this.ctx.config.color;
    b.dataset.action = text.toLowerCase().replace(/\W+/g, '-');
    return b;
  }

  private show(state: string, text: string, ...extra: Node[]): void {
    debug.state = state;
    this.status.textContent = text;
    this.status.dataset.state = state;
    this.controls.replaceChildren(...extra);
  }

  private problem(state: string, text: string): void {
    this.cleanup();
    this.status.className = 'm';
    this.show(
      state,
      text,
      this.button('Retry', () => this.begin()),
      this.button('Close', () => this.ctx.close()),
    );
  }

  begin(): void {
    this.ended = false;
    this.status.className = 's';
    this.ctx.panel.replaceChildren(this.status, this.controls, this.audio);
    void this.run();
  }

  private async run(): Promise<void> {
    this.show('mic', 'Checking your microphone…');
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      stream.getTracks().forEach((t) => t.stop());
    } catch {
      return this.problem(
        'mic_denied',
        'We cannot use your microphone. Allow it for this site in your browser, then retry.',
      );
    }
    this.show('ticket', 'Connecting…');
    let res: Response;
    try {
      res = await fetch(`${this.ctx.base}/api/v1/widgets/${this.ctx.config.id}/calls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          pageUrl: location.href,
          name: this.ctx.visitor.name || undefined,
          email: this.ctx.visitor.email || undefined,
        }),
      });
    } catch {
      return this.problem('network', 'No connection. Check your network, then retry.');
    }
    if (res.status === 409) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
      if (body.error?.code === 'WIDGET_OFFLINE') return this.ctx.offline();
    }
    if (res.status === 429)
      return this.problem(
        'rate_limited',
        `Too many calls from here. Try again in ${res.headers.get('retry-after') ?? 'a few'} seconds.`,
      );
    if (!res.ok) return this.problem('refused', 'Calling is not available right now.');
    this.ticket = (await res.json()) as Ticket;
    debug.ticket = this.ticket.ticket;
    await this.dial(this.ticket);
  }

  private async dial(ticket: Ticket): Promise<void> {
    const ua = new UserAgent({
      uri: UserAgent.makeURI(ticket.sip.uri),
      authorizationUsername: ticket.sip.username,
      authorizationPassword: ticket.sip.password,
      transportOptions: { server: ticket.sip.wsUrl, connectionTimeout: 5 },
      logLevel: 'error',
      sessionDescriptionHandlerFactoryOptions: {
        peerConnectionConfiguration: { iceServers: ticket.iceServers },
        iceGatheringTimeout: 500,
      },
    });
    this.ua = ua;
    ua.transport.onDisconnect = (error) => {
      if (error && !this.ended)
        this.problem('network_lost', 'The connection dropped. Check your network, then retry.');
    };
    try {
      await ua.start();
    } catch {
      return this.problem('network', 'Could not reach the call service. Retry in a moment.');
    }
    const target = UserAgent.makeURI(ticket.sip.target)!;
    const inviter = new Inviter(ua, target, {
      sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
    });
    this.session = inviter;
    inviter.stateChange.addListener((state) => {
      if (state === SessionState.Established) this.established();
      if (state === SessionState.Terminated) this.terminated();
    });
    this.show(
      'calling',
      'Calling…',
      this.button('Hang up', () => this.hangup()),
    );
    try {
      await inviter.invite();
    } catch {
      this.problem('network', 'The call could not be placed. Retry?');
    }
  }

  private established(): void {
    const sdh = this.session?.sessionDescriptionHandler as SessionDescriptionHandler | undefined;
    const pc = sdh?.peerConnection;
    if (pc) {
      debug.peerConnection = pc;
      const stream = new MediaStream();
      pc.getReceivers().forEach((r) => r.track && stream.addTrack(r.track));
      this.audio.srcObject = stream;
      void this.audio.play().catch(() => undefined);
    }
    this.show(
      'queued',
      'Waiting for the next available person…',
      ...this.inCallControls(),
      this.callbackForm(),
    );
    this.poll = window.setInterval(() => void this.refresh(), 1500);
    void this.refresh();
  }

  private inCallControls(): HTMLElement[] {
    const mute = this.button('Mute', () => {
      this.muted = !this.muted;
      mute.textContent = this.muted ? 'Unmute' : 'Mute';
      const sdh = this.session?.sessionDescriptionHandler as SessionDescriptionHandler | undefined;
      sdh?.peerConnection?.getSenders().forEach((s) => s.track && (s.track.enabled = !this.muted));
    });
    const keypad = h('div', { hidden: true });
    for (const digit of '123456789*0#') {
      const key = this.button(digit, () => {
        const sdh = this.session?.sessionDescriptionHandler as
          SessionDescriptionHandler | undefined;
        sdh?.sendDtmf(digit);
      });
      key.dataset.action = `key-${digit}`;
      keypad.append(key);
    }
    return [
      mute,
      this.button('Keypad', () => (keypad.hidden = !keypad.hidden)),
      this.button('Hang up', () => this.hangup()),
      keypad,
    ];
  }

  private callbackForm(): HTMLElement {
    const form = h('form', { className: 'cb' });
    const input = h('input', { name: 'number', type: 'tel', placeholder: 'Your phone number' });
    const submit = h('button', {
      className: 'a',
      type: 'submit',
      textContent: 'Call me back instead',
    });
    submit.style.background = this.ctx.config.color;
    form.append(
      h('p', {
        className: 's',
        textContent: 'Rather not wait? We can call you back and you keep your place.',
      }),
      input,
      submit,
    );
    form.onsubmit = async (e) => {
      e.preventDefault();
      const res = await fetch(
        `${this.ctx.base}/api/v1/widget-calls/${this.ticket!.ticket}/callback`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ number: input.value }),
        },
      ).catch(() => undefined);
      const answer = (await res?.json().catch(() => undefined)) as
        { keepsPlace?: boolean } | undefined;
      form.replaceChildren(
        h('p', {
          className: res?.ok ? 's' : 'm',
          textContent: !res?.ok
            ? 'That did not work; please check the number.'
            : answer?.keepsPlace
              ? 'We will call you back. You can hang up now.'
              : 'Noted. Please stay on the line for now.',
        }),
      );
      if (res?.ok && answer?.keepsPlace) this.hangup();
    };
    return form;
  }

  private async refresh(): Promise<void> {
    if (!this.ticket || this.ended) return;
    const res = await fetch(`${this.ctx.base}/api/v1/widget-calls/${this.ticket.ticket}`).catch(
      () => undefined,
    );
    if (!res?.ok) return;
    const status = (await res.json()) as { state: string; position: number | null };
    if (status.state === 'queued' && status.position !== null) {
      debug.state = 'queued';
      this.status.dataset.state = 'queued';
      this.status.dataset.position = String(status.position);
      this.status.textContent =
        status.position === 1
          ? 'You are next in line.'
          : `You are number ${status.position} in line.`;
    } else if (status.state === 'connected' && !this.connectedAt) {
      this.connectedAt = Date.now();
      debug.state = 'connected';
      this.status.dataset.state = 'connected';
      this.controls.querySelector('form.cb')?.remove();
      const tick = () => {
        const s = Math.floor((Date.now() - this.connectedAt) / 1000);
        this.status.textContent = `Connected · ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
      };
      tick();
      this.clock = window.setInterval(tick, 1000);
    }
  }

  private hangup(): void {
    this.ended = true;
    const s = this.session;
    if (s?.state === SessionState.Established) void s.bye().catch(() => undefined);
    else if (s instanceof Inviter && s.state === SessionState.Establishing)
      void s.cancel().catch(() => undefined);
    this.finish();
  }

  private terminated(): void {
    if (this.ended) return;
    this.ended = true;
    this.finish();
  }

  private finish(): void {
    this.cleanup();
    this.status.className = 's';
    this.show(
      'ended',
      'Call ended. Thank you!',
      this.button('Close', () => this.ctx.close()),
    );
  }

  private cleanup(): void {
    window.clearInterval(this.poll);
    window.clearInterval(this.clock);
    this.connectedAt = 0;
    const ua = this.ua;
    this.ua = undefined;
    this.session = undefined;
    if (ua) {
      ua.transport.onDisconnect = undefined;
      void ua.stop().catch(() => undefined);
    }
  }
}
