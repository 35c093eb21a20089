/**
 * Seeds the demo tenant. With `--json`, prints `{ password, logins }` for `npm start` to show.
 */
import { createDatabase } from './database.ts';
import { databaseUrlFromEnv } from './env.ts';
import { DEMO_LOGINS, DEMO_PASSWORD, PLATFORM_ADMIN, seedDemo } from './seed.ts';

const db = createDatabase(databaseUrlFromEnv(), { connectionLimit: 1 });
seedDemo(db)
  .then(({ tenantId }) => {
    if (process.argv.includes('--json')) {
      const logins = [PLATFORM_ADMIN, ...DEMO_LOGINS].map(({ email, role }) => ({ email, role }));
      console.log(JSON.stringify({ tenantId, password: DEMO_PASSWORD, logins }));
    } else {
      console.log(`demo tenant ready (id ${tenantId})`);
    }
  })
  .catch((err: unknown) => {
    console.error(`calldock seed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => void db.destroy());
