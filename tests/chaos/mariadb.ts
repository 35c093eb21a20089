/**
 * A MariaDB server of the chaos suite's own: its own data directory, port and PID, so a scenario
 * can stop the database and start it again without touching the machine's server (or any
 * process it did not start). Debian's mariadb-server provides the binaries.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createConnection } from 'node:net';

const BINARIES = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'];

export class MariaDbInstance {
  private child: ChildProcess | undefined;
  readonly url: string;

  constructor(
    private readonly dir: string,
    readonly port: number,
  ) {
    this.url = `mysql://root@127.0.0.1:${port}/`;
  }

  private get binary(): string {
    const found = BINARIES.find((b) => existsSync(b));
    if (!found) {
      throw new Error('the chaos suite needs MariaDB\'s server binary (apt-get install mariadb-server): none at /usr/sbin/mariadbd');
    }
    return found;
  }

  /** Creates the data directory on first use, then starts the server and waits until it answers. */
  async start(): Promise<void> {
    const data = path.join(this.dir, 'data');
    if (!existsSync(data)) {
      mkdirSync(this.dir, { recursive: true });
      const init = spawnSync(
        'mariadb-install-db',
        ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'],
        { encoding: 'utf8' },
      );
      if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${(init.stderr || init.stdout).trim().split('\n').pop()}`);
    }
    this.child = spawn(
      this.binary,
      [
        '--no-defaults',
        `--datadir=${data}`,
        '--user=root',
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${path.join(this.dir, 'mysqld.sock')}`,
        `--pid-file=${path.join(this.dir, 'mysqld.pid')}`,
        `--log-error=${path.join(this.dir, 'error.log')}`,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=128M',
        '--max-connections=200',
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 30_000;
    while (!(await this.answers())) {
      if (this.child.exitCode !== null) throw new Error(`MariaDB exited (${this.child.exitCode}): ${this.lastError()}`);
      if (Date.now() > deadline) throw new Error(`MariaDB did not answer on port ${this.port} within 30 s: ${this.lastError()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the server: SIGTERM (a clean shutdown) or SIGKILL (a crash). Resolves once it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: this.port });
      // The server speaks first: a greeting means it is accepting connections.
      socket.once('data', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.setTimeout(1_000, () => {
        socket.destroy();
        resolve(false);
      });
    });
  }

  private lastError(): string {
    try {
      const lines = readFileSync(path.join(this.dir, 'error.log'), 'utf8').trim().split('\n');
      return lines.filter((l) => /ERROR/.test(l)).pop() ?? lines.pop() ?? '';
    } catch {
      return 'no error log';
    }
  }
}
