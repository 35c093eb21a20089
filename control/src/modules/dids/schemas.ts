import { Type, type Static } from '@sinclair/typebox';
import { listQuery, listResponse } from '../../lib/pagination.ts';
import { Timestamps, VersionField, nullable } from '../routing/common.ts';
import { E164_PATTERN, TargetBody, TargetResponse, TargetTypeSchema } from '../routing/targets.ts';

const Number_ = Type.String({ pattern: E164_PATTERN, description: 'E.164, e.g. +442071234567' });
const Description = nullable(Type.String({ maxLength: 255 }));
const TrunkId = nullable(Type.Integer({ minimum: 1, description: 'A SIP trunk of the tenant' }));
const HoursId = nullable(
  Type.Integer({
    minimum: 1,
    description: 'Business hours; outside them calls go to afterHoursTarget',
  }),
);

const CallerPriority = Type.Integer({
  minimum: 0,
  maximum: 9,
  description: 'Callers through this number are served before those with a lower priority (0-9)',
});

export const DidCreate = Type.Object(
  {
    number: Number_,
    description: Type.Optional(Description),
    trunkId: Type.Optional(TrunkId),
    target: TargetBody,
    businessHoursId: Type.Optional(HoursId),
    afterHoursTarget: Type.Optional(nullable(TargetBody)),
    callerPriority: Type.Optional(CallerPriority),
  },
  { additionalProperties: false },
);
export type DidCreate = Static<typeof DidCreate>;

export const DidPatch = Type.Object(
  {
    number: Type.Optional(Number_),
    description: Type.Optional(Description),
    trunkId: Type.Optional(TrunkId),
    target: Type.Optional(TargetBody),
    businessHoursId: Type.Optional(HoursId),
    afterHoursTarget: Type.Optional(nullable(TargetBody)),
    callerPriority: Type.Optional(CallerPriority),
    version: VersionField,
  },
  { additionalProperties: false },
);
export type DidPatch = Static<typeof DidPatch>;

export const Did = Type.Object({
  id: Type.Integer(),
  number: Type.String(),
  description: nullable(Type.String()),
  trunkId: nullable(Type.Integer()),
  target: nullable(TargetResponse),
  businessHoursId: nullable(Type.Integer()),
  afterHoursTarget: nullable(TargetResponse),
  callerPriority: Type.Integer(),
  ...Timestamps,
});
export type Did = Static<typeof Did>;

export const DidList = listResponse(Did);
export const DidListQuery = listQuery({
  number: Type.Optional(
    Type.String({
      pattern: '^[+ ]?\\d{1,15}$',
      description: 'Number starts with these digits (the leading + is optional)',
    }),
  ),
  targetType: Type.Optional(TargetTypeSchema),
  queueId: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Routes to this queue, in or after hours' }),
  ),
  businessHoursId: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type DidListQuery = Static<typeof DidListQuery>;
