/**
 * Calls into the shared test PBX belong to one test file at a time.
 *
 * Asterisk gives a Stasis application to the last connection that subscribed to it (the one
 * before gets ApplicationReplaced and no more events), and the same is true of the carrier's
 * `carrier` app that plays the PSTN and the agents' phones. So a test file that places or takes
 * calls holds this lock from before its app subscribes to `calldock` until it closes; files that
 * only use the API subscribe under a name of their own and never wait. A MySQL named lock: it
 * spans the test workers and dies with a crashed one.
 */
import { createConnection } from 'mysql2/promise';
import { inject } from 'vitest';
import { databaseName, poolOptionsFromUrl } from '../../control/src/db/database.ts';

export async function lockTelephony(timeoutSeconds = 600): Promise<() => Promise<void>> {
  const url = inject('databaseUrl');
  const name = `telephony:${databaseName(url)}`.slice(0, 64);
  const conn = await createConnection(poolOptionsFromUrl(url));
  const [rows] = await conn.query('SELECT GET_LOCK(?, ?) AS got', [name, timeoutSeconds]);
  if ((rows as Array<{ got: number | null }>)[0]?.got !== 1) {
    await conn.end();
    throw new Error(`the test PBX stayed busy with another test file for ${timeoutSeconds} s`);
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await conn.query('SELECT RELEASE_LOCK(?)', [name]);
    await conn.end();
  };
}
