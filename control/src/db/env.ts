import { ConfigError, DEFAULT_DATABASE_URL } from '../config.ts';

/** DATABASE_URL for the tools that need only the database (migrate, seed). */
export function databaseUrlFromEnv(env: Record<string, string | undefined> = process.env): string {
  const url = env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL;
  try {
    if (new URL(url).protocol !== 'mysql:') throw new Error();
  } catch {
    throw new ConfigError(`DATABASE_URL must be a URL like ${DEFAULT_DATABASE_URL} (got "${url}")`);
  }
  return url;
}
