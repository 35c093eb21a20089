/**
 * The console's production build (console/dist) at `/`: its files as they are, and index.html
 * for any other GET outside /api, /docs and the health routes, so the single-page app's own
 * paths (/wallboard, /admin/queues) survive a reload. Hashed assets are cached for a year;
 * index.html and the service worker never, so a new build reaches browsers at once.
 */
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

const NOT_THE_CONSOLE = /^\/(api|docs|healthz|readyz|metrics)(\/|$|\?)/;

export async function consoleRoutes(
  app: FastifyInstance,
  options: { root: string },
): Promise<void> {
  await app.register(fastifyStatic, {
    root: options.root,
    wildcard: false,
    index: false,
    setHeaders: (res, filePath) => {
      const immutable = /[\\/]assets[\\/]/.test(filePath);
      res.setHeader(
        'cache-control',
        immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    if (NOT_THE_CONSOLE.test(request.url)) return reply.callNotFound();
    // A missing file with an extension is a 404, not the app (a stale chunk must fail loudly).
    if (/\.[a-z0-9]{1,8}$/i.test(request.url.split('?')[0] ?? '')) return reply.callNotFound();
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html');
  });
}
