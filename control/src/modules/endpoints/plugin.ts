/**
 * One EndpointService per app, as `app.endpoints`: the endpoints routes use it, and so do other
 * modules whose changes reach an endpoint (a disabled user's phone leaves Asterisk). Re-pushes
 * everything on every ARI (re)connect.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { EndpointService } from './service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    endpoints: EndpointService;
  }
}

async function endpointsPlugin(app: FastifyInstance): Promise<void> {
  const service = new EndpointService(app.db, app.ari, app.log.child({ module: 'endpoints' }));
  app.decorate('endpoints', service);
  // The call engine's agents cache each user's phone: a changed phone is read again at once.
  if (app.hasDecorator('agents')) service.onUserPhoneChanged((userId) => app.agents.refresh(userId));
  if (app.config.resyncEndpointsOnConnect) {
    app.ari.onConnected(async () => {
      await service.resync();
    });
  }
}

export default fp(endpointsPlugin, {
  name: 'endpoints',
  fastify: '5.x',
  dependencies: ['db', 'ari'],
});
