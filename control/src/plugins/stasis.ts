import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { StasisDispatcher } from '../ari/stasis-app.ts';

declare module 'fastify' {
  interface FastifyInstance {
    stasis: StasisDispatcher;
  }
}

async function stasisPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('stasis', new StasisDispatcher(app.ari, app.log.child({ module: 'stasis' })));
}

export default fp(stasisPlugin, { name: 'stasis', fastify: '5.x', dependencies: ['ari'] });
