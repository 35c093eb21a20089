/**
 * Wires the call engine to the ARI connection: StasisStart goes to the engine, and so does
 * every ARI event about channels it knows.
 */
import fp from 'fastify-plugin';
import { Summary } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { Telephony } from '../../ari/telephony.ts';
import { AriState, DIALPLAN_APP } from '../../ari/events.ts';
import { reconcileFallbackCdrs, syncFallbackRoutes } from './fallback.ts';
import { AgentRegistry, type AgentStateChange } from '../agents/registry.ts';
import { CallEngine, type CallEvent } from './engine.ts';
import { CdrStore } from './cdr-store.ts';
import { createDatabase } from '../../db/database.ts';
import { didRouteResolver } from './routing.ts';
import { CallbackService } from './callbacks.ts';
import { CallMonitor } from './monitor.ts';
import { Dialer } from './outbound.ts';
import { dialRefusal, refusalMessage } from './dial-rules.ts';
import { CallTransfers } from './transfer.ts';

declare module 'fastify' {
  interface FastifyInstance {
    calls: CallEngine;
    agents: AgentRegistry;
    telephony: Telephony;
    cdrStore: CdrStore;
    dialer: Dialer;
    transfers: CallTransfers;
    monitor: CallMonitor;
    callbacks: CallbackService;
  }
}

/** Changes made through the API reach Asterisk's fallback routes within this time. */
const FALLBACK_SYNC_MS = 60_000;

async function callsPlugin(app: FastifyInstance): Promise<void> {
  const log = app.log.child({ module: 'calls' });
  const telephony = new Telephony(app.ari, log);
  // CDR batches on a connection of their own that takes a batch's statements in one query.
  const cdrBatchDb = createDatabase(app.config.databaseUrl, { connectionLimit: 1, multipleStatements: true });
  const cdrStore = new CdrStore(app.db, log, app.config.cdrOutboxFile, cdrBatchDb);
  const agents = new AgentRegistry(app.db, cdrStore, log);
  const engine = new CallEngine(app.db, cdrStore, telephony, agents, didRouteResolver(app.db), log, {
    agentReconnectGraceSeconds: app.config.agentReconnectGraceSeconds,
    routingFreshMs: app.config.routingFreshMs,
  });
  // A change an admin makes applies to the very next call: routing reads are reused only briefly
  // (see RoutingView), and not at all across a successful change through this API.
  // (onSend: the change is committed, and the client has not got the answer yet.)
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 400 && request.url.startsWith('/api/')) engine.view.forget();
    return payload;
  });
  app.decorate('telephony', telephony);
  app.decorate('agents', agents);
  app.decorate('calls', engine);
  const dialer = new Dialer(app.db, cdrStore, telephony, engine, agents, log);
  // Fraud rules for every outside number, whoever or whatever dials it.
  dialer.setGuard(async ({ tenantId, number }) => {
    const rules = await engine.view.dialRules(tenantId);
    if (!rules) return 'unknown tenant';
    const refusal = dialRefusal(number, rules);
    return refusal ? refusalMessage(refusal, number) : undefined;
  });
  app.decorate('dialer', dialer);
  app.decorate('transfers', new CallTransfers(app.db, telephony, engine, agents, dialer, log));
  app.decorate('monitor', new CallMonitor(telephony, engine, agents, log));
  const callbacks = new CallbackService(app.db, cdrStore, telephony, engine, dialer, log, {
    retrySeconds: app.config.callbackRetrySeconds,
  });
  app.decorate('callbacks', callbacks);
  app.stasis.setHandler((event) => engine.onStasisStart(event));
  // On every (re)connect, before new calls are taken, catch up with what Asterisk has. Only the
  // connection subscribed to the dialplan's app owns calls (tests run others beside it).
  if (app.ari.appName === DIALPLAN_APP) {
    app.ari.onConnected(async () => {
      await engine.reconcile();
      // Callback tasks wait in MySQL: back into their queues, in their places.
      await callbacks.load();
    });
    // Ahead of any outage of ours: the routes Asterisk falls back to when we are not there, and
    // once back, the CDR of the calls that took them.
    const fallbacks = async () => {
      const count = await syncFallbackRoutes(app.db, telephony);
      log.debug({ count }, 'fallback routes pushed to Asterisk');
    };
    app.ari.onConnected(async () => {
      await fallbacks();
      if (app.config.asteriskCdrCsv) await reconcileFallbackCdrs(app.db, cdrStore, app.config.asteriskCdrCsv, log);
    });
    const timer = setInterval(() => {
      if (app.ari.state === AriState.Connected) fallbacks().catch((err: unknown) => log.warn({ err }, 'fallback sync failed'));
    }, FALLBACK_SYNC_MS);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }
  app.ari.on('event', (event) => engine.onAriEvent(event));
  const decisions = new Summary({
    name: 'calldock_acd_decision_seconds',
    help: "From a queued call's StasisStart to its first agent being dialled",
    percentiles: [0.5, 0.95, 0.99],
    registers: [app.metrics],
  });
  engine.on('decision', (ms: number) => decisions.observe(ms / 1000));
  // Consoles see calls and agents change live.
  engine.on('call', (event: CallEvent) => app.realtime.publish(event.tenantId, event.type, event));
  agents.on('change', (change: AgentStateChange) =>
    app.realtime.publish(change.tenantId, 'agent.state', {
      userId: change.userId,
      status: change.state.status,
      reason: change.state.reason ?? null,
      since: new Date(change.state.since).toISOString(),
      callId: change.state.callId ?? null,
    }),
  );
  app.decorate('cdrStore', cdrStore);
  app.addHook('onClose', async () => {
    callbacks.close();
    await engine.flush();
    cdrStore.close();
    await cdrBatchDb.destroy();
  });
}

export default fp(callsPlugin, { name: 'calls', fastify: '5.x', dependencies: ['db', 'ari', 'metrics', 'stasis', 'realtime'] });
