import { Type, type Static } from '@sinclair/typebox';
import { listQuery } from '../../lib/pagination.ts';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const Block = Type.Object({
  id: Type.Integer(),
  ip: Type.String(),
  reason: Type.String(),
  failures: Type.Integer({ description: 'Failed authentications counted when it was blocked' }),
  active: Type.Boolean({ description: 'Not lifted yet: Asterisk refuses this address' }),
  blockedAt: DateTime,
  expiresAt: DateTime,
  liftedAt: Nullable(DateTime),
  liftReason: Type.Union([Type.Literal('expired'), Type.Literal('admin'), Type.Null()]),
  liftedBy: Type.Union([Type.Integer(), Type.Null()], { description: 'The admin who lifted it' }),
});

export const ListBlocksQuery = listQuery({
  active: Type.Optional(Type.Boolean({ description: 'true: active blocks only; false: lifted only' })),
  ip: Type.Optional(Type.String({ maxLength: 45 })),
});
export type ListBlocksQuery = Static<typeof ListBlocksQuery>;

export const AuthFailuresQuery = Type.Object(
  {
    ip: Type.Optional(Type.String({ maxLength: 45 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

export const AuthFailures = Type.Object({
  watching: Type.Boolean({ description: 'Whether this control plane reads an Asterisk security log' }),
  threshold: Type.Integer(),
  windowSeconds: Type.Integer(),
  blockSeconds: Type.Integer(),
  items: Type.Array(
    Type.Object({
      ip: Type.String(),
      failures: Type.Integer({ description: 'Failed authentications within the window' }),
      firstAt: DateTime,
      lastAt: DateTime,
      events: Type.Record(Type.String(), Type.Integer(), {
        description: 'Failures by Asterisk security event (ChallengeResponseFailed, InvalidAccountID, …)',
      }),
      accounts: Type.Array(Type.String(), {
        description: 'Accounts tried, as the requests named them (the last few)',
      }),
      neverBlock: Type.Boolean({ description: 'On the never-block list: counted, not blocked' }),
      blocked: Type.Boolean(),
    }),
  ),
});

export const BlockIdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
