/**
 * The control plane as a real process, for tests that kill it (SIGKILL) and start it again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ControlProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startControl(port: number, env: Record<string, string> = {}): Promise<ControlProcess> {
  const main = inject('asteriskMain');
  // One process (node with tsx's loader), not the tsx wrapper: a SIGKILL must hit the server.
  const child = spawn(process.execPath, ['--import', 'tsx', 'control/src/server.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      ARI_URL: main.ariUrl,
      ARI_USER: main.ariUser,
      ARI_PASSWORD: main.ariPassword,
      ARI_APP: 'calldock',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`control plane exited (${child.exitCode}):\n${output}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`control plane not ready after 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    output: () => output,
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
