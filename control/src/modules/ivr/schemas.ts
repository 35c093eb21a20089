import { Type, type Static } from '@sinclair/typebox';
import { listQuery, listResponse } from '../../lib/pagination.ts';
import { Timestamps, VersionField, nullable } from '../routing/common.ts';
import { SOUND_PATTERN, TargetBody, TargetResponse } from '../routing/targets.ts';

const Sound = (description: string) =>
  Type.String({ pattern: SOUND_PATTERN, maxLength: 255, description });
const Digit = Type.String({ pattern: '^[0-9*#]$', description: 'A DTMF key: 0-9, * or #' });

export const IvrOptionBody = Type.Object(
  { digit: Digit, target: TargetBody },
  { additionalProperties: false },
);

const fields = {
  name: Type.String({ minLength: 1, maxLength: 120 }),
  prompt: Sound('Played on entry, e.g. sound:custom/welcome'),
  timeoutSeconds: Type.Integer({
    minimum: 1,
    maximum: 60,
    description: 'Wait for a key this long',
  }),
  maxRetries: Type.Integer({
    minimum: 0,
    maximum: 10,
    description: 'Replays after a timeout or an invalid key, then the failover target',
  }),
  invalidPrompt: nullable(Sound('Played after an invalid key')),
  failoverTarget: nullable(TargetBody),
  options: Type.Array(IvrOptionBody, {
    maxItems: 12,
    description: 'Replaces the whole set of options',
  }),
};

export const IvrCreate = Type.Object(
  {
    name: fields.name,
    prompt: fields.prompt,
    timeoutSeconds: Type.Optional(fields.timeoutSeconds),
    maxRetries: Type.Optional(fields.maxRetries),
    invalidPrompt: Type.Optional(fields.invalidPrompt),
    failoverTarget: Type.Optional(fields.failoverTarget),
    options: Type.Optional(fields.options),
  },
  { additionalProperties: false },
);
export type IvrCreate = Static<typeof IvrCreate>;

export const IvrPatch = Type.Object(
  {
    name: Type.Optional(fields.name),
    prompt: Type.Optional(fields.prompt),
    timeoutSeconds: Type.Optional(fields.timeoutSeconds),
    maxRetries: Type.Optional(fields.maxRetries),
    invalidPrompt: Type.Optional(fields.invalidPrompt),
    failoverTarget: Type.Optional(fields.failoverTarget),
    options: Type.Optional(fields.options),
    version: VersionField,
  },
  { additionalProperties: false },
);
export type IvrPatch = Static<typeof IvrPatch>;

export const IvrMenu = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  prompt: Type.String(),
  timeoutSeconds: Type.Integer(),
  maxRetries: Type.Integer(),
  invalidPrompt: nullable(Type.String()),
  failoverTarget: nullable(TargetResponse),
  options: Type.Array(Type.Object({ digit: Type.String(), target: TargetResponse })),
  ...Timestamps,
});
export type IvrMenu = Static<typeof IvrMenu>;

export const IvrList = listResponse(IvrMenu);
export const IvrListQuery = listQuery({
  name: Type.Optional(Type.String({ maxLength: 120, description: 'Name starts with' })),
});
export type IvrListQuery = Static<typeof IvrListQuery>;
