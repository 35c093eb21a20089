/** Small pieces the routing modules (hours, dids, queues, ivr) share. */
import { Type, type TNull, type TSchema, type TUnion, type TUnsafe } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../../db/database.ts';
import type { Role } from '../../db/schema.ts';
import { tenantOf } from '../../plugins/auth.ts';

/** Who changes routing, and who may look at it. */
export const WRITE_ROLES: readonly Role[] = ['tenant_admin'];
export const READ_ROLES: readonly Role[] = ['tenant_admin', 'supervisor'];

/** What a service needs to make a change: the database, the tenant, the request (for audit). */
export interface Ctx {
  db: Db;
  tenantId: number;
  request: FastifyRequest;
}

export function ctxOf(app: FastifyInstance, request: FastifyRequest): Ctx {
  return { db: app.db, tenantId: tenantOf(request), request };
}

/**
 * `T` or null, written the OpenAPI 3.0 way (`nullable: true`) rather than as a union, so a bad
 * value gives one error naming the field instead of one per branch. Typed as the union.
 */
export function nullable<T extends TSchema>(schema: T): TUnion<[T, TNull]> {
  return { ...schema, nullable: true } as unknown as TUnion<[T, TNull]>;
}

/**
 * A string enum as one `enum` keyword, so a bad value is one error naming the field (a union of
 * literals gives one error per literal) and OpenAPI shows the choices.
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
) {
  // Typed with `enum` too: the Fastify type provider infers from the schema's shape.
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options }) as TUnsafe<
    T[number]
  > & { type: 'string'; enum: T };
}

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** `version` in a body is the alternative to If-Match. */
export const VersionField = Type.Optional(
  Type.Integer({ minimum: 1, description: 'The version the change is based on, if no If-Match' }),
);

export const Timestamps = {
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
};

export function iso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

/** A LIKE pattern matching values that start with `prefix` literally. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
