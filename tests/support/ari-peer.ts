/**
 * A small ARI client for driving an Asterisk instance from a test — the carrier instance that
 * places calls and answers as agents' phones. Plain fetch and ws: tests must not depend on the
 * control plane's own ARI code to check that code.
 */
import WebSocket from 'ws';
import type { AsteriskInstance } from './asterisk.ts';

export interface PeerEvent {
  type: string;
  [key: string]: unknown;
}

export class AriPeer {
  private ws: WebSocket | undefined;
  private readonly events: PeerEvent[] = [];
  private readonly waiters = new Set<{ match: (e: PeerEvent) => boolean; resolve: (e: PeerEvent) => void }>();

  constructor(
    private readonly instance: AsteriskInstance,
    private readonly app: string,
  ) {}

  private get auth(): string {
    return `Basic ${Buffer.from(`${this.instance.ariUser}:${this.instance.ariPassword}`).toString('base64')}`;
  }

  async request<T = unknown>(
    method: string,
    path: string,
    query: Record<string, string> = {},
    body?: unknown,
  ): Promise<T> {
    const url = new URL(`/ari${path}`, this.instance.ariUrl);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const res = await fetch(url, {
      method,
      headers: { Authorization: this.auth, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The raw bytes of a GET (a stored recording's file, say). */
  async download(path: string): Promise<Buffer> {
    const res = await fetch(new URL(`/ari${path}`, this.instance.ariUrl), { headers: { Authorization: this.auth } });
    if (!res.ok) throw new Error(`GET ${path} → ${res.status} ${await res.text()}`);
    return Buffer.from(await res.arrayBuffer());
  }

  /** Subscribes to the peer's Stasis app; resolves once the event stream is open. */
  async connect(): Promise<void> {
    const url = new URL('/ari/events', this.instance.ariUrl);
    url.protocol = 'ws:';
    url.searchParams.set('app', this.app);
    const ws = new WebSocket(url, { headers: { Authorization: this.auth } });
    this.ws = ws;
    ws.on('message', (data) => {
      const event = JSON.parse(data.toString()) as PeerEvent;
      this.events.push(event);
      for (const waiter of this.waiters) {
        if (waiter.match(event)) {
          this.waiters.delete(waiter);
          waiter.resolve(event);
        }
      }
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  }

  /** The first event (already seen or still to come) that matches; rejects after `timeoutMs`. */
  waitFor(match: (e: PeerEvent) => boolean, timeoutMs = 10_000, what = 'event'): Promise<PeerEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (e: PeerEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} on ${this.instance.name}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Every event seen so far about one channel. */
  eventsFor(channelId: string): PeerEvent[] {
    return this.events.filter((e) => (e.channel as { id?: string } | undefined)?.id === channelId);
  }

  close(): void {
    this.ws?.terminate();
  }
}
