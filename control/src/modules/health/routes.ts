import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AriState } from '../../ari/events.ts';
import { AppError } from '../../lib/errors.ts';

const Check = Type.Object({
  up: Type.Boolean(),
  state: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
});

const Ready = Type.Object({
  status: Type.Literal('ready'),
  checks: Type.Object({ database: Check, asterisk: Check }),
});

/** Liveness and readiness. Neither needs a token: load balancers and `npm start` call them. */
export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['system'],
        summary: 'The process is alive',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() }),
        },
      },
    },
    async () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['system'],
        summary: 'The database and Asterisk are reachable',
        description: 'Answers 503 with `error.details.checks` naming what is down.',
        response: { 200: Ready },
      },
    },
    async () => {
      const database = await app
        .pingDb()
        .then(() => ({ up: true }))
        .catch((err: unknown) => ({
          up: false,
          error: err instanceof Error ? err.message : String(err),
        }));
      const ariUp = app.ari.state === AriState.Connected;
      const asterisk = {
        up: ariUp,
        state: app.ari.state,
        ...(ariUp && app.ari.asteriskVersion ? { version: app.ari.asteriskVersion } : {}),
        ...(!ariUp && app.ari.lastError ? { error: app.ari.lastError } : {}),
      };
      if (!database.up || !asterisk.up) {
        const down = [!database.up && 'database', !asterisk.up && 'asterisk'].filter(Boolean);
        throw new AppError('NOT_READY', `Not ready: ${down.join(' and ')} down`, 503, {
          checks: { database, asterisk },
        });
      }
      return { status: 'ready' as const, checks: { database, asterisk } };
    },
  );
};
