/**
 * SLA on the real database: due times counted on the tenant's business hours (a schedule read
 * on its own time zone, holidays closed), stored on the ticket and shown as a state in lists;
 * and the breach job, run by two app instances at once and again after a restart, marking each
 * missed target exactly once with one history row.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { dueTimes } from '../../control/src/modules/helpdesk/sla.ts';
import { buildTestApp, testConfig } from '../support/app.ts';
import { createTenant, createUser, tokenFor } from '../support/fixtures.ts';
import { apiAs, type Api } from '../support/helpdesk.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers
type Json = any;

const ok = (
  res: { statusCode: number; body: string; json: () => unknown },
  status: number,
): Json => {
  if (res.statusCode !== status)
    throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
  return res.body ? res.json() : undefined;
};
const manual = () => ({ helpdesk: { ...testConfig().helpdesk, slaCheckSeconds: 0 } });
const weekdays = (open: string, close: string) =>
  [1, 2, 3, 4, 5].map((day) => ({ day, open, close }));

describe('helpdesk SLA', () => {
  const db = createDatabase(inject('databaseUrl'), { connectionLimit: 2 });
  let app: App;
  let tenantId: number;
  let admin: Api;
  let staff: Api;

  beforeAll(async () => {
    app = await buildTestApp(manual());
    tenantId = (await createTenant(db)).id;
    admin = apiAs(app, await tokenFor(app, await createUser(db, tenantId, 'tenant_admin')));
    staff = apiAs(app, await tokenFor(app, await createUser(db, tenantId, 'helpdesk')));
  });

  afterAll(async () => {
    await app.close();
    await db.destroy();
  });

  it('counts targets in business minutes across closes, weekends, time zones and holidays', async () => {
    const ny = ok(
      await admin('POST', '/hours', {
        name: 'New York office',
        timezone: 'America/New_York',
        schedule: weekdays('09:00', '17:00'),
        holidays: [{ date: '2026-03-10', name: 'Office party' }],
      }),
      201,
    );
    const policy = ok(
      await admin('POST', '/sla-policies', {
        priority: 'high',
        firstResponseMinutes: 120,
        resolutionMinutes: 960,
        businessHoursId: ny.id,
      }),
      201,
    );
    expect(policy).toMatchObject({ priority: 'high', businessHoursId: ny.id });
    // Friday 6 March 2026 16:00 EST (21:00Z). First response: 60 min Friday, 60 min Monday 9
    // March from 09:00 EDT (the clocks moved on Sunday): 10:00 EDT = 14:00Z. Resolution, 960
    // min: 60 Friday, 480 Monday, Tuesday is a holiday, 420 Wednesday: 16:00 EDT = 20:00Z.
    const due = await dueTimes(app.db, tenantId, 'high', new Date('2026-03-06T21:00:00Z'));
    expect(due.firstResponseDueAt?.toISOString()).toBe('2026-03-09T14:00:00.000Z');
    expect(due.resolutionDueAt?.toISOString()).toBe('2026-03-11T20:00:00.000Z');
    // Created on a Saturday: nothing counts until Monday opens.
    const weekend = await dueTimes(app.db, tenantId, 'high', new Date('2026-03-07T15:00:00Z'));
    expect(weekend.firstResponseDueAt?.toISOString()).toBe('2026-03-09T15:00:00.000Z');
    // Another priority without a policy has no targets.
    expect(await dueTimes(app.db, tenantId, 'low', new Date())).toEqual({
      firstResponseDueAt: null,
      resolutionDueAt: null,
    });
    // Another tenant's schedule cannot be named.
    const foreignHours = ok(
      await apiAs(
        app,
        await tokenFor(app, await createUser(db, (await createTenant(db)).id, 'tenant_admin')),
      )('POST', '/hours', { name: 'Theirs', schedule: [] }),
      201,
    );
    const refused = await admin('POST', '/sla-policies', {
      priority: 'low',
      firstResponseMinutes: 1,
      resolutionMinutes: 2,
      businessHoursId: foreignHours.id,
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details[0].field).toBe('businessHoursId');
    // The schedule cannot go while a policy counts on it.
    const del = await admin('DELETE', `/hours/${ny.id}`, undefined, {
      'if-match': `"v${ny.version}"`,
    });
    expect(del.statusCode).toBe(409);
    expect(del.json().error.code).toBe('IN_USE');
    // One policy per priority; only the tenant admin sets them.
    expect(
      (
        await admin('POST', '/sla-policies', {
          priority: 'high',
          firstResponseMinutes: 1,
          resolutionMinutes: 2,
        })
      ).statusCode,
    ).toBe(409);
    expect(
      (
        await staff('POST', '/sla-policies', {
          priority: 'low',
          firstResponseMinutes: 1,
          resolutionMinutes: 2,
        })
      ).statusCode,
    ).toBe(403);
  });

  it('stores due times on the ticket and moves them when the priority changes', async () => {
    ok(
      await admin('POST', '/sla-policies', {
        priority: 'urgent',
        firstResponseMinutes: 30,
        resolutionMinutes: 240,
      }),
      201,
    );
    const ticket = ok(
      await staff('POST', '/tickets', { subject: 'Down', priority: 'urgent' }),
      201,
    );
    const created = Date.parse(ticket.createdAt);
    expect(Date.parse(ticket.firstResponseDueAt) - created).toBe(30 * 60_000);
    expect(Date.parse(ticket.resolutionDueAt) - created).toBe(240 * 60_000);
    expect(ticket.slaState).toBe('ok');
    const low = ok(
      await staff(
        'PATCH',
        `/tickets/${ticket.id}`,
        { priority: 'low' },
        { 'if-match': `"v${ticket.version}"` },
      ),
      200,
    );
    expect(low).toMatchObject({
      firstResponseDueAt: null,
      resolutionDueAt: null,
      slaState: 'none',
    });
  });

  it('marks each missed target once, with two instances at once and after a restart', async () => {
    ok(
      await admin('POST', '/sla-policies', {
        priority: 'normal',
        firstResponseMinutes: 60,
        resolutionMinutes: 480,
      }),
      201,
    );
    const late = ok(await staff('POST', '/tickets', { subject: 'Forgotten' }), 201);
    const answered = ok(await staff('POST', '/tickets', { subject: 'Answered in time' }), 201);
    ok(
      await staff('POST', `/tickets/${answered.id}/messages`, { kind: 'public', body: 'On it' }),
      201,
    );
    // Two hours pass: both first-response targets fall due, one was met.
    const shift = async (id: number) =>
      sql`UPDATE tickets SET created_at = ${new Date(Date.now() - 9 * 3_600_000)},
            first_response_due_at = ${new Date(Date.now() - 3_600_000)},
            resolution_due_at = ${new Date(Date.now() - 60_000)}
          WHERE id = ${id}`.execute(db);
    // Solved on the phone, never replied to in writing, before either target fell due.
    const solved = ok(await staff('POST', '/tickets', { subject: 'Sorted by phone' }), 201);
    await shift(late.id);
    await shift(answered.id);
    await shift(solved.id);
    await sql`UPDATE tickets SET status = 'solved', solved_at = ${new Date(Date.now() - 8 * 3_600_000)}
      WHERE id = ${solved.id}`.execute(db);
    await db
      .updateTable('tickets')
      .set({ firstRespondedAt: new Date(Date.now() - 2 * 3_600_000) })
      .where('id', '=', answered.id)
      .execute();

    const second = await buildTestApp(manual());
    const ours = (r: { marked: Array<{ ticketId: number; target: string }> }) =>
      r.marked
        .filter((m) => [late.id, answered.id, solved.id].includes(m.ticketId))
        .map((m) => `${m.ticketId}:${m.target}`);
    const [one, two] = await Promise.all([
      app.helpdesk.runBreachCheck(),
      second.helpdesk.runBreachCheck(),
    ]);
    expect([...ours(one), ...ours(two)].sort()).toEqual(
      [`${late.id}:first_response`, `${late.id}:resolution`, `${answered.id}:resolution`].sort(),
    );
    const marks = await db
      .selectFrom('tickets')
      .select(['id', 'firstResponseBreachedAt', 'resolutionBreachedAt'])
      .where('id', 'in', [late.id, answered.id])
      .orderBy('id')
      .execute();
    await second.close();

    // A restart: a new instance runs the job again over the same rows.
    const restarted = await buildTestApp(manual());
    try {
      expect(ours(await restarted.helpdesk.runBreachCheck())).toEqual([]);
      expect(ours(await app.helpdesk.runBreachCheck())).toEqual([]);
    } finally {
      await restarted.close();
    }
    const history = await db
      .selectFrom('ticketHistory')
      .select(['ticketId', 'field', 'actorUserId'])
      .where('action', '=', 'sla.breached')
      .where('ticketId', 'in', [late.id, answered.id])
      .orderBy('ticketId')
      .orderBy('field')
      .execute();
    expect(history.map((h) => [Number(h.ticketId), h.field, h.actorUserId])).toEqual([
      [late.id, 'first_response', null],
      [late.id, 'resolution', null],
      [answered.id, 'resolution', null],
    ]);
    expect(
      await db
        .selectFrom('tickets')
        .select(['id', 'firstResponseBreachedAt', 'resolutionBreachedAt'])
        .where('id', 'in', [late.id, answered.id])
        .orderBy('id')
        .execute(),
    ).toEqual(marks);
    expect(marks.find((m) => Number(m.id) === answered.id)?.firstResponseBreachedAt).toBeNull();

    const breached = ok(await staff('GET', '/tickets?slaState=breached&limit=200'), 200).items.map(
      (t: Json) => t.id,
    );
    expect(breached).toEqual(expect.arrayContaining([late.id, answered.id]));
    const history1 = ok(await staff('GET', `/tickets/${late.id}/history`), 200).items;
    expect(history1.filter((h: Json) => h.action === 'sla.breached')).toHaveLength(2);
  });

  it('runs the job on its own interval once the app is ready', async () => {
    ok(
      await admin('POST', '/sla-policies', {
        priority: 'low',
        firstResponseMinutes: 5,
        resolutionMinutes: 10,
      }),
      201,
    );
    const ticket = ok(
      await staff('POST', '/tickets', { subject: 'Tick tock', priority: 'low' }),
      201,
    );
    await db
      .updateTable('tickets')
      .set({ firstResponseDueAt: new Date(Date.now() - 1_000) })
      .where('id', '=', ticket.id)
      .execute();
    const ticking = await buildTestApp({
      helpdesk: { ...testConfig().helpdesk, slaCheckSeconds: 1 },
    });
    try {
      await expect
        .poll(
          async () =>
            (
              await db
                .selectFrom('tickets')
                .select('firstResponseBreachedAt')
                .where('id', '=', ticket.id)
                .executeTakeFirstOrThrow()
            ).firstResponseBreachedAt,
          { timeout: 10_000, interval: 200 },
        )
        .not.toBeNull();
      const state = ok(await staff('GET', `/tickets/${ticket.id}`), 200).slaState;
      expect(state).toBe('breached');
    } finally {
      await ticking.close();
    }
  });
});
