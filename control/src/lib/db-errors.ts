import { AppError } from './errors.ts';

/** MySQL/MariaDB error numbers the repositories translate. */
const ER_DUP_ENTRY = 1062;
const ER_NO_REFERENCED_ROW_2 = 1452;
const ER_ROW_IS_REFERENCED_2 = 1451;

function errno(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as { errno?: number }).errno : undefined;
}

export function isDuplicateKey(err: unknown): boolean {
  return errno(err) === ER_DUP_ENTRY;
}

/**
 * Runs a write and turns the database's refusals into API errors: duplicate key → 409 naming the
 * field, broken reference → 409/400. Anything else propagates as a 500.
 */
export async function translateDbErrors<T>(
  write: () => Promise<T>,
  conflict: { field: string; message: string; code?: string },
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (errno(err) === ER_DUP_ENTRY) {
      throw new AppError(conflict.code ?? 'CONFLICT', conflict.message, 409, [
        { field: conflict.field, message: conflict.message },
      ]);
    }
    if (errno(err) === ER_ROW_IS_REFERENCED_2) {
      throw new AppError('IN_USE', 'Still referenced by other objects', 409);
    }
    if (errno(err) === ER_NO_REFERENCED_ROW_2) {
      throw new AppError('VALIDATION_FAILED', 'A referenced object does not exist', 400);
    }
    throw err;
  }
}
