import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AriState } from '../ari/events.ts';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

/**
 * Prometheus metrics at /metrics. Each app gets its own registry, so several apps in one test
 * process do not collide.
 */
async function metricsPlugin(app: FastifyInstance): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'calldock_' });

  const duration = new Histogram({
    name: 'calldock_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'calldock_ari_connected',
    help: '1 when the ARI event stream is connected',
    registers: [registry],
    collect() {
      this.set(app.ari.state === AriState.Connected ? 1 : 0);
    },
  });
  const ariEvents = new Counter({
    name: 'calldock_ari_events_total',
    help: 'ARI events received, by type',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  app.ari.on('event', (event: { type: string }) => ariEvents.inc({ type: event.type }));

  app.decorate('metrics', registry);
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x', dependencies: ['ari'] });
