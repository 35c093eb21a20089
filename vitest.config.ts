import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    // A file that places calls waits in its beforeAll for the test PBX (tests/support/
    // telephony-lock.ts, up to 600 s) while another file, a browser test say, has it.
    hookTimeout: 660_000,
    // Two cores, two Asterisks and MariaDB on the same machine: keep the workers few.
    maxWorkers: 2,
    pool: 'forks',
    // Real SIP calls on a loaded two-core machine now and then miss a timing window; a test
    // gets one more try, and one that fails twice fails the run. The report lists retries.
    retry: 1,
    projects: [
      {
        extends: true,
        test: {
          name: 'stack',
          include: ['control/src/**/*.test.ts', 'tests/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        // The console's logic in a DOM, without the database and Asterisks.
        extends: true,
        test: {
          name: 'console',
          include: ['console/src/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
        },
      },
    ],
  },
});
