import { Type, type Static } from '@sinclair/typebox';
import { listQuery, listResponse } from '../../lib/pagination.ts';
import { Timestamps, VersionField } from '../routing/common.ts';

const Clock = (description: string) =>
  Type.String({ pattern: '^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$', description });

export const WeeklyRange = Type.Object(
  {
    day: Type.Integer({ minimum: 0, maximum: 6, description: '0 = Sunday … 6 = Saturday' }),
    open: Clock('HH:MM local time, inclusive'),
    close: Clock('HH:MM local time, exclusive; 24:00 for midnight'),
  },
  { additionalProperties: false },
);

export const Holiday = Type.Object(
  {
    date: Type.String({
      pattern: '^\\d{4}-\\d{2}-\\d{2}$',
      description: 'Local date, closed all day',
    }),
    name: Type.String({ minLength: 1, maxLength: 120 }),
  },
  { additionalProperties: false },
);
export type Holiday = Static<typeof Holiday>;

const Name = Type.String({ minLength: 1, maxLength: 120 });
const Timezone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'IANA time zone, e.g. Europe/London; defaults to the tenant’s',
});
const Schedule = Type.Array(WeeklyRange, { maxItems: 100 });
const Holidays = Type.Array(Holiday, {
  maxItems: 1000,
  description: 'Replaces the whole set of holidays',
});

export const HoursCreate = Type.Object(
  {
    name: Name,
    timezone: Type.Optional(Timezone),
    schedule: Schedule,
    holidays: Type.Optional(Holidays),
  },
  { additionalProperties: false },
);
export type HoursCreate = Static<typeof HoursCreate>;

export const HoursPatch = Type.Object(
  {
    name: Type.Optional(Name),
    timezone: Type.Optional(Timezone),
    schedule: Type.Optional(Schedule),
    holidays: Type.Optional(Holidays),
    version: VersionField,
  },
  { additionalProperties: false },
);
export type HoursPatch = Static<typeof HoursPatch>;

export const Hours = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  timezone: Type.String(),
  schedule: Type.Array(WeeklyRange),
  holidays: Type.Array(Holiday),
  ...Timestamps,
});
export type Hours = Static<typeof Hours>;

export const HoursList = listResponse(Hours);
export const HoursListQuery = listQuery({
  name: Type.Optional(Type.String({ maxLength: 120, description: 'Name starts with' })),
});
export type HoursListQuery = Static<typeof HoursListQuery>;

export const HoursStatusQuery = Type.Object(
  { at: Type.Optional(Type.String({ format: 'date-time', description: 'Default: now' })) },
  { additionalProperties: false },
);

export const HoursStatus = Type.Object({
  open: Type.Boolean(),
  at: Type.String({ format: 'date-time' }),
  nextChange: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  timezone: Type.String(),
});
