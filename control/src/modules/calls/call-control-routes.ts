/**
 * Transfers, consults and supervisor monitoring of live calls, and click-to-call:
 *
 *   POST   /live-calls/:callId/transfer           blind, to { userId } | { queueId } | { number }
 *   POST   /live-calls/:callId/consult            attended, to { userId } | { number }
 *   POST   /live-calls/:callId/consult/complete
 *   POST   /live-calls/:callId/consult/cancel
 *   POST   /live-calls/:callId/monitor            { mode: listen|whisper|barge, supervisorUserId? }
 *   DELETE /live-calls/:callId/monitor
 *   POST   /calls/dial                            { number }: ring my phone, then dial
 *
 * Transfers and consults: the call's own agent, or a supervisor/admin of the tenant. Monitoring:
 * supervisors and admins. Another tenant's call is a 404, like one that does not exist.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireAuth, tenantOf } from '../../plugins/auth.ts';
import { FieldErrors } from '../../lib/field-errors.ts';
import type { ActiveCall } from './call.ts';
import { CONTROL_ROLES, LiveCall, SUPERVISING, callNotFound, presentLive } from './routes.ts';
import type { TransferTarget } from './transfer.ts';

const tags = ['calls'];
const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});
const errors = { 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

const CallParams = Type.Object({ callId: Type.String({ minLength: 1, maxLength: 128 }) });
const UserId = Type.Integer({
  minimum: 1,
  description: 'An agent of the tenant (their phone rings)',
});
const PhoneNumber = Type.String({
  pattern: '^\\+?[0-9]{3,20}$',
  description: "An outside number, dialled through the tenant's trunk with its caller-ID policy",
});

const TransferBody = Type.Object(
  {
    userId: Type.Optional(UserId),
    queueId: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'The customer joins it, keeping their arrival time',
      }),
    ),
    number: Type.Optional(PhoneNumber),
  },
  { additionalProperties: false, description: 'Exactly one of userId, queueId, number' },
);
const ConsultBody = Type.Object(
  { userId: Type.Optional(UserId), number: Type.Optional(PhoneNumber) },
  { additionalProperties: false, description: 'Exactly one of userId, number' },
);

const Target = Type.Union([
  Type.Object({ type: Type.Literal('agent'), userId: Type.Integer() }),
  Type.Object({ type: Type.Literal('queue'), queueId: Type.Integer() }),
  Type.Object({ type: Type.Literal('number'), number: Type.String() }),
]);
const Transfer = Type.Union([
  Type.Object({
    kind: Type.Union([Type.Literal('blind'), Type.Literal('consult')]),
    target: Target,
    answered: Type.Boolean({ description: 'The target picked up' }),
  }),
  Type.Null(),
]);
const LiveCallWithTransfer = Type.Composite([LiveCall, Type.Object({ transfer: Transfer })]);

const MonitorMode = Type.Union(
  [Type.Literal('listen'), Type.Literal('whisper'), Type.Literal('barge')],
  {
    description:
      'listen: hear the agent and the customer, unheard; whisper: the agent hears you, the customer does not; barge: everyone hears everyone',
  },
);
const MonitorBody = Type.Object(
  {
    mode: MonitorMode,
    supervisorUserId: Type.Optional(
      Type.Integer({ minimum: 1, description: "Whose phone rings; default: the caller's own" }),
    ),
  },
  { additionalProperties: false },
);
const Monitor = Type.Object({
  id: Type.String(),
  supervisorUserId: Type.Integer(),
  mode: MonitorMode,
  answered: Type.Boolean({ description: "The supervisor's phone picked up (ringing until then)" }),
});

/** The one target a body names; 400 naming the fields otherwise. */
function oneTarget(
  body: { userId?: number; queueId?: number; number?: string },
  allowed: ReadonlyArray<'userId' | 'queueId' | 'number'>,
): TransferTarget {
  const given = allowed.filter((k) => body[k] !== undefined);
  if (given.length !== 1) {
    const errors = new FieldErrors();
    const message =
      given.length === 0 ? `give one of ${allowed.join(', ')}` : 'give only one target';
    for (const field of given.length === 0 ? allowed : given) errors.add(field, message);
    errors.throwIfAny();
  }
  if (body.userId !== undefined) return { type: 'agent', userId: body.userId };
  if (body.queueId !== undefined) return { type: 'queue', queueId: body.queueId };
  return { type: 'number', number: body.number! };
}

export const callControlRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** The live call, if this caller may control it (its agent, or a supervisor). */
  const liveCall = (request: FastifyRequest, callId: string): ActiveCall => {
    const auth = requireAuth(request);
    const call = app.calls.getCall(tenantOf(request), callId);
    if (!call) throw callNotFound(callId);
    if (!SUPERVISING.includes(auth.role) && call.agent?.userId !== auth.userId)
      throw callNotFound(callId);
    return call;
  };
  const present = (call: ActiveCall) => ({
    ...presentLive(call, app.calls.queuePosition(call.tenantId, call.id) ?? null),
    transfer: app.transfers.state(call.id),
  });
  const control = { auth: CONTROL_ROLES };

  app.post(
    '/live-calls/:callId/transfer',
    {
      config: control,
      schema: {
        tags,
        summary: 'Blind transfer to an agent, a queue or an outside number',
        description:
          "The agent is released to wrap-up at once. An agent target rings for the queue's ring timeout; " +
          "if they (or an outside number) do not answer, the customer goes back to the call's queue in " +
          'their original place, or hears an announcement when the call had no queue.',
        params: CallParams,
        body: TransferBody,
        response: { 200: LiveCallWithTransfer, ...errors },
      },
    },
    async (request) => {
      const call = liveCall(request, request.params.callId);
      await app.transfers.blindTransfer(
        call,
        oneTarget(request.body, ['userId', 'queueId', 'number']),
        requireAuth(request).userId,
      );
      return present(call);
    },
  );

  app.post(
    '/live-calls/:callId/consult',
    {
      config: control,
      schema: {
        tags,
        summary: 'Attended transfer: consult an agent or an outside number first',
        description:
          'The customer is put on hold; the agent hears ringing, then the consulted party.',
        params: CallParams,
        body: ConsultBody,
        response: { 200: LiveCallWithTransfer, ...errors },
      },
    },
    async (request) => {
      const call = liveCall(request, request.params.callId);
      const target = oneTarget(request.body, ['userId', 'number']) as Exclude<
        TransferTarget,
        { type: 'queue' }
      >;
      await app.transfers.consult(call, target, requireAuth(request).userId);
      return present(call);
    },
  );

  app.post(
    '/live-calls/:callId/consult/complete',
    {
      config: control,
      schema: {
        tags,
        summary: 'Hand the customer over to the consulted party',
        params: CallParams,
        response: { 200: LiveCallWithTransfer, ...errors },
      },
    },
    async (request) => {
      const call = liveCall(request, request.params.callId);
      await app.transfers.completeConsult(call, requireAuth(request).userId);
      return present(call);
    },
  );

  app.post(
    '/live-calls/:callId/consult/cancel',
    {
      config: control,
      schema: {
        tags,
        summary: 'Hang the consult up and go back to the customer',
        params: CallParams,
        response: { 200: LiveCallWithTransfer, ...errors },
      },
    },
    async (request) => {
      const call = liveCall(request, request.params.callId);
      await app.transfers.cancelConsult(call, requireAuth(request).userId);
      return present(call);
    },
  );

  app.post(
    '/live-calls/:callId/monitor',
    {
      config: { auth: SUPERVISING },
      schema: {
        tags,
        summary: 'Listen to, whisper to or barge into a live call',
        description:
          "Rings the supervisor's phone; the monitoring starts when they answer. Asking again with another " +
          'mode switches the answered session.',
        params: CallParams,
        body: MonitorBody,
        response: { 200: Monitor, ...errors },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      const call = liveCall(request, request.params.callId);
      const supervisorUserId = request.body.supervisorUserId ?? auth.userId;
      return app.monitor.start(call, supervisorUserId, request.body.mode, auth.userId);
    },
  );

  app.delete(
    '/live-calls/:callId/monitor',
    {
      config: { auth: SUPERVISING },
      schema: {
        tags,
        summary: 'Stop monitoring a live call',
        params: CallParams,
        querystring: Type.Object({
          supervisorUserId: Type.Optional(
            Type.Integer({
              minimum: 1,
              description: "Only this supervisor's session; default: all",
            }),
          ),
        }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const call = liveCall(request, request.params.callId);
      await app.monitor.stopAll(call, request.query.supervisorUserId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/calls/dial',
    {
      config: { auth: CONTROL_ROLES },
      schema: {
        tags,
        summary: 'Click-to-call: ring my phone, then dial a number or an extension',
        description:
          "Answers 202 once the caller's own phone rings; when they pick up, the number is dialled through " +
          "the tenant's trunk (or the colleague's phone rings). The call appears in /live-calls from then on.",
        body: Type.Object(
          {
            number: Type.String({
              pattern: '^\\+?[0-9*#]{1,20}$',
              description: 'A phone number or an extension',
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({
            number: Type.String(),
            kind: Type.Union([Type.Literal('internal'), Type.Literal('external')]),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const placed = await app.dialer.clickToCall(
        tenantOf(request),
        auth.userId,
        request.body.number,
      );
      return reply.code(202).send({ number: request.body.number, kind: placed.kind });
    },
  );
};
