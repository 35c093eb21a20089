import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Migrator,
  NO_MIGRATIONS,
  sql,
  type MigrationInfo,
  type MigrationResult,
} from 'kysely';
import { createPool } from 'mysql2/promise';
import { migrations } from '../../../migrations/index.ts';
import { databaseName, poolOptionsFromUrl, serverUrl, type Db } from './database.ts';

export const MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../migrations',
);

function migrator(db: Db): Migrator {
  return new Migrator({
    // Migrations are frozen SQL and know nothing of the app's camelCase mapping.
    db: db.withoutPlugins(),
    provider: { getMigrations: async () => migrations },
  });
}

function check(results: MigrationResult[] | undefined, error: unknown): MigrationResult[] {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed?.migrationName ?? '(setup)'} failed: ${reason}`);
  }
  return results ?? [];
}

export async function migrateToLatest(db: Db): Promise<MigrationResult[]> {
  const { results, error } = await migrator(db).migrateToLatest();
  return check(results, error);
}

/** Rolls every migration back, newest first. */
export async function migrateDownAll(db: Db): Promise<MigrationResult[]> {
  const { results, error } = await migrator(db).migrateTo(NO_MIGRATIONS);
  return check(results, error);
}

/** Migration files on disk, for the check that index.ts lists them all. */
export function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.+\.ts$/.test(f))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
}

export function migrationStatus(db: Db): Promise<readonly MigrationInfo[]> {
  return migrator(db).getMigrations();
}

/** CREATE DATABASE IF NOT EXISTS for the database the URL names. */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const pool = createPool({ ...poolOptionsFromUrl(serverUrl(url)), connectionLimit: 1 });
  try {
    await pool.query(
      `CREATE DATABASE IF NOT EXISTS \`${name.replace(/`/g, '')}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await pool.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const pool = createPool({ ...poolOptionsFromUrl(serverUrl(url)), connectionLimit: 1 });
  try {
    await pool.query(`DROP DATABASE IF EXISTS \`${name.replace(/`/g, '')}\``);
  } finally {
    await pool.end();
  }
}

export async function listTables(db: Db): Promise<string[]> {
  const rows = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = DATABASE() ORDER BY table_name`.execute(db.withoutPlugins());
  return rows.rows.map((r) => r.name);
}
