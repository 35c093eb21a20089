import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Db } from '../../db/database.ts';
import type { RouteDecision } from './engine.ts';
import { RoutingView } from './view.ts';

/** A resolver that counts its reads and answers with the current "row". */
function counting() {
  const state = { reads: 0, tenantId: 1 };
  const resolver = async (): Promise<RouteDecision> => {
    state.reads += 1;
    await new Promise((r) => setTimeout(r, 5));
    return { tenantId: state.tenantId, didId: 1, afterHours: false, priority: 0, target: undefined };
  };
  return { state, resolver };
}

const log = pino({ level: 'silent' });
const db = {} as Db; // route reads go through the resolver only

describe('RoutingView', () => {
  it('reuses a read for a moment, shares one under way, and reads again after forget()', async () => {
    const { state, resolver } = counting();
    const view = new RoutingView(db, resolver, log, 200);
    const [a, b] = await Promise.all([view.route('+1', new Date()), view.route('+1', new Date())]);
    expect(state.reads).toBe(1);
    expect(a).toBe(b);
    await view.route('+1', new Date());
    expect(state.reads).toBe(1);

    state.tenantId = 2;
    view.forget();
    expect((await view.route('+1', new Date()))?.tenantId).toBe(2);
    expect(state.reads).toBe(2);
  });

  it('reads again once the answer is older than its freshness', async () => {
    const { state, resolver } = counting();
    const view = new RoutingView(db, resolver, log, 20);
    await view.route('+1', new Date());
    await new Promise((r) => setTimeout(r, 40));
    await view.route('+1', new Date());
    // Served from memory; the read for the next call starts once this I/O round is over.
    await new Promise((r) => setImmediate(r));
    expect(state.reads).toBe(2);
  });

  it('does not keep an answer read across a forget() as fresh', async () => {
    const { state, resolver } = counting();
    const view = new RoutingView(db, resolver, log, 10_000);
    const during = view.route('+1', new Date());
    view.forget();
    await during;
    await view.route('+1', new Date());
    expect(state.reads).toBe(2);
  });

  it('serves a slightly old answer at once and reads again behind it, for the next call', async () => {
    const { state, resolver } = counting();
    const view = new RoutingView(db, resolver, log, 20);
    await view.route('+1', new Date());
    state.tenantId = 2;
    await new Promise((r) => setTimeout(r, 30));
    // Older than 20 ms, younger than 4 × 20 ms: the old answer, without waiting for the read
    // it started (which would have said 2).
    expect((await view.route('+1', new Date()))?.tenantId).toBe(1);
    expect(state.reads).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(state.reads).toBe(2);
    await new Promise((r) => setTimeout(r, 10));
    expect((await view.route('+1', new Date()))?.tenantId).toBe(2);
    // Much older than that: the call waits for the read.
    state.tenantId = 3;
    await new Promise((r) => setTimeout(r, 100));
    expect((await view.route('+1', new Date()))?.tenantId).toBe(3);
  });

  it('reads every time with freshness 0', async () => {
    const { state, resolver } = counting();
    const view = new RoutingView(db, resolver, log, 0);
    await view.route('+1', new Date());
    await view.route('+1', new Date());
    expect(state.reads).toBe(2);
  });
});
