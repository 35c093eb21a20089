import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { AriConnection } from '../ari/connection.ts';

declare module 'fastify' {
  interface FastifyInstance {
    ari: AriConnection;
  }
}

export interface AriPluginOptions {
  url: string;
  user: string;
  password: string;
  app: string;
}

/**
 * Starts the ARI connection when the app is ready and stops it on close. The connection keeps
 * retrying in the background: the control plane starts (and reports not-ready) without Asterisk.
 */
async function ariPlugin(app: FastifyInstance, options: AriPluginOptions): Promise<void> {
  const connection = new AriConnection({
    ...options,
    logger: app.log.child({ module: 'ari' }),
  });
  app.decorate('ari', connection);
  app.addHook('onReady', async () => {
    connection.start();
  });
  app.addHook('onClose', async () => {
    await connection.stop();
  });
}

export default fp(ariPlugin, { name: 'ari', fastify: '5.x' });
