/**
 * Once per `vitest run`: a fresh, migrated database and a pair of Asterisk instances — `testN-main`
 * (the Calldock PBX under test) and `testN-carrier` (the outside world: PSTN carrier and the
 * agents' desk phones), N being CALLDOCK_TEST_SLOT. Both are torn down at the end, whatever happened.
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../control/src/db/database.ts';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../../control/src/db/migrate.ts';
import { startAsterisk, stopAsterisk, testInstance, type AsteriskInstance } from './asterisk.ts';
import { assertReachable, findTestServer, freshDatabaseUrl } from './database.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** mysql:// URL of this run's migrated database. */
    databaseUrl: string;
    /** mysql:// URL of the server, for tests that need a database of their own. */
    mysqlServerUrl: string;
    asteriskMain: AsteriskInstance;
    asteriskCarrier: AsteriskInstance;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        console.error(err instanceof Error ? err.message : err);
      }
    }
  };

  try {
    const server = await findTestServer();
    cleanups.push(() => server.stop());
    await assertReachable(server);
    const databaseUrl = freshDatabaseUrl(server.serverUrl);
    await ensureDatabase(databaseUrl);
    cleanups.push(() => dropDatabase(databaseUrl));
    const db = createDatabase(databaseUrl, { connectionLimit: 1 });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }

    // A run that was killed may have left its instances behind: start from a clean slate.
    const mainSlot = testInstance('main');
    const carrierSlot = testInstance('carrier');
    for (const { name } of [mainSlot, carrierSlot]) stopAsterisk(name);
    const ariPassword = randomBytes(12).toString('hex');
    const main = startAsterisk({ ...mainSlot, role: 'main', ariUser: 'calldock', ariPassword });
    cleanups.push(() => stopAsterisk(mainSlot.name));
    const carrier = startAsterisk({
      ...carrierSlot,
      role: 'carrier',
      mainSipPort: mainSlot.sipPort,
      ariUser: 'carrier',
      ariPassword,
    });
    cleanups.push(() => stopAsterisk(carrierSlot.name));

    project.provide('databaseUrl', databaseUrl);
    project.provide('mysqlServerUrl', server.serverUrl);
    project.provide('asteriskMain', main);
    project.provide('asteriskCarrier', carrier);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
