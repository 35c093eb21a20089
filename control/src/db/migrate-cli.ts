/**
 * `tsx control/src/db/migrate-cli.ts [up|down|status]` against DATABASE_URL. Creates the
 * database if it does not exist. Prints one line per migration; one line on failure.
 */
import { ConfigError } from '../config.ts';
import { createDatabase } from './database.ts';
import { databaseUrlFromEnv } from './env.ts';
import { ensureDatabase, migrateDownAll, migrateToLatest, migrationStatus } from './migrate.ts';

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'up';
  if (!['up', 'down', 'status'].includes(command)) {
    throw new ConfigError(`unknown command "${command}" (use up, down or status)`);
  }
  const url = databaseUrlFromEnv();
  await ensureDatabase(url);
  const db = createDatabase(url, { connectionLimit: 1 });
  try {
    if (command === 'status') {
      for (const m of await migrationStatus(db)) {
        console.log(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}`);
      }
      return;
    }
    const results = command === 'up' ? await migrateToLatest(db) : await migrateDownAll(db);
    for (const r of results) console.log(`${r.direction === 'Up' ? 'up  ' : 'down'}  ${r.migrationName}`);
    if (results.length === 0) console.log('database is up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`calldock migrate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
