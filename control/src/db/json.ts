/**
 * MySQL 8 returns JSON columns parsed; MariaDB stores JSON as LONGTEXT and returns a string.
 * Every read of a JSON column goes through `fromJson`, every write through `toJson`.
 */
export function fromJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as T;
    } catch {
      return fallback;
    }
  }
  return value as T;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}
