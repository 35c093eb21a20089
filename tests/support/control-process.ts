/**
 * The control plane as a real process on the test run's database and main Asterisk, for tests
 * that kill it (SIGKILL) and start it again.
 */
import { inject } from 'vitest';
import { spawnControl, type ControlProcess } from './control-spawn.ts';

export type { ControlProcess };

/** A control plane on the test run's database and main Asterisk (inside vitest). */
export async function startControl(port: number, env: Record<string, string> = {}): Promise<ControlProcess> {
  const main = inject('asteriskMain');
  return spawnControl(port, {
    DATABASE_URL: inject('databaseUrl'),
    ARI_URL: main.ariUrl,
    ARI_USER: main.ariUser,
    ARI_PASSWORD: main.ariPassword,
    ...env,
  });
}

