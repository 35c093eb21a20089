/**
 * Finds a MySQL server for the suite and makes a fresh database for this run:
 *   1. CALLDOCK_TEST_MYSQL_URL, if set;
 *   2. otherwise, where a Docker engine answers, a MySQL 8 container (testcontainers);
 *   3. otherwise the local server at 127.0.0.1:3306 (root, no password on this kind of machine).
 * A missing server fails the run with a message saying so; the database suite is never skipped.
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createPool } from 'mysql2/promise';
import { poolOptionsFromUrl } from '../../control/src/db/database.ts';

export interface TestServer {
  /** mysql://… with no database selected. */
  serverUrl: string;
  source: string;
  stop(): Promise<void>;
}

async function dockerAnswers(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function findTestServer(): Promise<TestServer> {
  const explicit = process.env.CALLDOCK_TEST_MYSQL_URL;
  if (explicit) {
    return { serverUrl: withoutDatabase(explicit), source: 'CALLDOCK_TEST_MYSQL_URL', stop: async () => {} };
  }
  if (await dockerAnswers()) {
    const { MySqlContainer } = await import('@testcontainers/mysql');
    const container = await new MySqlContainer('mysql:8.4').withRootPassword('calldock').start();
    return {
      serverUrl: `mysql://root:calldock@${container.getHost()}:${container.getPort()}/`,
      source: 'testcontainers mysql:8.4',
      stop: async () => {
        await container.stop();
      },
    };
  }
  return { serverUrl: 'mysql://root@127.0.0.1:3306/', source: 'local server', stop: async () => {} };
}

function withoutDatabase(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/';
  return parsed.toString();
}

/** Throws a one-line, actionable error when the server does not answer. */
export async function assertReachable(server: TestServer): Promise<void> {
  const pool = createPool({ ...poolOptionsFromUrl(server.serverUrl), connectionLimit: 1, connectTimeout: 5_000 });
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `No MySQL for the test suite (${server.source}, ${server.serverUrl}): ${reason}. ` +
        'Start MariaDB/MySQL or set CALLDOCK_TEST_MYSQL_URL.',
      { cause: err },
    );
  } finally {
    await pool.end();
  }
}

/** A database name unique to this run (and to each caller that asks for one). */
export function freshDatabaseUrl(serverUrl: string, label = 'run'): string {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/calldock_test_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  return parsed.toString();
}
