import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../control/src/app.ts';
import { buildTestApp, testConfig } from '../support/app.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

describe('HTTP basics', () => {
  let app: App;

  beforeAll(async () => {
    app = await buildApp(testConfig());
    // A route with a schema, to see validation errors rendered the one way.
    app.post(
      '/test/echo',
      {
        schema: {
          body: Type.Object(
            { name: Type.String({ minLength: 1 }), age: Type.Integer({ minimum: 0 }) },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => request.body,
    );
    app.get('/test/boom', async () => {
      throw new Error('secret internal detail');
    });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers /healthz while the process is alive', async () => {
    const res = await app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok' });
  });

  it('gives every response a request id, keeping the caller’s', async () => {
    const fresh = await app.inject({ url: '/healthz' });
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
  });

  it('renders an unknown route as the JSON error shape', async () => {
    const res = await app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'Route GET /nope not found' },
    });
  });

  it('names each bad field in a 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/test/echo',
      payload: { age: -1, colour: 'red' },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('VALIDATION_FAILED');
    const fields = body.error.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(['age', 'colour', 'name']);
  });

  it('answers malformed JSON with 400 and an oversized body with 413', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_BODY');

    const big = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), age: 1 }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('never leaks internals in a 500', async () => {
    const res = await app.inject({ url: '/test/boom', headers: { 'x-request-id': 'req-500' } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      error: { code: 'INTERNAL', message: 'Internal server error', details: { requestId: 'req-500' } },
    });
    expect(res.body).not.toContain('secret internal detail');
  });

  it('exposes Prometheus metrics', async () => {
    await app.inject({ url: '/healthz' });
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('calldock_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}');
    expect(res.body).toMatch(/calldock_ari_connected [01]/);
    expect(res.body).toContain('calldock_process_cpu_user_seconds_total');
  });
});

describe('/readyz', () => {
  it('says the database is down, and why, when it does not answer', async () => {
    const app = await buildTestApp({ databaseUrl: 'mysql://root@127.0.0.1:1/calldock' });
    try {
      await app.ari.waitUntilConnected(10_000);
      const res = await app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      const body = res.json();
      expect(body.error.code).toBe('NOT_READY');
      expect(body.error.message).toBe('Not ready: database down');
      expect(body.error.details.checks.database.up).toBe(false);
      expect(body.error.details.checks.database.error).toMatch(/ECONNREFUSED|connect/i);
      expect(body.error.details.checks.asterisk.up).toBe(true);
    } finally {
      await app.close();
    }
  });
});
