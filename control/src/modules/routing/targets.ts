/**
 * Routing targets: where a DID, a queue's overflow, an IVR option or failover sends a call.
 *
 *   { "type": "queue", "id": 12 }            a queue of the tenant
 *   { "type": "ivr", "id": 3 }               an IVR menu of the tenant
 *   { "type": "user", "id": 7 }              ring a user of the tenant
 *   { "type": "voicemail", "id": 7 }         a user's voicemail, or
 *   { "type": "voicemail", "value": "sales" }  a shared box by name
 *   { "type": "hangup", "value": "sound:custom/closed" }  hang up, optionally after a sound
 *   { "type": "external", "value": "+442071234567" }      forward to an E.164 number
 *
 * Stored as three columns (`<prefix>_type`, `_id`, `_value`). Ids are checked against the
 * caller's tenant inside the writing transaction with a shared lock, so a concurrent delete of
 * the target waits for the write and then sees the new reference (and answers IN_USE).
 */
import { Type, type Static } from '@sinclair/typebox';
import { sql, type Kysely } from 'kysely';
import type { Database, TargetType } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';
import type { FieldErrors } from '../../lib/field-errors.ts';
import { StringEnum } from './common.ts';

export type Executor = Kysely<Database>;

export const E164_PATTERN = '^\\+[1-9]\\d{6,14}$';
/** An Asterisk sound name as ARI plays it: `sound:hello-world`, `sound:custom/welcome`. */
export const SOUND_PATTERN = '^sound:[a-zA-Z0-9_/\\-]+$';
const MAILBOX_PATTERN = /^[a-zA-Z0-9_.-]{1,64}$/;

export const TargetTypeSchema = StringEnum([
  'queue',
  'ivr',
  'user',
  'voicemail',
  'hangup',
  'external',
]);

export const TargetBody = Type.Object(
  {
    type: TargetTypeSchema,
    id: Type.Optional(
      Type.Integer({ minimum: 1, description: 'queue, ivr, user; voicemail of a user' }),
    ),
    value: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: 'external: E.164 number; hangup: sound to play first; voicemail: box name',
      }),
    ),
  },
  { additionalProperties: false },
);
export type Target = Static<typeof TargetBody>;

export const TargetResponse = Type.Object({
  type: TargetTypeSchema,
  id: Type.Optional(Type.Integer()),
  value: Type.Optional(Type.String()),
});

export interface TargetColumns {
  type: TargetType | null;
  id: number | null;
  value: string | null;
}

export function toColumns(target: Target | null | undefined): TargetColumns {
  return { type: target?.type ?? null, id: target?.id ?? null, value: target?.value ?? null };
}

export function fromColumns(
  type: TargetType | null,
  id: number | string | null,
  value: string | null,
): Target | null {
  if (!type) return null;
  return {
    type,
    ...(id !== null ? { id: Number(id) } : {}),
    ...(value !== null ? { value } : {}),
  };
}

/** What a target may not point at: the object being written. */
export interface SelfRef {
  type: 'queue' | 'ivr';
  id: number | undefined;
}

/**
 * Checks targets' shape and that their ids are objects of `tenantId`; adds an error naming each
 * bad one (`target.id`, `options.2.target.value`, …). Another tenant's id reads like one that does
 * not exist.
 */
export async function checkTargets(
  db: Executor,
  tenantId: number,
  entries: Array<{ field: string; target: Target | null | undefined }>,
  errors: FieldErrors,
  self?: SelfRef,
): Promise<void> {
  const wanted: Record<'queue' | 'ivr' | 'user', Array<{ field: string; id: number }>> = {
    queue: [],
    ivr: [],
    user: [],
  };
  for (const { field, target } of entries) {
    if (!target) continue;
    const { type, id, value } = target;
    const noId = () =>
      id !== undefined && errors.add(`${field}.id`, `is not used by a ${type} target`);
    const noValue = () =>
      value !== undefined && errors.add(`${field}.value`, `is not used by a ${type} target`);
    switch (type) {
      case 'queue':
      case 'ivr':
      case 'user':
        noValue();
        if (id === undefined) errors.add(`${field}.id`, `is required for a ${type} target`);
        else if (self && self.type === type && self.id === id) {
          errors.add(
            `${field}.id`,
            `may not point at this ${type === 'ivr' ? 'menu' : type} itself`,
          );
        } else wanted[type].push({ field: `${field}.id`, id });
        break;
      case 'voicemail':
        if ((id === undefined) === (value === undefined)) {
          errors.add(
            field,
            'needs either id (a user’s mailbox) or value (a mailbox name), not both',
          );
        } else if (id !== undefined) wanted.user.push({ field: `${field}.id`, id });
        else if (!MAILBOX_PATTERN.test(value!)) {
          errors.add(`${field}.value`, 'must be a mailbox name of letters, digits, _ . -');
        }
        break;
      case 'hangup':
        noId();
        if (value !== undefined && !new RegExp(SOUND_PATTERN).test(value)) {
          errors.add(`${field}.value`, 'must be a sound name like sound:custom/closed');
        }
        break;
      case 'external':
        noId();
        if (value === undefined) errors.add(`${field}.value`, 'is required for an external target');
        else if (!new RegExp(E164_PATTERN).test(value)) {
          errors.add(`${field}.value`, 'must be an E.164 number like +442071234567');
        }
        break;
    }
  }

  const tables = { queue: 'queues', ivr: 'ivrMenus', user: 'users' } as const;
  const names = { queue: 'queue', ivr: 'IVR menu', user: 'user' } as const;
  for (const type of ['queue', 'ivr', 'user'] as const) {
    const refs = wanted[type];
    if (refs.length === 0) continue;
    const ids = [...new Set(refs.map((r) => r.id))];
    const rows = await db
      .selectFrom(tables[type])
      .select('id')
      .where('tenantId', '=', tenantId)
      .where('id', 'in', ids)
      .modifyEnd(sql`lock in share mode`)
      .execute();
    const found = new Set(rows.map((r) => Number(r.id)));
    for (const ref of refs) {
      if (!found.has(ref.id)) errors.add(ref.field, `is not a ${names[type]} of this tenant`);
    }
  }
}

export interface Reference {
  type: 'did' | 'queue' | 'ivr';
  id: number;
  name: string;
  /** Which of its fields points here. */
  field: string;
}

/**
 * Everything that routes calls to a queue, an IVR menu or a user, read with a shared lock so a
 * write that adds a reference concurrently is either seen or waits.
 */
export async function findReferences(
  db: Executor,
  tenantId: number,
  type: 'queue' | 'ivr' | 'user',
  id: number,
): Promise<Reference[]> {
  // A user is also the target of a voicemail target that names their mailbox.
  const types: TargetType[] = type === 'user' ? ['user', 'voicemail'] : [type];
  const lock = sql`lock in share mode`;
  // One after another: a transaction is one connection.
  const dids = await db
    .selectFrom('dids')
    .select(['id', 'number', 'targetType', 'targetId'])
    .where('tenantId', '=', tenantId)
    .where((eb) =>
      eb.or([
        eb.and([eb('targetType', 'in', types), eb('targetId', '=', id)]),
        eb.and([eb('afterHoursTargetType', 'in', types), eb('afterHoursTargetId', '=', id)]),
      ]),
    )
    .orderBy('number')
    .modifyEnd(lock)
    .execute();
  const queues = await db
    .selectFrom('queues')
    .select(['id', 'name'])
    .where('tenantId', '=', tenantId)
    .where('overflowTargetType', 'in', types)
    .where('overflowTargetId', '=', id)
    .orderBy('name')
    .modifyEnd(lock)
    .execute();
  const menus = await db
    .selectFrom('ivrMenus')
    .select(['id', 'name'])
    .where('tenantId', '=', tenantId)
    .where('failoverTargetType', 'in', types)
    .where('failoverTargetId', '=', id)
    .orderBy('name')
    .modifyEnd(lock)
    .execute();
  const options = await db
    .selectFrom('ivrOptions')
    .innerJoin('ivrMenus', 'ivrMenus.id', 'ivrOptions.menuId')
    .select(['ivrMenus.id', 'ivrMenus.name', 'ivrOptions.digit'])
    .where('ivrOptions.tenantId', '=', tenantId)
    .where('ivrOptions.targetType', 'in', types)
    .where('ivrOptions.targetId', '=', id)
    .orderBy('ivrMenus.name')
    .modifyEnd(lock)
    .execute();
  return [
    ...dids.map((d) => ({
      type: 'did' as const,
      id: Number(d.id),
      name: d.number,
      field:
        types.includes(d.targetType!) && Number(d.targetId) === id ? 'target' : 'afterHoursTarget',
    })),
    ...queues.map((q) => ({
      type: 'queue' as const,
      id: Number(q.id),
      name: q.name,
      field: 'overflowTarget',
    })),
    ...menus.map((m) => ({
      type: 'ivr' as const,
      id: Number(m.id),
      name: m.name,
      field: 'failoverTarget',
    })),
    ...options.map((o) => ({
      type: 'ivr' as const,
      id: Number(o.id),
      name: o.name,
      field: `options[${o.digit}]`,
    })),
  ];
}

const KIND_NAMES = { did: 'DID', queue: 'queue', ivr: 'IVR menu' } as const;

/** 409 naming who still routes to the object, so the admin knows what to change first. */
export function inUse(what: string, refs: readonly Reference[]): AppError {
  const shown = refs.slice(0, 5).map((r) => `${KIND_NAMES[r.type]} ${r.name} (${r.field})`);
  const more = refs.length > shown.length ? ` and ${refs.length - shown.length} more` : '';
  return new AppError('IN_USE', `${what} is still a target of ${shown.join(', ')}${more}`, 409, {
    referencedBy: refs,
  });
}
