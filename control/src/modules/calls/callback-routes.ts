/**
 * Callback tasks (see callbacks.ts):
 *
 *   GET  /callbacks              the tenant's tasks, newest first; filters status, queueId
 *   POST /callbacks              { queueId, number }: call this customer back from that queue
 *   POST /callbacks/:id/cancel   a waiting task leaves its queue
 *
 * Supervisors and admins.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Selectable } from 'kysely';
import { tenantOf } from '../../plugins/auth.ts';
import { listQuery, listResponse, paginate } from '../../lib/pagination.ts';
import { AppError } from '../../lib/errors.ts';
import { audit } from '../../lib/audit.ts';
import type { CallbackTable } from '../../db/schema.ts';
import type { CallbackService, CallbackTask } from './callbacks.ts';
import { StringEnum } from '../routing/common.ts';
import { SUPERVISING } from './routes.ts';

const tags = ['callbacks'];
const config = { auth: SUPERVISING };
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const Status = StringEnum(['waiting', 'dialing', 'completed', 'failed', 'cancelled']);
const Callback = Type.Object({
  id: Type.Integer(),
  queueId: Type.Integer(),
  number: Type.String(),
  reason: StringEnum(['requested', 'abandoned', 'scheduled', 'web'], {
    description: 'requested: pressed the digit; abandoned: hung up after the threshold; scheduled: by a person; web: from the widget',
  }),
  status: Status,
  originLinkedid: nullable(Type.String({ description: 'The call that asked for it' })),
  callbackLinkedid: nullable(Type.String({ description: 'The latest call placed for it' })),
  queuedAt: Type.String({ format: 'date-time', description: 'Its place in the queue' }),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  nextAttemptAt: nullable(Type.String({ format: 'date-time' })),
  agentUserId: nullable(Type.Integer()),
  lastCause: nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  position: nullable(Type.Integer({ description: 'Place among the queue\'s waiting callers while it waits (1 = next)' })),
});

function present(row: Selectable<CallbackTable>, callbacks: CallbackService): CallbackTask {
  return {
    id: row.id,
    queueId: row.queueId,
    number: row.number,
    reason: row.reason,
    status: row.status,
    originLinkedid: row.originLinkedid,
    callbackLinkedid: row.callbackLinkedid,
    queuedAt: row.queuedAt.toISOString(),
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    nextAttemptAt: iso(row.nextAttemptAt),
    agentUserId: row.agentUserId,
    lastCause: row.lastCause,
    createdAt: row.createdAt.toISOString(),
    position: row.status === 'waiting' ? callbacks.position(row.id) : null,
  };
}

export const callbackRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const one = async (tenantId: number, id: number) => {
    const row = await app.db.selectFrom('callbacks').selectAll().where('tenantId', '=', tenantId).where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'No such callback', 404);
    return present(row, app.callbacks);
  };

  app.get(
    '/callbacks',
    {
      config,
      schema: {
        tags,
        summary: 'Callback tasks, newest first',
        querystring: listQuery({
          status: Type.Optional(Status),
          queueId: Type.Optional(Type.Integer({ minimum: 1 })),
        }),
        response: { 200: listResponse(Callback) },
      },
    },
    async (request) => {
      const { status, queueId, ...list } = request.query;
      let query = app.db.selectFrom('callbacks').selectAll().where('tenantId', '=', tenantOf(request));
      if (status) query = query.where('status', '=', status);
      if (queueId) query = query.where('queueId', '=', queueId);
      const page = await paginate(query, { ...list, sort: list.sort ?? '-createdAt' }, { createdAt: 'createdAt', queuedAt: 'queuedAt', id: 'id' }, 'callbacks');
      return { items: page.items.map((r) => present(r, app.callbacks)), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/callbacks',
    {
      config,
      schema: {
        tags,
        summary: 'Call a customer back from a queue',
        description: 'The task joins the queue now and is offered to its agents like a caller; the agent who takes it hears ringing while the number is dialled through the tenant\'s trunk.',
        body: Type.Object(
          {
            queueId: Type.Integer({ minimum: 1 }),
            number: Type.String({ pattern: '^\\+?[0-9]{3,20}$', description: 'The customer\'s number' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Callback },
      },
    },
    async (request, reply) => {
      const tenantId = tenantOf(request);
      const id = await app.callbacks.scheduleTask(tenantId, request.body.queueId, request.body.number);
      const task = await one(tenantId, id);
      await audit(app.db, request, { action: 'callback.create', entityType: 'callback', entityId: id, after: task });
      return reply.status(201).send(task);
    },
  );

  app.post(
    '/callbacks/:id/cancel',
    {
      config,
      schema: {
        tags,
        summary: 'Cancel a waiting callback',
        description: 'Only a waiting task can be cancelled; one being dialled or done is a 409.',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: Callback },
      },
    },
    async (request) => {
      const tenantId = tenantOf(request);
      const before = await one(tenantId, request.params.id);
      await app.callbacks.cancelTask(tenantId, request.params.id);
      const after = await one(tenantId, request.params.id);
      await audit(app.db, request, { action: 'callback.cancel', entityType: 'callback', entityId: after.id, before, after });
      return after;
    },
  );
};
