import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { IvrMenuTable, IvrOptionTable } from '../../db/schema.ts';
import { paginate, type Page } from '../../lib/pagination.ts';
import { likePrefix } from '../routing/common.ts';
import type { Executor } from '../routing/targets.ts';
import type { IvrListQuery } from './schemas.ts';

export type MenuRow = Selectable<IvrMenuTable>;
export type OptionRow = Selectable<IvrOptionTable>;
export type MenuValues = Omit<Insertable<IvrMenuTable>, 'tenantId'>;
export type MenuChanges = Omit<Updateable<IvrMenuTable>, 'tenantId' | 'id' | 'version'>;
export type OptionValues = Pick<OptionRow, 'digit' | 'targetType' | 'targetId' | 'targetValue'>;

export async function findMenu(
  db: Executor,
  tenantId: number,
  id: number,
  options: { forUpdate?: boolean } = {},
): Promise<MenuRow | undefined> {
  let q = db
    .selectFrom('ivrMenus')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('id', '=', id);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function listMenus(
  db: Executor,
  tenantId: number,
  query: IvrListQuery,
): Promise<Page<MenuRow>> {
  let q = db.selectFrom('ivrMenus').selectAll().where('tenantId', '=', tenantId);
  if (query.name) q = q.where('name', 'like', likePrefix(query.name));
  return paginate(q, query, { name: 'name', createdAt: 'createdAt', id: 'id' }, 'ivrMenus');
}

export async function optionsOf(
  db: Executor,
  tenantId: number,
  menuIds: readonly number[],
): Promise<Map<number, OptionRow[]>> {
  const byMenu = new Map<number, OptionRow[]>(menuIds.map((id) => [id, []]));
  if (menuIds.length === 0) return byMenu;
  const rows = await db
    .selectFrom('ivrOptions')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('menuId', 'in', [...menuIds])
    .orderBy('digit')
    .execute();
  for (const row of rows) byMenu.get(Number(row.menuId))?.push(row);
  return byMenu;
}

export async function insertMenu(
  db: Executor,
  tenantId: number,
  values: MenuValues,
): Promise<number> {
  const result = await db
    .insertInto('ivrMenus')
    .values({ ...values, tenantId })
    .executeTakeFirstOrThrow();
  return Number(result.insertId);
}

export async function updateMenu(
  db: Executor,
  tenantId: number,
  id: number,
  version: number,
  changes: MenuChanges,
): Promise<boolean> {
  const result = await db
    .updateTable('ivrMenus')
    .set({ ...changes, version: sql<number>`version + 1` })
    .where('tenantId', '=', tenantId)
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function replaceOptions(
  db: Executor,
  tenantId: number,
  menuId: number,
  options: readonly OptionValues[],
): Promise<void> {
  await db
    .deleteFrom('ivrOptions')
    .where('tenantId', '=', tenantId)
    .where('menuId', '=', menuId)
    .execute();
  if (options.length === 0) return;
  await db
    .insertInto('ivrOptions')
    .values(options.map((o) => ({ ...o, tenantId, menuId })))
    .execute();
}

export async function deleteMenu(db: Executor, tenantId: number, id: number): Promise<void> {
  await db.deleteFrom('ivrMenus').where('tenantId', '=', tenantId).where('id', '=', id).execute();
}
