import { Type, type Static } from '@sinclair/typebox';
import { fromJson } from '../../db/json.ts';
import { listQuery } from '../../lib/pagination.ts';
import { CreatedInvite } from '../invites/schemas.ts';
import { DisplayName, Email } from '../users/schemas.ts';
import type { TenantRow } from './repository.ts';

export const TenantStatus = Type.Union([Type.Literal('active'), Type.Literal('suspended')]);

const Slug = Type.String({
  pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'Lower-case letters, digits and inner hyphens; unique',
});
const Timezone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'IANA name, like Europe/London',
});
const Name = Type.String({ minLength: 1, maxLength: 120, pattern: '\\S' });
const FeatureFlags = Type.Record(
  Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' }),
  Type.Boolean(),
  {
    description: 'The whole set of flags; a PATCH replaces it',
  },
);

const limitFields = {
  maxAgents: Type.Integer({ minimum: 0, maximum: 100_000, description: 'Active agents' }),
  maxConcurrentCalls: Type.Integer({ minimum: 0, maximum: 100_000 }),
  maxCallsPerSecond: Type.Integer({ minimum: 0, maximum: 10_000 }),
  maxCallSeconds: Type.Integer({ minimum: 1, maximum: 7 * 86_400 }),
};
export const Limits = Type.Object(limitFields);
const LimitsPatch = Type.Partial(Type.Object(limitFields, { additionalProperties: false }), {
  additionalProperties: false,
});

const Dialing = Type.Object(
  {
    homeCountryCode: Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: 'Country calling code that is home; numbers elsewhere are international' }),
    allowedPrefixes: Type.Array(Type.String({ pattern: '^\\+[0-9]{1,15}$' }), {
      maxItems: 200,
      uniqueItems: true,
      description: 'Destination prefixes (+<digits>) allowed although international or premium-rate; the rest are denied',
    }),
  },
  { additionalProperties: false },
);
const DialingPatch = Type.Partial(Dialing, { additionalProperties: false });

export const Tenant = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  slug: Type.String(),
  timezone: Type.String(),
  status: TenantStatus,
  limits: Limits,
  featureFlags: Type.Record(Type.String(), Type.Boolean()),
  dialing: Dialing,
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Tenant = Static<typeof Tenant>;

export const CreatedTenant = Type.Composite([
  Tenant,
  Type.Object({
    adminInvite: Type.Union([CreatedInvite, Type.Null()], {
      description: 'The first tenant admin’s invite, when `admin` was given',
    }),
  }),
]);
export type CreatedTenant = Static<typeof CreatedTenant>;

export const NewTenant = Type.Object(
  {
    name: Name,
    slug: Slug,
    timezone: Type.Optional(Timezone),
    status: Type.Optional(TenantStatus),
    limits: Type.Optional(LimitsPatch),
    featureFlags: Type.Optional(FeatureFlags),
    admin: Type.Optional(
      Type.Object(
        { email: Email, displayName: DisplayName },
        { additionalProperties: false, description: 'Invite the first tenant admin at once' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type NewTenant = Static<typeof NewTenant>;

export const TenantPatch = Type.Object(
  {
    name: Type.Optional(Name),
    slug: Type.Optional(Slug),
    timezone: Type.Optional(Timezone),
    status: Type.Optional(TenantStatus),
    limits: Type.Optional(LimitsPatch),
    featureFlags: Type.Optional(FeatureFlags),
    dialing: Type.Optional(DialingPatch),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'Instead of If-Match' })),
  },
  { additionalProperties: false },
);
export type TenantPatch = Static<typeof TenantPatch>;

export const TenantParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const TenantListQuery = listQuery({
  status: Type.Optional(TenantStatus),
  q: Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, description: 'Part of the name or slug' }),
  ),
});

export function toTenant(row: TenantRow): Tenant {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    timezone: row.timezone,
    status: row.status,
    limits: {
      maxAgents: row.maxAgents,
      maxConcurrentCalls: row.maxConcurrentCalls,
      maxCallsPerSecond: row.maxCallsPerSecond,
      maxCallSeconds: row.maxCallSeconds,
    },
    featureFlags: fromJson<Record<string, boolean>>(row.featureFlags, {}),
    dialing: {
      homeCountryCode: row.homeCountryCode,
      allowedPrefixes: fromJson<string[]>(row.outboundAllowedPrefixes, []),
    },
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
