/**
 * One list semantics for every collection: keyset (cursor) pagination, a sort field, filters.
 *
 *   GET /api/v1/dids?limit=50&sort=-createdAt&cursor=…&number=+44…
 *   → { "items": [...], "nextCursor": "…" | null }
 *
 * The cursor is opaque to clients (base64url JSON of the last row's sort value and id), so
 * pages stay stable while rows are added; `id` breaks ties, so no row is skipped or repeated.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { SelectQueryBuilder } from 'kysely';
import { AppError } from './errors.ts';

export const MAX_LIMIT = 200;

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
  sort: Type.Optional(
    Type.String({ pattern: '^-?[a-zA-Z]+$', description: 'Field to sort by; prefix - for descending' }),
  ),
});
export type ListQuery = Static<typeof ListQuery>;

/** `ListQuery` plus a resource's own filters, for a route's querystring schema. */
export function listQuery<T extends Record<string, TSchema>>(filters: T) {
  return Type.Composite([ListQuery, Type.Object(filters)], { additionalProperties: false });
}

export function listResponse<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface Cursor {
  v: string | number | null;
  id: number;
  /** Set when `v` is a date (ISO string): it is compared as a date, not as text. */
  d?: 1;
}

const badCursor = () =>
  new AppError('VALIDATION_FAILED', 'Invalid query', 400, [
    { field: 'cursor', message: 'is not a cursor this list gave out' },
  ]);

/** The cursor's sort value as the column wants it: a Date for date columns. */
function decodeCursor(raw: string): { value: Date | string | number | null; id: number } {
  let parsed: Cursor;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
  } catch {
    throw badCursor();
  }
  if (typeof parsed?.id !== 'number') throw badCursor();
  if (parsed.d !== 1) return { value: parsed.v, id: parsed.id };
  const date = typeof parsed.v === 'string' ? new Date(parsed.v) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw badCursor();
  return { value: date, id: parsed.id };
}

function encodeCursor(value: unknown, id: number): string {
  const cursor: Cursor =
    value instanceof Date
      ? { v: value.toISOString(), id, d: 1 }
      : { v: value as string | number | null, id };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/**
 * Applies sort, cursor and limit to a query over one table with an `id` column, runs it and
 * returns a page. `sortable` maps API field names to columns; the first is the default.
 */
export async function paginate<DB, TB extends keyof DB & string, O extends { id: number }>(
  query: SelectQueryBuilder<DB, TB, O>,
  params: ListQuery,
  sortable: Record<string, string>,
  table: TB,
): Promise<Page<O>> {
  const limit = params.limit ?? 50;
  const rawSort = params.sort ?? Object.keys(sortable)[0] ?? 'id';
  const desc = rawSort.startsWith('-');
  const field = desc ? rawSort.slice(1) : rawSort;
  const column = sortable[field];
  if (!column) {
    throw new AppError('VALIDATION_FAILED', 'Invalid query', 400, [
      { field: 'sort', message: `must be one of ${Object.keys(sortable).join(', ')} (optionally prefixed with -)` },
    ]);
  }
  const col = `${table}.${column}` as never;
  const idCol = `${table}.id` as never;
  const dir = desc ? 'desc' : 'asc';
  const cmp = desc ? '<' : '>';

  let q = query;
  if (params.cursor) {
    const cursor = decodeCursor(params.cursor);
    const value = cursor.value;
    q = q.where((eb) =>
      column === 'id'
        ? eb(idCol, cmp, cursor.id as never)
        : // The first bound is implied by the rest; it is there so an index on the sort column
          // is read from the cursor on (a range), not from the start of the list.
          eb.and([
            eb(col, desc ? '<=' : '>=', value as never),
            eb.or([
              eb(col, cmp, value as never),
              eb.and([eb(col, '=', value as never), eb(idCol, cmp, cursor.id as never)]),
            ]),
          ]),
    );
  }
  q = q.orderBy(col, dir);
  if (column !== 'id') q = q.orderBy(idCol, dir);
  const rows = (await q.limit(limit + 1).execute()) as O[];
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > limit && last
      ? encodeCursor((last as Record<string, unknown>)[field] ?? last.id, last.id)
      : null;
  return { items, nextCursor };
}
