/** Hands the call engine's `ivr` targets to the IVR runtime. */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { IvrRuntime } from './runtime.ts';

async function ivrPlugin(app: FastifyInstance): Promise<void> {
  new IvrRuntime(app.db, app.telephony, app.calls, app.log.child({ module: 'ivr' })).register();
}

export default fp(ivrPlugin, { name: 'ivr', fastify: '5.x', dependencies: ['db', 'calls'] });
