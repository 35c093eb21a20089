import { audit } from '../../lib/audit.ts';
import { versionConflict } from '../../lib/concurrency.ts';
import { translateDbErrors } from '../../lib/db-errors.ts';
import { createError } from '../../lib/errors.ts';
import { FieldErrors } from '../../lib/field-errors.ts';
import type { Page } from '../../lib/pagination.ts';
import { iso, type Ctx } from '../routing/common.ts';
import {
  checkTargets,
  findReferences,
  fromColumns,
  inUse,
  toColumns,
  type Executor,
  type Target,
} from '../routing/targets.ts';
import * as repo from './repository.ts';
import type { IvrCreate, IvrListQuery, IvrMenu, IvrPatch } from './schemas.ts';

export const menuNotFound = createError('IVR_NOT_FOUND', 'IVR menu %s not found', 404);
const NAME_TAKEN = {
  field: 'name',
  code: 'IVR_NAME_TAKEN',
  message: 'An IVR menu with this name exists',
};

function toMenu(row: repo.MenuRow, options: readonly repo.OptionRow[]): IvrMenu {
  return {
    id: Number(row.id),
    name: row.name,
    prompt: row.prompt,
    timeoutSeconds: row.timeoutSeconds,
    maxRetries: row.maxRetries,
    invalidPrompt: row.invalidPrompt,
    failoverTarget: fromColumns(
      row.failoverTargetType,
      row.failoverTargetId,
      row.failoverTargetValue,
    ),
    options: options.flatMap((o) => {
      const target = fromColumns(o.targetType, o.targetId, o.targetValue);
      return target ? [{ digit: o.digit, target }] : [];
    }),
    version: row.version,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

async function load(db: Executor, tenantId: number, id: number): Promise<IvrMenu> {
  const row = await repo.findMenu(db, tenantId, id);
  if (!row) throw menuNotFound(id);
  return toMenu(row, (await repo.optionsOf(db, tenantId, [id])).get(id) ?? []);
}

/** Digits are unique in a menu; targets belong to the tenant; nothing points at the menu itself. */
async function check(
  db: Executor,
  tenantId: number,
  body: { failoverTarget?: Target | null; options?: Array<{ digit: string; target: Target }> },
  self: number | undefined,
): Promise<void> {
  const errors = new FieldErrors();
  const digits = new Map<string, number>();
  (body.options ?? []).forEach((o, index) => {
    const first = digits.get(o.digit);
    if (first !== undefined) errors.add(`options.${index}.digit`, `repeats options.${first}.digit`);
    else digits.set(o.digit, index);
  });
  await checkTargets(
    db,
    tenantId,
    [
      { field: 'failoverTarget', target: body.failoverTarget },
      ...(body.options ?? []).map((o, index) => ({
        field: `options.${index}.target`,
        target: o.target,
      })),
    ],
    errors,
    { type: 'ivr', id: self },
  );
  errors.throwIfAny();
}

function optionValues(
  options: ReadonlyArray<{ digit: string; target: Target }>,
): repo.OptionValues[] {
  return options.map((o) => {
    const c = toColumns(o.target);
    return { digit: o.digit, targetType: c.type, targetId: c.id, targetValue: c.value };
  });
}

function menuColumns(body: Omit<IvrPatch, 'version' | 'options'>): repo.MenuChanges {
  const { failoverTarget, ...plain } = body;
  const columns: repo.MenuChanges = { ...plain };
  if (failoverTarget !== undefined) {
    const c = toColumns(failoverTarget);
    Object.assign(columns, {
      failoverTargetType: c.type,
      failoverTargetId: c.id,
      failoverTargetValue: c.value,
    });
  }
  return columns;
}

export function getMenu(db: Executor, tenantId: number, id: number): Promise<IvrMenu> {
  return load(db, tenantId, id);
}

export async function listMenus(
  db: Executor,
  tenantId: number,
  query: IvrListQuery,
): Promise<Page<IvrMenu>> {
  const page = await repo.listMenus(db, tenantId, query);
  const options = await repo.optionsOf(
    db,
    tenantId,
    page.items.map((m) => Number(m.id)),
  );
  return {
    items: page.items.map((row) => toMenu(row, options.get(Number(row.id)) ?? [])),
    nextCursor: page.nextCursor,
  };
}

export async function createMenu(ctx: Ctx, body: IvrCreate): Promise<IvrMenu> {
  const { options = [], ...menu } = body;
  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        await check(trx, ctx.tenantId, body, undefined);
        const id = await repo.insertMenu(trx, ctx.tenantId, menuColumns(menu) as repo.MenuValues);
        await repo.replaceOptions(trx, ctx.tenantId, id, optionValues(options));
        const after = await load(trx, ctx.tenantId, id);
        await audit(trx, ctx.request, {
          action: 'ivr.create',
          entityType: 'ivr_menu',
          entityId: id,
          after,
        });
        return after;
      }),
    NAME_TAKEN,
  );
}

/** Changes the menu and, when `options` is sent, replaces its options: all in one transaction. */
export async function updateMenu(
  ctx: Ctx,
  id: number,
  version: number,
  patch: IvrPatch,
): Promise<IvrMenu> {
  const { version: _ignored, options, ...menu } = patch;
  return translateDbErrors(
    () =>
      ctx.db.transaction().execute(async (trx) => {
        const row = await repo.findMenu(trx, ctx.tenantId, id, { forUpdate: true });
        if (!row) throw menuNotFound(id);
        if (row.version !== version) throw versionConflict(row.version);
        await check(trx, ctx.tenantId, patch, id);
        const before = await load(trx, ctx.tenantId, id);
        if (options) await repo.replaceOptions(trx, ctx.tenantId, id, optionValues(options));
        await repo.updateMenu(trx, ctx.tenantId, id, version, menuColumns(menu));
        const after = await load(trx, ctx.tenantId, id);
        await audit(trx, ctx.request, {
          action: 'ivr.update',
          entityType: 'ivr_menu',
          entityId: id,
          before,
          after,
        });
        return after;
      }),
    NAME_TAKEN,
  );
}

export async function deleteMenu(ctx: Ctx, id: number, version: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await repo.findMenu(trx, ctx.tenantId, id, { forUpdate: true });
    if (!row) throw menuNotFound(id);
    if (row.version !== version) throw versionConflict(row.version);
    const refs = await findReferences(trx, ctx.tenantId, 'ivr', id);
    if (refs.length > 0) throw inUse(`IVR menu ${row.name}`, refs);
    const before = await load(trx, ctx.tenantId, id);
    await repo.deleteMenu(trx, ctx.tenantId, id);
    await audit(trx, ctx.request, {
      action: 'ivr.delete',
      entityType: 'ivr_menu',
      entityId: id,
      before,
    });
  });
}
