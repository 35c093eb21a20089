import { Type, type Static } from '@sinclair/typebox';
import { listQuery } from '../../lib/pagination.ts';
import { DisplayName, Email, TenantRole } from '../users/schemas.ts';
import { statusOf, type InviteRow } from './repository.ts';

export const InviteStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('accepted'),
  Type.Literal('revoked'),
  Type.Literal('expired'),
]);

export const Invite = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  displayName: Type.String(),
  role: TenantRole,
  status: InviteStatus,
  invitedBy: Type.Union([Type.Integer(), Type.Null()]),
  expiresAt: Type.String({ format: 'date-time' }),
  acceptedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export type Invite = Static<typeof Invite>;

export const CreatedInvite = Type.Composite([
  Invite,
  Type.Object({
    inviteUrl: Type.String({
      description: 'The one-time link for the invitee. Shown only now: only its hash is kept',
    }),
  }),
]);
export type CreatedInvite = Static<typeof CreatedInvite>;

export const NewInvite = Type.Object(
  { email: Email, displayName: DisplayName, role: TenantRole },
  { additionalProperties: false },
);
export type NewInvite = Static<typeof NewInvite>;

export const InviteParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const InviteListQuery = listQuery({
  status: Type.Optional(InviteStatus),
  q: Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, description: 'Part of the name or email' }),
  ),
});

export const MIN_PASSWORD_LENGTH = 10;

export const AcceptInvite = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 256 }),
    password: Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export function toInvite(row: InviteRow): Invite {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    role: row.role,
    status: statusOf(row),
    invitedBy: row.invitedBy,
    expiresAt: row.expiresAt.toISOString(),
    acceptedAt: row.acceptedAt ? row.acceptedAt.toISOString() : null,
    revokedAt: row.revokedAt ? row.revokedAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
  };
}
