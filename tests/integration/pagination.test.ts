/**
 * Cursor pagination (lib/pagination.ts) on the real database: a walk over a date-sorted list
 * sees every row once, in order, and the cursor's date is compared as a date (no warnings from
 * the server about a string it had to guess at).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { toJson } from '../../control/src/db/json.ts';
import { AppError } from '../../control/src/lib/errors.ts';
import { paginate, type ListQuery } from '../../control/src/lib/pagination.ts';
import { createTenant } from '../support/fixtures.ts';

describe('cursor pagination', () => {
  // One connection, so SHOW WARNINGS speaks of the query just run.
  const db = createDatabase(inject('databaseUrl'), { connectionLimit: 1 });
  let tenantId: number;
  const ids: number[] = [];

  beforeAll(async () => {
    tenantId = (await createTenant(db)).id;
    // Two rows share each millisecond, so `id` has to break the ties.
    const base = Date.UTC(2024, 0, 1, 9, 0, 0, 123);
    for (let i = 0; i < 7; i++) {
      const result = await db
        .insertInto('businessHours')
        .values({
          tenantId,
          name: `h${i}`,
          timezone: 'UTC',
          weeklySchedule: toJson([]),
          createdAt: new Date(base + Math.floor(i / 2) * 1_001),
        })
        .executeTakeFirstOrThrow();
      ids.push(Number(result.insertId));
    }
  });

  afterAll(async () => {
    await db.destroy();
  });

  const page = (params: ListQuery) =>
    paginate(
      db.selectFrom('businessHours').selectAll().where('tenantId', '=', tenantId),
      params,
      { createdAt: 'createdAt', id: 'id' },
      'businessHours',
    );

  async function walk(sort: string): Promise<number[]> {
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const result = await page({ limit: 2, sort, ...(cursor ? { cursor } : {}) });
      const { rows } = await sql<{ Message: string }>`SHOW WARNINGS`.execute(db);
      expect(rows.map((r) => r.Message)).toEqual([]);
      seen.push(...result.items.map((r) => r.id));
      cursor = result.nextCursor ?? undefined;
    } while (cursor);
    return seen;
  }

  it('walks a date-sorted list both ways, every row once, comparing dates as dates', async () => {
    expect(await walk('createdAt')).toEqual(ids);
    expect(await walk('-createdAt')).toEqual([...ids].reverse());
  });

  it('refuses a cursor whose date is not a date', async () => {
    const forged = Buffer.from(JSON.stringify({ v: 'yesterday', id: 1, d: 1 })).toString(
      'base64url',
    );
    await expect(page({ sort: 'createdAt', cursor: forged })).rejects.toMatchObject({
      statusCode: 400,
      details: [{ field: 'cursor' }],
    } satisfies Partial<AppError>);
  });
});
