/**
 * /api/v1/reports: what supervisors chart. Inbound calls of the tenant in a time range, counted
 * by hour in SQL (the CDR can be large), with speed of answer, handle time, service level and a
 * per-agent table. The wallboard's "today" figures are the same report for today.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { tenantOf } from '../../plugins/auth.ts';
import { FieldErrors } from '../../lib/field-errors.ts';

const SUPERVISING = ['tenant_admin', 'supervisor'] as const;
const MAX_RANGE_MS = 93 * 86_400_000;

const Totals = {
  offered: Type.Integer(),
  answered: Type.Integer(),
  abandoned: Type.Integer(),
  answeredWithinSl: Type.Integer({ description: 'Answered within the service-level threshold' }),
};
const Summary = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  serviceLevelSeconds: Type.Integer(),
  totals: Type.Object({
    ...Totals,
    asaMs: Type.Integer({ description: 'Average speed of answer' }),
    ahtMs: Type.Integer({ description: 'Average handle time (talk + hold)' }),
    serviceLevelPct: Type.Union([Type.Number(), Type.Null()], { description: 'Of calls offered' }),
  }),
  hours: Type.Array(Type.Object({ hour: Type.String({ format: 'date-time' }), ...Totals })),
  queues: Type.Array(
    Type.Object({
      queueId: Type.Integer(),
      ...Totals,
      asaMs: Type.Integer(),
      longestWaitMs: Type.Integer(),
    }),
  ),
  agents: Type.Array(
    Type.Object({
      userId: Type.Integer(),
      displayName: Type.String(),
      answered: Type.Integer(),
      talkMs: Type.Integer(),
      ahtMs: Type.Integer(),
    }),
  ),
});

export const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/reports/summary',
    {
      config: { auth: SUPERVISING },
      schema: {
        tags: ['reports'],
        summary:
          'Calls offered, answered and abandoned per hour, ASA, AHT, service level, per agent',
        description:
          'Inbound calls that started in [from, to); at most 93 days. Default: today (UTC).',
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            serviceLevelSeconds: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 3600, default: 20 }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Summary },
      },
    },
    async (request) => {
      const tenantId = tenantOf(request);
      const today = new Date();
      today.setUTCHours(0, 0, 0, 0);
      const from = request.query.from ? new Date(request.query.from) : today;
      const to = request.query.to
        ? new Date(request.query.to)
        : new Date(today.getTime() + 86_400_000);
      const errors = new FieldErrors();
      if (to <= from) errors.add('to', 'must be after from');
      else if (to.getTime() - from.getTime() > MAX_RANGE_MS)
        errors.add('to', 'the range is at most 93 days');
      errors.throwIfAny();
      const sl = (request.query.serviceLevelSeconds ?? 20) * 1000;

      const base = app.db
        .selectFrom('calls')
        .where('calls.tenantId', '=', tenantId)
        .where('calls.direction', '=', 'inbound')
        .where('calls.startedAt', '>=', from)
        .where('calls.startedAt', '<', to);
      const counts = {
        offered: sql<number>`count(*)`,
        answered: sql<number>`sum(calls.answered_at is not null)`,
        abandoned: sql<number>`sum(calls.answered_at is null and calls.queue_id is not null and calls.ended_at is not null)`,
        answeredWithinSl: sql<number>`sum(calls.answered_at is not null and calls.wait_ms <= ${sl})`,
      };
      const hourExpr = sql<string>`date_format(calls.started_at, '%Y-%m-%dT%H:00:00.000Z')`;
      const [totals, hours, queues, agents] = await Promise.all([
        base
          .select([
            counts.offered.as('offered'),
            counts.answered.as('answered'),
            counts.abandoned.as('abandoned'),
            counts.answeredWithinSl.as('answeredWithinSl'),
            sql<number>`avg(case when calls.answered_at is not null then calls.wait_ms end)`.as(
              'asaMs',
            ),
            sql<number>`avg(case when calls.answered_at is not null then calls.talk_ms + calls.hold_ms end)`.as(
              'ahtMs',
            ),
          ])
          .executeTakeFirstOrThrow(),
        base
          .select([
            hourExpr.as('hour'),
            counts.offered.as('offered'),
            counts.answered.as('answered'),
            counts.abandoned.as('abandoned'),
            counts.answeredWithinSl.as('answeredWithinSl'),
          ])
          .groupBy(sql`1`)
          .orderBy(sql`1`)
          .execute(),
        base
          .where('calls.queueId', 'is not', null)
          .select([
            'calls.queueId',
            counts.offered.as('offered'),
            counts.answered.as('answered'),
            counts.abandoned.as('abandoned'),
            counts.answeredWithinSl.as('answeredWithinSl'),
            sql<number>`avg(case when calls.answered_at is not null then calls.wait_ms end)`.as(
              'asaMs',
            ),
            sql<number>`max(calls.wait_ms)`.as('longestWaitMs'),
          ])
          .groupBy('calls.queueId')
          .execute(),
        base
          .innerJoin('users', (j) =>
            j
              .onRef('users.id', '=', 'calls.agentUserId')
              .onRef('users.tenantId', '=', 'calls.tenantId'),
          )
          .where('calls.answeredAt', 'is not', null)
          .select([
            'users.id as userId',
            'users.displayName',
            sql<number>`count(*)`.as('answered'),
            sql<number>`sum(calls.talk_ms)`.as('talkMs'),
            sql<number>`avg(calls.talk_ms + calls.hold_ms)`.as('ahtMs'),
          ])
          .groupBy(['users.id', 'users.displayName'])
          .orderBy('users.displayName')
          .execute(),
      ]);
      const n = (v: unknown) => Math.round(Number(v ?? 0));
      const offered = n(totals.offered);
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        serviceLevelSeconds: sl / 1000,
        totals: {
          offered,
          answered: n(totals.answered),
          abandoned: n(totals.abandoned),
          answeredWithinSl: n(totals.answeredWithinSl),
          asaMs: n(totals.asaMs),
          ahtMs: n(totals.ahtMs),
          serviceLevelPct: offered
            ? Math.round((1000 * n(totals.answeredWithinSl)) / offered) / 10
            : null,
        },
        hours: hours.map((h) => ({
          hour: h.hour,
          offered: n(h.offered),
          answered: n(h.answered),
          abandoned: n(h.abandoned),
          answeredWithinSl: n(h.answeredWithinSl),
        })),
        queues: queues.map((q) => ({
          queueId: Number(q.queueId),
          offered: n(q.offered),
          answered: n(q.answered),
          abandoned: n(q.abandoned),
          answeredWithinSl: n(q.answeredWithinSl),
          asaMs: n(q.asaMs),
          longestWaitMs: n(q.longestWaitMs),
        })),
        agents: agents.map((a) => ({
          userId: a.userId,
          displayName: a.displayName,
          answered: n(a.answered),
          talkMs: n(a.talkMs),
          ahtMs: n(a.ahtMs),
        })),
      };
    },
  );
};
