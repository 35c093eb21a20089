/**
 * The console's one WebSocket (/api/v1/ws): reconnects with backoff and a fresh access token,
 * fans events out to subscribers by topic pattern (`call.*`, `agent.state`).
 */
import { useEffect, useRef } from 'react';
import { api } from './api.ts';

export interface RealtimeEvent<T = Record<string, unknown>> {
  topic: string;
  data: T;
  at: string;
}

type Handler = (event: RealtimeEvent) => void;

export function topicMatches(pattern: string, topic: string): boolean {
  return (
    pattern === '*' ||
    pattern === topic ||
    (pattern.endsWith('.*') && topic.startsWith(pattern.slice(0, -1)))
  );
}

class Realtime {
  private socket: WebSocket | null = null;
  private readonly handlers = new Set<{ pattern: string; fn: Handler }>();
  private retry = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wanted = false;
  connected = false;

  start(): void {
    this.wanted = true;
    if (!this.socket) this.open();
  }

  stop(): void {
    this.wanted = false;
    clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
  }

  subscribe(pattern: string, fn: Handler): () => void {
    const entry = { pattern, fn };
    this.handlers.add(entry);
    return () => this.handlers.delete(entry);
  }

  private open(): void {
    const token = api.accessToken;
    if (!token) return;
    const url = new URL('/api/v1/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('access_token', token);
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 0;
      this.connected = true;
      this.dispatch({ topic: 'realtime.open', data: {}, at: new Date().toISOString() });
    };
    socket.onmessage = (m) => {
      let event: RealtimeEvent;
      try {
        event = JSON.parse(String(m.data)) as RealtimeEvent;
      } catch {
        return; // not JSON: ignore
      }
      this.dispatch(event);
    };
    socket.onclose = () => {
      this.connected = false;
      this.socket = null;
      if (!this.wanted) return;
      const delay = Math.min(15_000, 500 * 2 ** this.retry++);
      this.timer = setTimeout(() => {
        // The token may have expired meanwhile: refresh first when it is close to it.
        void api.refresh().finally(() => this.wanted && this.open());
      }, delay);
    };
  }

  private dispatch(event: RealtimeEvent): void {
    for (const h of this.handlers) {
      if (!topicMatches(h.pattern, event.topic)) continue;
      // One failing subscriber must neither hide the error nor starve the others.
      try {
        h.fn(event);
      } catch (err) {
        console.error(`realtime ${event.topic}:`, err);
      }
    }
  }
}

export const realtime = new Realtime();

/** Calls `fn` for every event matching `pattern` while the component is mounted. */
export function useRealtime(pattern: string, fn: Handler): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => realtime.subscribe(pattern, (e) => ref.current(e)), [pattern]);
}
