/**
 * Builds the Fastify app and never listens: `server.ts` listens, tests call `app.inject()`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyInstance,
  type FastifyServerOptions,
  type RouteOptions,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from './config.ts';
import errorsPlugin from './plugins/errors.ts';
import dbPlugin from './plugins/db.ts';
import ariPlugin from './plugins/ari.ts';
import metricsPlugin from './plugins/metrics.ts';
import stasisPlugin from './plugins/stasis.ts';
import authPlugin from './plugins/auth.ts';
import idempotencyPlugin from './plugins/idempotency.ts';
import callsPlugin from './modules/calls/plugin.ts';
import ivrPlugin from './modules/ivr/plugin.ts';
import voicemailPlugin from './modules/voicemail/plugin.ts';
import endpointsPlugin from './modules/endpoints/plugin.ts';
import widgetsPlugin from './modules/widgets/plugin.ts';
import chatPlugin from './modules/chat/plugin.ts';
import helpdeskPlugin from './modules/helpdesk/plugin.ts';
import realtimePlugin from './plugins/realtime.ts';
import { healthRoutes } from './modules/health/routes.ts';
import { apiRoutes } from './modules/index.ts';
import { consoleRoutes } from './console.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

export interface BuildAppOptions {
  /** Overrides Fastify's logger settings (tests pass `false` or a level). */
  logger?: FastifyServerOptions['logger'];
  /** Sees every route as it is added (tests collect the route table, independent of OpenAPI). */
  onRoute?: (route: RouteOptions) => void;
}

const REQUEST_ID_HEADER = 'x-request-id';

export async function buildApp(config: Config, options: BuildAppOptions = {}) {
  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
    // Keep a caller's request id (a proxy, a retried client) or make one; pino puts it on every line.
    requestIdHeader: REQUEST_ID_HEADER,
    genReqId: () => randomUUID(),
    bodyLimit: 1024 * 1024,
    trustProxy: config.trustProxy,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  app.decorate('config', config);
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });

  await app.register(errorsPlugin);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Calldock control plane',
        version: '1',
        description: 'Provisioning, call control and reporting for Calldock tenants.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(dbPlugin, { databaseUrl: config.databaseUrl });
  await app.register(ariPlugin, config.ari);
  await app.register(metricsPlugin);
  await app.register(stasisPlugin);
  await app.register(authPlugin);
  await app.register(idempotencyPlugin);
  await app.register(realtimePlugin);
  await app.register(callsPlugin);
  await app.register(ivrPlugin);
  await app.register(voicemailPlugin);
  await app.register(endpointsPlugin);
  await app.register(widgetsPlugin);
  await app.register(chatPlugin);
  await app.register(helpdeskPlugin);
  await app.register(healthRoutes);
  await app.register(apiRoutes, { prefix: '/api/v1' });

  if (config.consoleDist && existsSync(path.join(config.consoleDist, 'index.html'))) {
    await app.register(consoleRoutes, { root: config.consoleDist });
  }

  return app;
}

export type App = FastifyInstance;
