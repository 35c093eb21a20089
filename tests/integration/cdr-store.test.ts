/**
 * CdrStore's batches on the real MySQL: writes made in one turn of the event loop go as a few
 * statements (one query with a multi-statement connection), mean exactly what the same writes
 * one after the other would, and a write MySQL refuses fails alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { CdrStore, type CdrOp } from '../../control/src/modules/calls/cdr-store.ts';
import { createTenant, createUser } from '../support/fixtures.ts';

describe('CDR writes in batches', () => {
  const databaseUrl = inject('databaseUrl');
  const db = createDatabase(databaseUrl, { connectionLimit: 2 });
  const batchDb = createDatabase(databaseUrl, { connectionLimit: 1, multipleStatements: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'calldock-cdr-store-'));
  const log = pino({ level: 'silent' });
  let tenantId: number;

  beforeAll(async () => {
    tenantId = (await createTenant(db)).id;
  });

  afterAll(async () => {
    await batchDb.destroy();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const linkedid = () => `cdr-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const at = (ms: number) => new Date(Date.UTC(2026, 10, 22, 9, 0, 0, ms));

  function newCall(id: string): CdrOp {
    return {
      op: 'insert',
      row: {
        tenantId,
        linkedid: id,
        direction: 'inbound',
        channelKind: 'pstn',
        fromNumber: '+15550001111',
        toNumber: '+15550002222',
        didId: null,
        startedAt: at(0),
        state: 'ringing',
      },
    };
  }

  function event(id: string, seq: number, type: string): CdrOp {
    return { op: 'event', linkedid: id, tenantId, seq, type, occurredAt: at(seq), data: { seq } };
  }

  async function row(id: string) {
    return db.selectFrom('calls').selectAll().where('linkedid', '=', id).executeTakeFirstOrThrow();
  }

  async function events(id: string) {
    return db
      .selectFrom('callEvents')
      .innerJoin('calls', 'calls.id', 'callEvents.callId')
      .select(['callEvents.seq', 'callEvents.type'])
      .where('calls.linkedid', '=', id)
      .orderBy('callEvents.seq')
      .execute();
  }

  for (const [name, withBatchDb] of [
    ['one query per batch', true],
    ['one statement after the other', false],
  ] as const) {
    it(`applies a turn's writes as written (${name})`, async () => {
      const store = new CdrStore(db, log, path.join(dir, `outbox-${name}.jsonl`), withBatchDb ? batchDb : undefined);
      const userId = (await createUser(db, tenantId, 'agent')).id;
      const a = linkedid();
      const b = linkedid();
      // All made in one turn: one batch.
      await Promise.all([
        store.write(newCall(a)),
        store.write(event(a, 1, 'created')),
        store.write({ op: 'update', linkedid: a, patch: { state: 'queued', queuedAt: at(10), hangupCause: 'first' } }),
        store.write(event(a, 2, 'queued')),
        store.write(newCall(b)),
        store.write({ op: 'update', linkedid: a, patch: { state: 'answered', answeredAt: at(20), hangupCause: 'second' } }),
        store.write(event(a, 3, 'answered')),
        store.write(event(b, 1, 'created')),
        store.write({ op: 'agent_state', row: { tenantId, userId, status: 'on_call', reason: null, callLinkedid: a, startedAt: at(20) } }),
      ]);
      const first = await row(a);
      // Both updates hold, the later field wins where they overlap.
      expect(first.state).toBe('answered');
      expect(first.queuedAt?.getTime()).toBe(at(10).getTime());
      expect(first.answeredAt?.getTime()).toBe(at(20).getTime());
      expect(first.hangupCause).toBe('second');
      expect((await row(b)).state).toBe('ringing');
      expect(await events(a)).toEqual([
        { seq: 1, type: 'created' },
        { seq: 2, type: 'queued' },
        { seq: 3, type: 'answered' },
      ]);
      expect(await events(b)).toEqual([{ seq: 1, type: 'created' }]);
      const states = await db.selectFrom('agentStateLog').select('status').where('callLinkedid', '=', a).execute();
      expect(states).toEqual([{ status: 'on_call' }]);

      // Written again (a replay): nothing doubles, nothing changes.
      await Promise.all([store.write(newCall(a)), store.write(event(a, 2, 'queued')), store.write(event(a, 3, 'answered'))]);
      expect((await row(a)).state).toBe('answered');
      expect(await events(a)).toHaveLength(3);
      expect(store.backlog).toBe(0);
      store.close();
    });
  }

  it('fails only the write MySQL refuses; the rest of its batch is applied', async () => {
    const store = new CdrStore(db, log, path.join(dir, 'outbox-refused.jsonl'), batchDb);
    const userId = (await createUser(db, tenantId, 'agent')).id;
    const id = linkedid();
    const results = await Promise.allSettled([
      store.write(newCall(id)),
      // No such user: the foreign key refuses this one.
      store.write({ op: 'agent_state', row: { tenantId, userId: 2_000_000_000 + userId, status: 'ringing', reason: null, callLinkedid: id, startedAt: at(5) } }),
      store.write({ op: 'update', linkedid: id, patch: { state: 'ended', endedAt: at(30) } }),
      store.write(event(id, 1, 'created')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/foreign key/i);
    expect((await row(id)).state).toBe('ended');
    expect(await events(id)).toEqual([{ seq: 1, type: 'created' }]);
    expect(store.backlog).toBe(0);
    store.close();
  });
});
