/**
 * DID → tenant and target for the engine: the DIDs module's routing snapshot (read fresh for
 * every call, so a change made through the API applies to the next call), with business hours
 * and holidays deciding between the in-hours and after-hours target.
 */
import type { Db } from '../../db/database.ts';
import { resolveDid, targetAt } from '../dids/lookup.ts';
import type { RouteResolver } from './engine.ts';

export function didRouteResolver(db: Db): RouteResolver {
  return async (number, at) => {
    const route = await resolveDid(db, number);
    if (!route) return undefined;
    const target = targetAt(route, at);
    return {
      tenantId: route.tenantId,
      didId: route.did.id,
      afterHours: route.hours !== undefined && target !== route.target,
      priority: route.did.callerPriority,
      target: target ? { type: target.type, id: target.id ?? null, value: target.value ?? null } : undefined,
    };
  };
}
