import fp from 'fastify-plugin';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { createDatabase, type Db } from '../db/database.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    /** Resolves when the database answers a trivial query within `timeoutMs`. */
    pingDb(timeoutMs?: number): Promise<void>;
  }
}

export interface DbPluginOptions {
  databaseUrl: string;
}

async function dbPlugin(app: FastifyInstance, options: DbPluginOptions): Promise<void> {
  const db = createDatabase(options.databaseUrl, {
    log: (event) => {
      if (event.level === 'error') {
        app.log.warn({ err: event.error, sql: event.query.sql }, 'query failed');
      }
    },
  });
  app.decorate('db', db);
  app.decorate('pingDb', async (timeoutMs = 2_000) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([sql`SELECT 1`.execute(db), timeout]);
    } finally {
      clearTimeout(timer);
    }
  });
  app.addHook('onClose', async () => {
    await db.destroy();
  });
}

export default fp(dbPlugin, { name: 'db', fastify: '5.x' });
