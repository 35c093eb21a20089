/**
 * The control plane's one connection to Asterisk's ARI.
 *
 * REST goes through ari-client (its swagger-built API). The event stream is a WebSocket this
 * class owns, because ari-client's own reconnect gives up after ten tries and backs off to 10 s;
 * a contact center wants to notice a dead Asterisk at once and to be back within a second or
 * two of it returning.
 *
 *   start()
 *     │
 *     ▼
 *  connecting ──open──► connected ──close / missed pong──► disconnected ──backoff──► connecting
 *     ▲                                                                                 │
 *     └──────────────────────────────── fails ◄─────────────────────────────────────────┘
 *  stop() from any state ──► stopped
 *
 * Every transition to `connected` runs the registered `onConnected` hooks (re-push endpoints,
 * rebuild the view of live channels) before `connected` is emitted.
 */
import { EventEmitter } from 'node:events';
import ari, { type Client } from 'ari-client';
import WebSocket from 'ws';
import type { FastifyBaseLogger as Logger } from 'fastify';
import { AriState, type AnyAriEvent } from './events.ts';

export interface AriConnectionOptions {
  url: string;
  user: string;
  password: string;
  app: string;
  logger: Logger;
  /** How often a WebSocket ping is sent. */
  pingIntervalMs?: number;
  /** A pong missing for this long means the peer is gone even if TCP has not noticed. */
  pongTimeoutMs?: number;
  /** Reconnect backoff: doubles from initial to max. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

type Hook = () => Promise<void>;

/**
 * ARI events nothing in the control plane reads (see filterEvents). A call brings a dozen of
 * them (state changes, Dial progress, bridge comings and goings), and one thread in Asterisk
 * writes all of an app's events in turn: each one not sent is one fewer ahead of the next call's
 * StasisStart. An event to be read must come off this list.
 */
const UNREAD_EVENTS = [
  'ChannelVarset',
  'ChannelConnectedLine',
  'ChannelDialplan',
  'ChannelCreated',
  'ChannelStateChange',
  'ChannelCallerId',
  'ChannelEnteredBridge',
  'ChannelLeftBridge',
  'ChannelHold',
  'ChannelUnhold',
  'ChannelTalkingStarted',
  'ChannelTalkingFinished',
  'ChannelToneDetected',
  'Dial',
  'BridgeCreated',
  'BridgeDestroyed',
  'BridgeMerged',
  'BridgeVideoSourceChanged',
  'EndpointStateChange',
  'DeviceStateChanged',
];

export class AriUnavailableError extends Error {
  override name = 'AriUnavailableError';
}

/** Asterisk answered, but refused: 4xx/5xx with its JSON `message`. */
export class AriHttpError extends Error {
  override name = 'AriHttpError';

  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${method} /ari${path} → ${status} ${reason}`);
  }
}

export interface AriRequestOptions {
  query?: Record<string, string>;
  body?: unknown;
  /** A hung Asterisk must not hold a request (and its database transaction) for long. */
  timeoutMs?: number;
}

export class AriConnection extends EventEmitter {
  private stateValue: AriState = AriState.Stopped;
  private lastErrorValue: string | undefined;
  private clientValue: Client | undefined;
  private ws: WebSocket | undefined;
  /** REST requests sent over the event WebSocket, by request id, until their RESTResponse. */
  private readonly wsRequests = new Map<string, { resolve: (r: { status: number; body: string }) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private wsRequestSeq = 0;
  private stopped = true;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly hooks: Hook[] = [];
  private connectedSince: Date | undefined;
  private asteriskVersionValue: string | undefined;
  private hooksDone = false;

  constructor(private readonly options: AriConnectionOptions) {
    super();
    // Events are fanned out to many listeners (calls, metrics, tests).
    this.setMaxListeners(100);
  }

  /** The Stasis application this connection receives calls for. */
  get appName(): string {
    return this.options.app;
  }

  get state(): AriState {
    return this.stateValue;
  }

  get lastError(): string | undefined {
    return this.lastErrorValue;
  }

  /** Asterisk's version, read at every connect (it may have been upgraded in between). */
  get asteriskVersion(): string | undefined {
    return this.asteriskVersionValue;
  }

  get since(): Date | undefined {
    return this.connectedSince;
  }

  /** The REST client; throws when Asterisk is not reachable right now. */
  get client(): Client {
    if (!this.clientValue || this.stateValue !== AriState.Connected) {
      throw new AriUnavailableError(`Asterisk ARI is ${this.stateValue}`);
    }
    return this.clientValue;
  }

  /**
   * One ARI REST call with a timeout, for callers that need the status code (push configuration,
   * endpoint state). Refused when not connected, like `client`.
   */
  async request<T = unknown>(
    method: string,
    path: string,
    options: AriRequestOptions = {},
  ): Promise<T> {
    if (this.stateValue !== AriState.Connected) {
      throw new AriUnavailableError(`Asterisk ARI is ${this.stateValue}`);
    }
    const url = new URL(`/ari${path}`, this.options.url);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const auth = Buffer.from(`${this.options.user}:${this.options.password}`).toString('base64');
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          Authorization: `Basic ${auth}`,
          ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
    } catch (err) {
      throw new AriUnavailableError(`${method} /ari${path}: ${describe(err)}`);
    }
    const text = await res.text();
    if (!res.ok) throw new AriHttpError(res.status, method, path, asteriskMessage(text));
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * A plain HTTP request to ARI (path below /ari) answering the raw response, for binary bodies
   * such as a recording's audio, which `request` and ari-client would parse as JSON.
   */
  async fetchRaw(
    path: string,
    init: Omit<RequestInit, 'headers'> & { headers?: Record<string, string> } = {},
  ): Promise<Response> {
    if (this.stateValue !== AriState.Connected) {
      throw new AriUnavailableError(`Asterisk ARI is ${this.stateValue}`);
    }
    const url = new URL(`/ari${path}`, this.options.url);
    const auth = Buffer.from(`${this.options.user}:${this.options.password}`).toString('base64');
    try {
      return await fetch(url, { ...init, headers: { ...init.headers, Authorization: `Basic ${auth}` } });
    } catch (err) {
      throw new AriUnavailableError(`${init.method ?? 'GET'} /ari${path}: ${describe(err)}`);
    }
  }

  /** Runs on every (re)connect, in registration order, before `connected` is emitted. */
  onConnected(hook: Hook): void {
    this.hooks.push(hook);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.ws?.terminate();
    await this.loop;
    this.setState(AriState.Stopped);
  }

  /** Resolves once connected; rejects after `timeoutMs`. */
  waitUntilConnected(timeoutMs: number): Promise<void> {
    // Connected and the on-connect hooks (re-pushes, reconcile) have run.
    if (this.stateValue === AriState.Connected && this.hooksDone) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(
          new AriUnavailableError(
            `ARI not connected after ${timeoutMs} ms (${this.lastErrorValue ?? this.stateValue})`,
          ),
        );
      }, timeoutMs);
      const onConnected = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  private setState(state: AriState, error?: string): void {
    if (error !== undefined) this.lastErrorValue = error;
    if (state === this.stateValue) return;
    const previous = this.stateValue;
    this.stateValue = state;
    this.connectedSince = state === AriState.Connected ? new Date() : undefined;
    this.options.logger.info({ ari: { state, previous, error } }, `ARI ${state}`);
    this.emit('state', state, previous);
  }

  private async run(): Promise<void> {
    const initial = this.options.backoffInitialMs ?? 250;
    const max = this.options.backoffMaxMs ?? 2_000;
    let delay = initial;
    while (!this.stopped) {
      this.setState(AriState.Connecting);
      try {
        // The swagger API description is loaded once; it does not change while Asterisk runs.
        this.clientValue ??= await quietly(() =>
          ari.connect(this.options.url, this.options.user, this.options.password),
        );
        if (this.stopped) break;
        const { closed } = await this.openEvents();
        const info = await this.clientValue.asterisk.getInfo();
        this.asteriskVersionValue = info.system?.version;
        // stop() may have run while this attempt was under way; its terminate() missed this socket.
        if (this.stopped) {
          this.ws?.terminate();
          break;
        }
        this.hooksDone = false;
        this.setState(AriState.Connected);
        delay = initial;
        await this.filterEvents();
        await this.runHooks();
        this.hooksDone = true;
        if (this.stateValue === AriState.Connected) this.emit('connected');
        const reason = await closed;
        if (!this.stopped) this.setState(AriState.Disconnected, reason);
        this.emit('disconnected', reason);
      } catch (err) {
        this.ws?.terminate();
        this.setState(AriState.Disconnected, describe(err));
      }
      if (this.stopped) break;
      await this.sleep(delay);
      delay = Math.min(delay * 2, max);
    }
  }

  /** Events nobody here reads are not sent at all (UNREAD_EVENTS). */
  private async filterEvents(): Promise<void> {
    try {
      await this.request('PUT', `/applications/${encodeURIComponent(this.options.app)}/eventFilter`, {
        body: { disallowed: UNREAD_EVENTS.map((type) => ({ type })) },
      });
    } catch (err) {
      this.options.logger.warn({ err }, 'ARI event filter not set; every event is sent');
    }
  }

  private async runHooks(): Promise<void> {
    for (const hook of this.hooks) {
      try {
        await hook();
      } catch (err) {
        this.options.logger.error({ err }, 'ARI on-connect hook failed');
      }
    }
  }

  /**
   * Opens the event WebSocket; resolves when open with a promise of the close reason (wrapped:
   * resolving with a bare promise would adopt it and wait for the close).
   */
  private openEvents(): Promise<{ closed: Promise<string> }> {
    const base = new URL(this.options.url);
    base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    base.pathname = '/ari/events';
    base.search = new URLSearchParams({ app: this.options.app }).toString();
    const auth = Buffer.from(`${this.options.user}:${this.options.password}`).toString('base64');
    const ws = new WebSocket(base, { headers: { Authorization: `Basic ${auth}` }, handshakeTimeout: 3_000 });
    this.ws = ws;

    return new Promise((resolveOpen, rejectOpen) => {
      let opened = false;
      let resolveClosed: (reason: string) => void = () => {};
      const closed = new Promise<string>((resolve) => (resolveClosed = resolve));
      let awaitingPongSince: number | undefined;
      let pinger: NodeJS.Timeout | undefined;
      let wsError: string | undefined;

      const finish = (reason: string) => {
        if (pinger) clearInterval(pinger);
        if (!opened) rejectOpen(new AriUnavailableError(reason));
        else resolveClosed(reason);
      };

      ws.on('open', () => {
        opened = true;
        const interval = this.options.pingIntervalMs ?? 2_000;
        const timeout = this.options.pongTimeoutMs ?? 5_000;
        pinger = setInterval(() => {
          if (awaitingPongSince !== undefined && Date.now() - awaitingPongSince > timeout) {
            this.options.logger.warn('ARI WebSocket missed its pong; dropping it');
            ws.terminate();
            return;
          }
          awaitingPongSince ??= Date.now();
          ws.ping();
        }, interval);
        resolveOpen({ closed });
      });
      ws.on('pong', () => {
        awaitingPongSince = undefined;
      });
      ws.on('message', (data) => this.dispatch(data.toString()));
      ws.on('error', (err) => {
        wsError = describe(err);
      });
      ws.on('unexpected-response', (_req, res) => {
        ws.terminate();
        finish(`ARI events refused: HTTP ${res.statusCode}`);
      });
      ws.on('close', (code) => finish(wsError ?? `ARI events closed (${code})`));
    });
  }

  /**
   * A REST request over the event WebSocket (Asterisk 22's RESTRequest/RESTResponse): no HTTP
   * connection, no headers, on the connection that is open anyway. For the hot path (dialling an
   * agent); falls back to HTTP when the WebSocket is not open. Throws AriHttpError on >= 400.
   */
  async wsRequest<T = unknown>(method: string, path: string, options: AriRequestOptions = {}): Promise<T> {
    const ws = this.ws;
    if (this.stateValue !== AriState.Connected || !ws || ws.readyState !== WebSocket.OPEN) {
      return this.request<T>(method, path, options);
    }
    const query = new URLSearchParams(options.query ?? {}).toString();
    const requestId = `r${++this.wsRequestSeq}`;
    const message = {
      type: 'RESTRequest',
      request_id: requestId,
      method,
      uri: `${path.replace(/^\//, '')}${query ? `?${query}` : ''}`,
      ...(options.body !== undefined ? { content_type: 'application/json', message_body: JSON.stringify(options.body) } : {}),
    };
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wsRequests.delete(requestId);
        reject(new AriUnavailableError(`${method} /ari${path}: no answer over the WebSocket`));
      }, options.timeoutMs ?? 5_000);
      this.wsRequests.set(requestId, { resolve, reject, timer });
      ws.send(JSON.stringify(message), (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.wsRequests.delete(requestId);
        reject(new AriUnavailableError(`${method} /ari${path}: ${describe(err)}`));
      });
    });
    if (status >= 400) throw new AriHttpError(status, method, path, asteriskMessage(body));
    return (body ? JSON.parse(body) : undefined) as T;
  }

  private dispatch(raw: string): void {
    let event: AnyAriEvent;
    try {
      event = JSON.parse(raw) as AnyAriEvent;
    } catch {
      this.options.logger.warn({ raw: raw.slice(0, 200) }, 'unparseable ARI event');
      return;
    }
    if ((event.type as string) === 'RESTResponse') {
      const response = event as unknown as { request_id?: string; status_code?: number; message_body?: string };
      const pending = response.request_id ? this.wsRequests.get(response.request_id) : undefined;
      if (pending) {
        clearTimeout(pending.timer);
        this.wsRequests.delete(response.request_id!);
        pending.resolve({ status: Number(response.status_code ?? 500), body: response.message_body ?? '' });
      }
      return;
    }
    if (event.type === 'ApplicationReplaced') {
      // Asterisk handed the app to another connection: this one gets no more calls.
      this.options.logger.error({ app: this.options.app }, 'another ARI client took over the Stasis app');
    }
    this.emit('event', event);
    this.emit(event.type, event);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Asterisk's error bodies are `{"message": ...}` or, for push configuration, `{"error": ...}`. */
function asteriskMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: string; error?: string };
    return body.message ?? body.error ?? text;
  } catch {
    return text;
  }
}

/**
 * ari-client's swagger-client prints a deprecation notice about Asterisk's (Swagger 1.2) API
 * description with console.log on every load; keep it out of the logs.
 */
async function quietly<T>(load: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = (...args: unknown[]) => {
    if (!String(args[0]).includes('deprecated version of Swagger')) log(...args);
  };
  try {
    return await load();
  } finally {
    console.log = log;
  }
}
