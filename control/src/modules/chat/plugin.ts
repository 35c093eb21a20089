/** One ChatService per app, as `app.chats`; waiting chats are routed again when someone frees up. */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { AgentStateChange } from '../agents/registry.ts';
import { AgentStatus } from '../calls/acd/agent-state.ts';
import { ChatService } from './service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    chats: ChatService;
  }
}

async function chatPlugin(app: FastifyInstance): Promise<void> {
  const log = app.log.child({ module: 'chat' });
  const service = new ChatService(app.db, app.agents, app.realtime, log);
  app.decorate('chats', service);
  // One capacity for calls and chats: the ACD skips people holding chats (unless the tenant
  // mixes them) and offers them a call again when their last chat ends.
  app.calls.setCapacityCheck((tenantId, userId) => service.holdsChats(tenantId, userId));
  service.onChatsFreed = (tenantId, userId) => {
    app.calls
      .agentAvailabilityChanged(tenantId, userId)
      .catch((err: unknown) => log.warn({ err }, 'call routing after a chat failed'));
  };
  app.addHook('onReady', async () => {
    await service.primeLoad().catch((err: unknown) => log.warn({ err }, 'chat load not read'));
  });
  app.agents.on('change', (change: AgentStateChange) => {
    if (change.state.status !== AgentStatus.Available) return;
    service
      .routeWaiting(change.tenantId)
      .catch((err: unknown) => log.warn({ err }, 'chat routing failed'));
  });
  app.addHook('onClose', async () => service.closeAll());
}

export default fp(chatPlugin, {
  name: 'chat',
  fastify: '5.x',
  dependencies: ['db', 'calls', 'realtime'],
});
