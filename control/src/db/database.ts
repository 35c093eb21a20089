import { CamelCasePlugin, Kysely, MysqlDialect, type LogEvent, type Transaction } from 'kysely';
import { createPool, type PoolOptions } from 'mysql2';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
/** What a repository function runs on: the database, or the caller's transaction. */
export type Executor = Db | Transaction<Database>;

export interface DatabaseOptions {
  connectionLimit?: number;
  /**
   * Several statements in one query (one round trip). Only for queries compiled by kysely, whose
   * values are all parameters escaped by mysql2: never for SQL with text from outside in it.
   */
  multipleStatements?: boolean;
  /** Called for every query error (and, at debug level, every query). */
  log?: (event: LogEvent) => void;
}

/** Splits a mysql:// URL into mysql2 pool options; the database name is optional. */
export function poolOptionsFromUrl(url: string): PoolOptions {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username) || 'root',
    password: decodeURIComponent(parsed.password),
    ...(database ? { database } : {}),
    // Everything is stored and read in UTC; the tenant's time zone is applied in code.
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4_unicode_ci',
  };
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/** The same server without a database selected, for CREATE/DROP DATABASE. */
export function serverUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/';
  return parsed.toString();
}

export function createDatabase(url: string, options: DatabaseOptions = {}): Db {
  const pool = createPool({
    ...poolOptionsFromUrl(url),
    connectionLimit: options.connectionLimit ?? 10,
    multipleStatements: options.multipleStatements ?? false,
    // Fail fast when the server is unreachable: readiness checks must answer in time.
    connectTimeout: 3_000,
  });
  pool.on('connection', (connection) => {
    connection.query("SET time_zone = '+00:00'");
  });
  return new Kysely<Database>({
    dialect: new MysqlDialect({ pool }),
    plugins: [new CamelCasePlugin()],
    ...(options.log ? { log: options.log } : {}),
  });
}

/**
 * MySQL chose the transaction as a deadlock's victim: it was rolled back whole and can run again
 * as it is (a lock wait timeout, by contrast, undoes only the statement).
 */
export function isDeadlock(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === 'ER_LOCK_DEADLOCK';
}

/**
 * Runs `work` in a transaction, and again when MySQL rolls it back as a deadlock's victim (up to
 * `attempts` runs in all), as MySQL asks ("try restarting transaction"). `work` must do nothing
 * outside the database that a second run would repeat.
 */
export async function inTransaction<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.transaction().execute(work);
    } catch (err) {
      if (attempt >= attempts || !isDeadlock(err)) throw err;
    }
  }
}
