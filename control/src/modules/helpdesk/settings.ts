/** Per-tenant ticket settings: custom field definitions, and each user's saved list views. */
import { sql, type Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { fromJson, toJson } from '../../db/json.ts';
import type { TicketFieldTable, TicketViewTable } from '../../db/schema.ts';
import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { translateDbErrors } from '../../lib/db-errors.ts';
import { createError } from '../../lib/errors.ts';
import { FieldErrors } from '../../lib/field-errors.ts';
import { iso } from '../routing/common.ts';
import type { HelpdeskCtx } from './context.ts';
import type {
  CustomValues,
  TicketField,
  TicketFieldCreate,
  TicketFieldPatch,
  TicketFilters,
  View,
  ViewCreate,
  ViewPatch,
} from './schemas.ts';

export const fieldNotFound = createError(
  'TICKET_FIELD_NOT_FOUND',
  'Ticket field %s not found',
  404,
);
export const viewNotFound = createError('VIEW_NOT_FOUND', 'Saved view %s not found', 404);

type FieldRow = Selectable<TicketFieldTable>;
type ViewRow = Selectable<TicketViewTable>;

function toField(r: FieldRow): TicketField {
  return {
    id: Number(r.id),
    key: r.fieldKey,
    label: r.label,
    type: r.type,
    options: fromJson<string[]>(r.options, []),
    required: Boolean(r.required),
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

export async function listFields(db: Executor, tenantId: number): Promise<TicketField[]> {
  const rows = await db
    .selectFrom('ticketFields')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .orderBy('id')
    .execute();
  return rows.map(toField);
}

async function findField(db: Executor, tenantId: number, id: number, forUpdate = false) {
  let q = db
    .selectFrom('ticketFields')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', id);
  if (forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function getField(db: Executor, tenantId: number, id: number): Promise<TicketField> {
  const row = await findField(db, tenantId, id);
  if (!row) throw fieldNotFound(id);
  return toField(row);
}

function checkOptions(type: string, options: string[] | undefined, errors: FieldErrors) {
  if (type === 'select' && (!options || options.length === 0))
    errors.add('options', 'a select field needs its options');
  if (type !== 'select' && options && options.length > 0)
    errors.add('options', 'only select fields have options');
}

export async function createField(ctx: HelpdeskCtx, body: TicketFieldCreate): Promise<TicketField> {
  const errors = new FieldErrors();
  checkOptions(body.type, body.options, errors);
  errors.throwIfAny();
  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        const result = await trx
          .insertInto('ticketFields')
          .values({
            tenantId: ctx.tenantId,
            fieldKey: body.key,
            label: body.label,
            type: body.type,
            options: toJson(body.options ?? []),
            required: body.required ? 1 : 0,
          })
          .executeTakeFirstOrThrow();
        const after = await getField(trx, ctx.tenantId, Number(result.insertId));
        if (ctx.request)
          await audit(trx, ctx.request, {
            action: 'ticket_field.create',
            entityType: 'ticket_field',
            entityId: after.id,
            after,
          });
        return after;
      }),
    { field: 'key', code: 'TICKET_FIELD_EXISTS', message: 'A field with this key exists' },
  );
}

export async function updateField(
  ctx: HelpdeskCtx,
  id: number,
  version: number,
  patch: TicketFieldPatch,
): Promise<TicketField> {
  return ctx.db.transaction().execute(async (trx) => {
    const row = await findField(trx, ctx.tenantId, id, true);
    if (!row) throw fieldNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    const errors = new FieldErrors();
    if (patch.options !== undefined) checkOptions(row.type, patch.options, errors);
    errors.throwIfAny();
    await trx
      .updateTable('ticketFields')
      .set({
        ...(patch.label !== undefined ? { label: patch.label } : {}),
        ...(patch.options !== undefined ? { options: toJson(patch.options) } : {}),
        ...(patch.required !== undefined ? { required: patch.required ? 1 : 0 } : {}),
        version: sql<number>`version + 1`,
      })
      .where('tenantId', '=', ctx.tenantId)
      .where('id', '=', id)
      .where('version', '=', version)
      .execute();
    const after = await getField(trx, ctx.tenantId, id);
    if (ctx.request)
      await audit(trx, ctx.request, {
        action: 'ticket_field.update',
        entityType: 'ticket_field',
        entityId: id,
        before: toField(row),
        after,
      });
    return after;
  });
}

/** Tickets keep the values they hold; a value of a deleted field is no longer validated. */
export async function deleteField(ctx: HelpdeskCtx, id: number, version: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await findField(trx, ctx.tenantId, id, true);
    if (!row) throw fieldNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    await trx
      .deleteFrom('ticketFields')
      .where('tenantId', '=', ctx.tenantId)
      .where('id', '=', id)
      .execute();
    if (ctx.request)
      await audit(trx, ctx.request, {
        action: 'ticket_field.delete',
        entityType: 'ticket_field',
        entityId: id,
        before: toField(row),
      });
  });
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Checks custom values against the tenant's definitions: unknown keys, wrong types, options
 * not offered, and (when creating) required fields left out. Null clears a value.
 * Returns the values to store (nulls dropped).
 */
export async function checkCustomValues(
  db: Executor,
  tenantId: number,
  values: Record<string, unknown>,
  errors: FieldErrors,
  options: { creating: boolean },
): Promise<CustomValues> {
  const defs = new Map((await listFields(db, tenantId)).map((f) => [f.key, f]));
  const out: CustomValues = {};
  for (const [key, value] of Object.entries(values)) {
    const def = defs.get(key);
    const field = `customFields.${key}`;
    if (!def) {
      errors.add(field, 'is not a custom field of this tenant');
      continue;
    }
    if (value === null) {
      if (def.required) errors.add(field, 'is required');
      continue;
    }
    const ok =
      (def.type === 'text' && typeof value === 'string' && value.length <= 2000) ||
      (def.type === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
      (def.type === 'boolean' && typeof value === 'boolean') ||
      (def.type === 'date' &&
        typeof value === 'string' &&
        DATE.test(value) &&
        !Number.isNaN(Date.parse(value))) ||
      (def.type === 'select' && typeof value === 'string' && def.options.includes(value));
    if (!ok) {
      errors.add(
        field,
        def.type === 'select'
          ? `must be one of ${def.options.join(', ')}`
          : def.type === 'date'
            ? 'must be a date YYYY-MM-DD'
            : `must be a ${def.type}`,
      );
      continue;
    }
    out[key] = value as string | number | boolean;
  }
  if (options.creating) {
    for (const def of defs.values()) {
      if (
        def.required &&
        out[def.key] === undefined &&
        !errors.list.some((e) => e.field === `customFields.${def.key}`)
      ) {
        errors.add(`customFields.${def.key}`, 'is required');
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------ saved views

function toView(r: ViewRow): View {
  return {
    id: Number(r.id),
    name: r.name,
    filters: fromJson<TicketFilters>(r.filters, {}),
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

const userIdOf = (ctx: HelpdeskCtx) => ctx.actorUserId ?? 0;

export async function listViews(ctx: HelpdeskCtx): Promise<View[]> {
  const rows = await ctx.db
    .selectFrom('ticketViews')
    .selectAll()
    .where('tenantId', '=', ctx.tenantId)
    .where('userId', '=', userIdOf(ctx))
    .orderBy('name')
    .execute();
  return rows.map(toView);
}

async function findView(db: Executor, ctx: HelpdeskCtx, id: number, forUpdate = false) {
  let q = db
    .selectFrom('ticketViews')
    .selectAll()
    .where('tenantId', '=', ctx.tenantId)
    .where('userId', '=', userIdOf(ctx))
    .where('id', '=', id);
  if (forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function getView(ctx: HelpdeskCtx, id: number): Promise<View> {
  const row = await findView(ctx.db, ctx, id);
  if (!row) throw viewNotFound(id);
  return toView(row);
}

const VIEW_TAKEN = {
  field: 'name',
  code: 'VIEW_EXISTS',
  message: 'You have a view with this name',
};

export async function createView(ctx: HelpdeskCtx, body: ViewCreate): Promise<View> {
  return translateDbErrors(async () => {
    const result = await ctx.db
      .insertInto('ticketViews')
      .values({
        tenantId: ctx.tenantId,
        userId: userIdOf(ctx),
        name: body.name,
        filters: toJson(body.filters),
      })
      .executeTakeFirstOrThrow();
    return getView(ctx, Number(result.insertId));
  }, VIEW_TAKEN);
}

export async function updateView(
  ctx: HelpdeskCtx,
  id: number,
  version: number,
  patch: ViewPatch,
): Promise<View> {
  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        const row = await findView(trx, ctx, id, true);
        if (!row) throw viewNotFound(id);
        if (row.version !== version) throw versionConflict(row.version);
        await trx
          .updateTable('ticketViews')
          .set({
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.filters !== undefined ? { filters: toJson(patch.filters) } : {}),
            version: sql<number>`version + 1`,
          })
          .where('id', '=', id)
          .where('tenantId', '=', ctx.tenantId)
          .execute();
        return toView((await findView(trx, ctx, id))!);
      }),
    VIEW_TAKEN,
  );
}

export async function deleteView(ctx: HelpdeskCtx, id: number, version: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await findView(trx, ctx, id, true);
    if (!row) throw viewNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    await trx
      .deleteFrom('ticketViews')
      .where('id', '=', id)
      .where('tenantId', '=', ctx.tenantId)
      .execute();
  });
}
