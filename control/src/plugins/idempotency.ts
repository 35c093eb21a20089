/**
 * `Idempotency-Key` on every authenticated POST: the first request's answer is stored, a retry
 * with the same key and body gets that answer again (with `Idempotent-Replayed: true`) and
 * creates nothing twice. The same key with another body is 422; a retry while the first request
 * is still running is 409. 5xx answers are not kept, so a failed request can be retried.
 *
 * Keys are kept for 24 hours (a retry comes within minutes), then purged by a job that runs at
 * start-up and every hour: the stored answers can hold what was shown once, such as invite links.
 */
import fp from 'fastify-plugin';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/database.ts';
import { AppError } from '../lib/errors.ts';
import { isDuplicateKey } from '../lib/db-errors.ts';

export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;
const PURGE_EVERY_MS = 60 * 60_000;

/** Deletes the keys stored before `before`; answers how many went. */
export async function purgeIdempotencyKeys(db: Db, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('idempotencyKeys')
    .where('createdAt', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyRowId: number | undefined;
  }
}

const HEADER = 'idempotency-key';

async function idempotencyPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('idempotencyRowId', undefined);

  let purging: Promise<void> = Promise.resolve();
  const purge = () => {
    purging = purgeIdempotencyKeys(app.db, new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS)).then(
      (n) => {
        if (n > 0) app.log.info({ purged: n }, 'expired idempotency keys purged');
      },
      (err: unknown) => app.log.warn({ err }, 'idempotency key purge failed'),
    );
    return purging;
  };
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    await purge();
    // unref: the job never keeps the process alive on its own.
    timer = setInterval(() => void purge(), PURGE_EVERY_MS).unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await purging;
  });

  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers[HEADER];
    if (request.method !== 'POST' || typeof key !== 'string' || !request.auth) return;
    if (key.length < 1 || key.length > 128) {
      throw new AppError('VALIDATION_FAILED', 'Invalid Idempotency-Key header', 400, [
        { field: 'Idempotency-Key', message: 'must be 1 to 128 characters' },
      ]);
    }
    const path = request.url.split('?')[0] ?? request.url;
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
      .digest('hex');
    try {
      const result = await app.db
        .insertInto('idempotencyKeys')
        .values({ userId: request.auth.userId, idempotencyKey: key, method: request.method, path, requestHash })
        .executeTakeFirst();
      request.idempotencyRowId = Number(result.insertId);
      return;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const first = await app.db
      .selectFrom('idempotencyKeys')
      .selectAll()
      .where('userId', '=', request.auth.userId)
      .where('idempotencyKey', '=', key)
      .executeTakeFirstOrThrow();
    if (first.requestHash !== requestHash) {
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was used for a different request',
        422,
      );
    }
    if (first.statusCode === null) {
      throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'The first request with this key is still running', 409);
    }
    reply.header('Idempotent-Replayed', 'true');
    return reply
      .status(first.statusCode)
      .type('application/json; charset=utf-8')
      .send(first.responseBody ?? '');
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const id = request.idempotencyRowId;
    if (id === undefined) return payload;
    request.idempotencyRowId = undefined;
    if (reply.statusCode >= 500) {
      await app.db.deleteFrom('idempotencyKeys').where('id', '=', id).execute();
    } else {
      await app.db
        .updateTable('idempotencyKeys')
        .set({ statusCode: reply.statusCode, responseBody: typeof payload === 'string' ? payload : null })
        .where('id', '=', id)
        .execute();
    }
    return payload;
  });
}

export default fp(idempotencyPlugin, { name: 'idempotency', fastify: '5.x', dependencies: ['db', 'auth'] });
