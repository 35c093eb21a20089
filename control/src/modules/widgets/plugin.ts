/**
 * The widget's runtime: call tickets (claimed calls, the sweeper of expired endpoints), the
 * MySQL-backed rate limiter, and the static files a customer's page loads: `/widget.js` (the
 * loader) and `/widget/<bundle>.js` (the call and chat UIs, loaded on click), built from widget/
 * into widget/dist.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { AriState, DIALPLAN_APP } from '../../ari/events.ts';
import { AppError } from '../../lib/errors.ts';
import { WidgetCalls } from './calls.ts';
import { RateLimiter } from '../../lib/rate-limiter.ts';

declare module 'fastify' {
  interface FastifyInstance {
    widgetCalls: { calls: WidgetCalls; limiter: RateLimiter };
  }
}

export const WIDGET_DIST = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../widget/dist',
);
const BUNDLE = /^[a-z][a-z0-9-]{0,40}\.js$/;

async function widgetsPlugin(app: FastifyInstance): Promise<void> {
  const log = app.log.child({ module: 'widgets' });
  const calls = new WidgetCalls(
    app.db,
    app.ari,
    app.calls,
    app.telephony,
    app.cdrStore,
    app.config.widget,
    app.config.ari.url,
    log,
  );
  const limiter = new RateLimiter(app.db, app.config.widget.rateWindowSeconds, 'widget');
  app.decorate('widgetCalls', { calls, limiter });

  // Only the process that owns the calls sweeps (tests run other apps beside it).
  if (app.ari.appName === DIALPLAN_APP) {
    app.ari.onConnected(() => calls.reconcile());
    calls.startSweeper();
    const timer = setInterval(() => {
      if (app.ari.state === AriState.Connected)
        limiter.sweep().catch((err: unknown) => log.warn({ err }, 'rate-limit sweep failed'));
    }, 60_000);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }
  app.addHook('onClose', async () => calls.stop());

  const serve = async (file: string) => {
    try {
      return await readFile(path.join(WIDGET_DIST, file));
    } catch {
      throw new AppError('NOT_FOUND', 'The widget is not built (npm run build -w widget)', 404);
    }
  };

  app.get(
    '/widget.js',
    {
      schema: {
        tags: ['widgets'],
        summary:
          'The widget loader a customer’s site embeds: <script src=".../widget.js?id=…" async>',
        querystring: Type.Object({ id: Type.Optional(Type.String({ maxLength: 40 })) }),
        produces: ['application/javascript'],
      },
    },
    async (_request, reply) => {
      const body = await serve('widget.js');
      return reply
        .header('content-type', 'application/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .header('access-control-allow-origin', '*')
        .send(body);
    },
  );

  app.get(
    '/widget/:file',
    {
      schema: {
        tags: ['widgets'],
        summary: 'The widget’s lazily loaded bundles (call UI with SIP.js, chat UI)',
        params: Type.Object({ file: Type.String({ pattern: '^[a-z][a-z0-9-]{0,40}\\.js$' }) }),
        produces: ['application/javascript'],
      },
    },
    async (request, reply) => {
      const { file } = request.params as { file: string };
      if (!BUNDLE.test(file)) throw new AppError('NOT_FOUND', 'No such file', 404);
      const body = await serve(file);
      return reply
        .header('content-type', 'application/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .header('access-control-allow-origin', '*')
        .send(body);
    },
  );
}

export default fp(widgetsPlugin, {
  name: 'widgets',
  fastify: '5.x',
  dependencies: ['db', 'ari', 'calls', 'realtime'],
});
