/**
 * A terse client for the routing API (hours, DIDs, queues, IVR menus) in integration tests.
 */
import type { FastifyInstance } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { randomInt } from 'node:crypto';
import { bearer } from './fixtures.ts';

type Body = Record<string, unknown> | unknown[];

export interface Client {
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  post(url: string, body: Body, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  patch(url: string, body: Body, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  put(url: string, body: Body, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  del(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
}

export function client(app: FastifyInstance, token: string): Client {
  const call =
    (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE') =>
    (url: string, body?: Body, headers: Record<string, string> = {}) =>
      app.inject({
        method,
        url: `/api/v1${url}`,
        headers: { ...bearer(token), ...headers },
        ...(body !== undefined ? { payload: body } : {}),
      });
  return {
    get: (url, headers) => call('GET')(url, undefined, headers),
    post: (url, body, headers) => call('POST')(url, body, headers),
    patch: (url, body, headers) => call('PATCH')(url, body, headers),
    put: (url, body, headers) => call('PUT')(url, body, headers),
    del: (url, headers) => call('DELETE')(url, undefined, headers),
  };
}

/** The If-Match header for the ETag a response carried. */
export function ifMatch(res: LightMyRequestResponse): Record<string, string> {
  const tag = res.headers.etag;
  if (typeof tag !== 'string') throw new Error(`no ETag on ${res.statusCode} ${res.body}`);
  return { 'if-match': tag };
}

/** The `field`s a 400 named. */
export function fields(res: LightMyRequestResponse): string[] {
  const body = res.json() as { error?: { details?: Array<{ field: string }> } };
  return (body.error?.details ?? []).map((d) => d.field).sort();
}

/** Asserts the status and returns the JSON body, with the body in the message when it is not. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read loosely typed JSON bodies
export function expectStatus<T = any>(res: LightMyRequestResponse, status: number): T {
  if (res.statusCode !== status) {
    throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
  }
  return (res.body ? res.json() : undefined) as T;
}

/** A random E.164 number; `digits` random digits after the prefix. */
export function freshNumber(prefix = '+4420', digits = 8): string {
  let tail = '';
  for (let i = 0; i < digits; i++) tail += String(randomInt(10));
  return `${prefix}${tail}`;
}
