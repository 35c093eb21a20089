import { Type, type Static, type TOptional } from '@sinclair/typebox';
import { listQuery, listResponse } from '../../lib/pagination.ts';
import { StringEnum, Timestamps, VersionField, nullable } from '../routing/common.ts';
import { TargetBody, TargetResponse } from '../routing/targets.ts';

export const Strategy = StringEnum(
  ['ring_all', 'longest_idle', 'round_robin', 'fewest_calls', 'skills'],
  { description: 'How the ACD picks the next agent' },
);

/** `{ "billing": 5, "spanish": 3 }`: skill name to level. */
const skillMap = (description: string) =>
  Type.Record(
    Type.String({ pattern: '^[a-zA-Z0-9_-]{1,40}$' }),
    Type.Integer({ minimum: 0, maximum: 100 }),
    {
      maxProperties: 50,
      // A key that is not a skill name must fail, not be ignored.
      additionalProperties: false,
      description,
    },
  );

export const Skills = skillMap('Skill name to level (0–100)');
export type Skills = Static<typeof Skills>;

const seconds = (minimum: number, maximum: number, description: string) =>
  Type.Integer({ minimum, maximum, description });

const settings = {
  strategy: Strategy,
  ringTimeoutSeconds: seconds(5, 300, 'How long one agent rings before the next is tried'),
  maxWaitSeconds: seconds(0, 86_400, 'After this wait the caller goes to the overflow target'),
  wrapupSeconds: seconds(0, 3_600, 'Rest after each call before the agent is offered another'),
  announcePositionSeconds: seconds(0, 3_600, 'Position announcement interval; 0 is off'),
  serviceLevelSeconds: seconds(1, 3_600, 'Answered within this counts toward the service level'),
  penaltyRelaxSeconds: seconds(
    0,
    3_600,
    'Skills routing: after this, higher penalties are offered too',
  ),
  requiredSkills: skillMap('Skill name to the minimum level an agent needs'),
  mohClass: Type.String({
    pattern: '^[a-zA-Z0-9_-]{1,80}$',
    description: 'Asterisk music-on-hold class',
  }),
  recordingEnabled: Type.Boolean(),
  callbackEnabled: Type.Boolean({ description: 'Queued callers may press callbackDigit to be called back, keeping their place' }),
  callbackDigit: Type.String({ pattern: '^[0-9*#]$', description: 'The digit that asks for a callback' }),
  abandonCallbackSeconds: seconds(
    0,
    86_400,
    'A caller who hangs up after waiting this long is called back; 0 is off',
  ),
  overflowTarget: nullable(TargetBody),
};

const Name = Type.String({ minLength: 1, maxLength: 120 });
const optional = Object.fromEntries(
  Object.entries(settings).map(([k, v]) => [k, Type.Optional(v)]),
) as { [K in keyof typeof settings]: TOptional<(typeof settings)[K]> };

export const QueueCreate = Type.Object(
  { name: Name, ...optional },
  { additionalProperties: false },
);
export type QueueCreate = Static<typeof QueueCreate>;

export const QueuePatch = Type.Object(
  { name: Type.Optional(Name), ...optional, version: VersionField },
  { additionalProperties: false },
);
export type QueuePatch = Static<typeof QueuePatch>;

export const Queue = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  ...settings,
  overflowTarget: nullable(TargetResponse),
  ...Timestamps,
});
export type Queue = Static<typeof Queue>;

export const QueueList = listResponse(Queue);
export const QueueListQuery = listQuery({
  name: Type.Optional(Type.String({ maxLength: 120, description: 'Name starts with' })),
  strategy: Type.Optional(Strategy),
});
export type QueueListQuery = Static<typeof QueueListQuery>;

const Penalty = Type.Integer({ minimum: 0, maximum: 100, description: 'Lower is offered first' });

export const MemberBody = Type.Object(
  {
    userId: Type.Integer({ minimum: 1 }),
    penalty: Type.Optional(Penalty),
    skills: Type.Optional(Skills),
  },
  { additionalProperties: false },
);
export type MemberBody = Static<typeof MemberBody>;

export const MemberPatch = Type.Object(
  { penalty: Type.Optional(Penalty), skills: Type.Optional(Skills), version: VersionField },
  { additionalProperties: false },
);
export type MemberPatch = Static<typeof MemberPatch>;

export const MembersReplace = Type.Object(
  { members: Type.Array(MemberBody, { maxItems: 1000 }), version: VersionField },
  { additionalProperties: false },
);
export type MembersReplace = Static<typeof MembersReplace>;

export const Member = Type.Object({
  userId: Type.Integer(),
  displayName: Type.String(),
  role: Type.String(),
  penalty: Type.Integer(),
  skills: Skills,
  createdAt: Type.String({ format: 'date-time' }),
});
export type Member = Static<typeof Member>;

export const MemberList = listResponse(Member);
export const MemberListQuery = listQuery({
  userId: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type MemberListQuery = Static<typeof MemberListQuery>;

export const MemberParams = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  userId: Type.Integer({ minimum: 1 }),
});
