import { Type, type Static } from '@sinclair/typebox';
import { listQuery } from '../../lib/pagination.ts';
import type { UserRow } from './repository.ts';

/** Roles inside a tenant; nobody is made platform admin through the API. */
export const TenantRole = Type.Union([
  Type.Literal('tenant_admin'),
  Type.Literal('supervisor'),
  Type.Literal('agent'),
  Type.Literal('helpdesk'),
]);
export type TenantRole = Static<typeof TenantRole>;

export const AnyRole = Type.Union([Type.Literal('platform_admin'), ...TenantRole.anyOf]);

export const UserStatus = Type.Union([Type.Literal('active'), Type.Literal('disabled')]);

export const DisplayName = Type.String({ minLength: 1, maxLength: 120, pattern: '\\S' });
export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Extension = Type.String({ pattern: '^[0-9]{2,16}$', description: '2 to 16 digits' });

export const User = Type.Object({
  id: Type.Integer(),
  tenantId: Type.Union([Type.Integer(), Type.Null()]),
  email: Type.String(),
  displayName: Type.String(),
  role: AnyRole,
  extension: Type.Union([Type.String(), Type.Null()]),
  status: UserStatus,
  outboundAllowed: Type.Boolean(),
  lastLoginAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type User = Static<typeof User>;

export const UserParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const UserListQuery = listQuery({
  role: Type.Optional(TenantRole),
  status: Type.Optional(UserStatus),
  q: Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, description: 'Part of the name or email' }),
  ),
});

export const UserPatch = Type.Object(
  {
    displayName: Type.Optional(DisplayName),
    role: Type.Optional(TenantRole),
    extension: Type.Optional(Type.Union([Extension, Type.Null()])),
    status: Type.Optional(UserStatus),
    outboundAllowed: Type.Optional(Type.Boolean()),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'Instead of If-Match' })),
  },
  { additionalProperties: false },
);
export type UserPatch = Static<typeof UserPatch>;

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    tenantId: row.tenantId,
    email: row.email,
    displayName: row.displayName,
    role: row.role,
    extension: row.extension,
    status: row.status,
    outboundAllowed: Boolean(row.outboundAllowed),
    lastLoginAt: row.lastLoginAt ? row.lastLoginAt.toISOString() : null,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
