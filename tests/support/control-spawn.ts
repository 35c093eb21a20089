/**
 * The control plane as a real process (node with tsx's loader), for tests, the chaos suite and
 * benchmarks that kill it (SIGKILL) and start it again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ControlProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * A control plane with the given settings (DATABASE_URL and ARI_* at least), ready when this
 * resolves. Its output is kept in memory (the last 2 MB), or appended to `logFile`.
 */
export async function spawnControl(
  port: number,
  env: Record<string, string>,
  options: { logFile?: string; readyTimeoutMs?: number } = {},
): Promise<ControlProcess> {
  // One process (node with tsx's loader), not the tsx wrapper: a SIGKILL must hit the server.
  const child = spawn(process.execPath, ['--import', 'tsx', 'control/src/server.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      ARI_APP: 'calldock',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    if (options.logFile) appendFileSync(options.logFile, d);
    output = (output + d.toString()).slice(-2_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`control plane exited (${child.exitCode}):\n${output}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`control plane not ready after ${options.readyTimeoutMs ?? 30_000} ms:\n${output.slice(-4000)}`);
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
