/** Hands the call engine's `voicemail` targets to the voicemail runtime. */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { VoicemailRuntime } from './runtime.ts';

declare module 'fastify' {
  interface FastifyInstance {
    voicemail: VoicemailRuntime;
  }
}

async function voicemailPlugin(app: FastifyInstance): Promise<void> {
  const runtime = new VoicemailRuntime(
    app.db,
    app.telephony,
    app.calls,
    app.log.child({ module: 'voicemail' }),
  );
  runtime.register();
  app.decorate('voicemail', runtime);
  // Messages of calls that just ended may still be on their way to MySQL.
  app.addHook('onClose', async () => {
    await runtime.flush();
  });
}

export default fp(voicemailPlugin, {
  name: 'voicemail',
  fastify: '5.x',
  dependencies: ['db', 'calls'],
});
