/**
 * The SLA breach job: started when the app is ready, stopped when it closes. Every run marks
 * what is newly missed (sla.ts `runBreachCheck`, idempotent across runs and replicas).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { runBreachCheck, type BreachRun } from './sla.ts';

declare module 'fastify' {
  interface FastifyInstance {
    helpdesk: { runBreachCheck(now?: Date): Promise<BreachRun> };
  }
}

async function helpdeskPlugin(app: FastifyInstance): Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const run = (now?: Date) => {
    const next = running.then(() => runBreachCheck(app.db, app.realtime, now));
    running = next.catch(() => undefined);
    return next;
  };
  app.decorate('helpdesk', { runBreachCheck: run });
  let timer: NodeJS.Timeout | undefined;
  const seconds = app.config.helpdesk.slaCheckSeconds;
  app.addHook('onReady', async () => {
    if (seconds <= 0) return;
    timer = setInterval(() => {
      run().then(
        (r) =>
          r.marked.length > 0 && app.log.info({ marked: r.marked.length }, 'SLA breaches marked'),
        (err: unknown) => app.log.warn({ err }, 'SLA breach check failed'),
      );
    }, seconds * 1000).unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
  });
}

export default fp(helpdeskPlugin, {
  name: 'helpdesk',
  fastify: '5.x',
  dependencies: ['db', 'realtime'],
});
