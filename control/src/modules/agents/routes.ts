/**
 * Agents' availability: an agent sets themselves available or away (with a reason); supervisors
 * and admins see everyone and may change anyone's state.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth, tenantOf } from '../../plugins/auth.ts';
import { AppError } from '../../lib/errors.ts';
import { AgentStateError, type AgentEvent } from '../calls/acd/agent-state.ts';
import type { AgentRecord } from './registry.ts';

const AgentStateBody = Type.Object(
  {
    status: Type.Union([Type.Literal('available'), Type.Literal('away'), Type.Literal('offline')]),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

const Agent = Type.Object({
  userId: Type.Integer(),
  displayName: Type.String(),
  extension: Type.Union([Type.String(), Type.Null()]),
  hasPhone: Type.Boolean(),
  status: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  since: Type.String({ format: 'date-time' }),
  callId: Type.Union([Type.String(), Type.Null()]),
  wrapUpUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  callsAnswered: Type.Integer(),
});

function present(record: AgentRecord) {
  return {
    userId: record.userId,
    displayName: record.displayName,
    extension: record.extension,
    hasPhone: record.endpoint !== null,
    status: record.state.status,
    reason: record.state.reason ?? null,
    since: new Date(record.state.since).toISOString(),
    callId: record.state.callId ?? null,
    wrapUpUntil: record.state.wrapUpUntil ? new Date(record.state.wrapUpUntil).toISOString() : null,
    callsAnswered: record.callsAnswered,
  };
}

const agentNotFound = (id: number) => new AppError('AGENT_NOT_FOUND', `Agent ${id} not found`, 404);

export const agentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const setState = async (tenantId: number, userId: number, body: { status: string; reason?: string }) => {
    const record = await app.agents.get(userId);
    if (!record || record.tenantId !== tenantId) throw agentNotFound(userId);
    if (body.status === 'available' && !record.endpoint) {
      await app.agents.refresh(userId);
    }
    const current = app.agents.peek(userId) ?? record;
    if (body.status === 'available' && !current.endpoint) {
      throw new AppError('NO_PHONE', 'This agent has no phone (SIP endpoint) to take calls on', 409);
    }
    const event: AgentEvent =
      body.status === 'available'
        ? { type: 'set_available' }
        : body.status === 'away'
          ? { type: 'set_away', reason: body.reason ?? 'away' }
          : { type: 'logout' };
    try {
      app.agents.apply(userId, event);
    } catch (err) {
      if (err instanceof AgentStateError) throw new AppError('INVALID_STATE', err.message, 409);
      throw err;
    }
    if (body.status === 'available') await app.calls.agentAvailabilityChanged(tenantId, userId);
    return present(app.agents.peek(userId)!);
  };

  app.get(
    '/agents',
    {
      config: { auth: ['tenant_admin', 'supervisor', 'agent', 'helpdesk'] },
      schema: { tags: ['agents'], summary: 'Agents of the tenant and their live state', response: { 200: Type.Object({ items: Type.Array(Agent) }) } },
    },
    async (request) => {
      const records = await app.agents.loadTenant(tenantOf(request));
      return { items: records.sort((a, b) => a.userId - b.userId).map(present) };
    },
  );

  app.put(
    '/agents/me/state',
    {
      config: { auth: ['supervisor', 'agent', 'helpdesk'] },
      schema: { tags: ['agents'], summary: 'Set my availability', body: AgentStateBody, response: { 200: Agent } },
    },
    async (request) => setState(tenantOf(request), requireAuth(request).userId, request.body),
  );

  app.put(
    '/agents/:userId/state',
    {
      config: { auth: ['tenant_admin', 'supervisor'] },
      schema: {
        tags: ['agents'],
        summary: "Set an agent's availability",
        params: Type.Object({ userId: Type.Integer({ minimum: 1 }) }),
        body: AgentStateBody,
        response: { 200: Agent },
      },
    },
    async (request) => setState(tenantOf(request), request.params.userId, request.body),
  );
};
