/**
 * The OpenAPI document at /docs/json: valid OpenAPI 3 (checked by a real validator against the
 * specification's JSON schema), listing every registered route with its method, with bearer
 * security on every operation that needs a token; and /docs serves the UI.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteAuth } from '../../control/src/plugins/auth.ts';
import { buildTestApp } from '../support/app.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;

interface Operation {
  security?: Array<Record<string, string[]>>;
  description?: string;
  tags?: string[];
  responses?: Record<string, unknown>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, unknown> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

describe('OpenAPI document', () => {
  let app: App;
  let doc: Document;
  /** Every route as it was added, HEAD twins aside: `GET /api/v1/users/{id}` → its auth. */
  const registered = new Map<string, { auth: RouteAuth | undefined; hidden: boolean }>();

  beforeAll(async () => {
    app = await buildTestApp(
      {},
      {
        onRoute: (route: RouteOptions) => {
          const path = route.url.replace(/:(\w+)/g, '{$1}');
          for (const method of [route.method].flat()) {
            if (method === 'HEAD') continue;
            registered.set(`${method} ${path}`, {
              auth: route.config?.auth as RouteAuth | undefined,
              hidden: Boolean((route.schema as { hide?: boolean } | undefined)?.hide),
            });
          }
        },
      },
    );
    const res = await app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    doc = res.json<Document>();
  });

  afterAll(async () => {
    await app.close();
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
    );

  it('is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toMatch(/^3\./);
  });

  it('lists every registered /api route with its method, and nothing that is not a route', () => {
    const api = [...registered.keys()].filter((k) => k.split(' ')[1]!.startsWith('/api/'));
    const documented = new Set(operations().map((o) => o.key));
    expect(api.filter((k) => !documented.has(k))).toEqual([]);
    expect([...documented].filter((k) => !registered.has(k))).toEqual([]);
    // The count guards against a collector that saw nothing.
    expect(api.length).toBeGreaterThan(50);
    // Outside /api only the documentation itself and /metrics (hidden: Prometheus' format,
    // not JSON) are left out.
    const undocumented = [...registered]
      .filter(([k]) => !documented.has(k))
      .map(([k, r]) => `${k}${r.hidden ? ' (hidden)' : ''}`);
    expect(undocumented.every((k) => k.includes(' /docs') || k === 'GET /metrics (hidden)')).toBe(
      true,
    );
  });

  it('declares bearer security on every operation that needs a token, and only on those', () => {
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    for (const { key, op } of operations()) {
      const auth = registered.get(key)?.auth;
      if (auth === undefined || auth === 'public') {
        expect(op.security, key).toBeUndefined();
        continue;
      }
      expect(op.security, key).toEqual([{ bearer: [] }]);
      // Who may call it is written where people read, once.
      const roles = `Roles: ${auth.join(', ')}.`;
      expect(op.description?.split(roles).length, key).toBe(2);
      expect(op.tags?.length, key).toBeGreaterThan(0);
    }
  });

  it('serves the Swagger UI at /docs', async () => {
    let res = await app.inject({ url: '/docs' });
    for (let hops = 0; res.statusCode >= 300 && res.statusCode < 400 && hops < 3; hops++) {
      res = await app.inject({ url: new URL(res.headers.location!, 'http://x/docs/').pathname });
    }
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger-ui/i);
    const init = await app.inject({ url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    // The UI loads the document from beside itself: /docs/json.
    expect(init.body).toContain("resolveUrl('./json')");
  });
});
