/**
 * The helpdesk against the real database: contacts (CSV import with bad rows, export,
 * screen-pop), tickets made by hand and from a call, a voicemail and a chat (linked both ways),
 * thread and history, custom fields, list filters and saved views, bulk changes, merge, live
 * updates over the WebSocket, reports, and who may do what.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { buildTestApp, testConfig } from '../support/app.ts';
import { createTenant, createUser, tokenFor, type TestUser } from '../support/fixtures.ts';
import { systemCtx } from '../../control/src/modules/helpdesk/context.ts';
import { ticketFromOfflineForm } from '../../control/src/modules/helpdesk/tickets.ts';
import { apiAs, insertCall, type Api } from '../support/helpdesk.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers
type Json = any;

describe('helpdesk: contacts and tickets', () => {
  let app: App;
  const db = createDatabase(inject('databaseUrl'), { connectionLimit: 2 });
  let tenantId: number;
  let helpdesk: TestUser;
  let agent: TestUser;
  let hd: Api;
  let admin: Api;
  let asAgent: Api;
  let otherTenant: Api;

  const ok = (
    res: { statusCode: number; body: string; json: () => unknown },
    status: number,
  ): Json => {
    if (res.statusCode !== status)
      throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
    return res.body ? res.json() : undefined;
  };

  beforeAll(async () => {
    app = await buildTestApp({ helpdesk: { ...testConfig().helpdesk, slaCheckSeconds: 0 } });
    tenantId = (await createTenant(db)).id;
    helpdesk = await createUser(db, tenantId, 'helpdesk');
    agent = await createUser(db, tenantId, 'agent');
    hd = apiAs(app, await tokenFor(app, helpdesk));
    admin = apiAs(app, await tokenFor(app, await createUser(db, tenantId, 'tenant_admin')));
    asAgent = apiAs(app, await tokenFor(app, agent));
    const other = await createTenant(db);
    otherTenant = apiAs(app, await tokenFor(app, await createUser(db, other.id, 'helpdesk')));
  });

  afterAll(async () => {
    await app.close();
    await db.destroy();
  });

  describe('contacts', () => {
    it('creates a contact with several phones and emails, and refuses bad ones naming the field', async () => {
      const contact = ok(
        await hd('POST', '/contacts', {
          firstName: 'Ada',
          lastName: 'Lovelace',
          company: 'Engines Ltd',
          phones: [{ number: '+442079460101', label: 'work' }, { number: '+447700900101' }],
          emails: ['Ada@Example.test'],
        }),
        201,
      );
      expect(contact.phones.map((p: Json) => p.number)).toEqual(['+442079460101', '+447700900101']);
      expect(contact.emails).toEqual(['ada@example.test']);
      const bad = await hd('POST', '/contacts', {
        firstName: 'X',
        phones: [{ number: '07700 900' }],
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.details[0].field).toBe('phones.0.number');
      const empty = await hd('POST', '/contacts', { notes: 'nobody' });
      expect(empty.statusCode).toBe(400);
      expect(empty.json().error.details[0].field).toBe('firstName');
    });

    it('imports CSV keeping the good rows and naming the bad lines; exports what it holds', async () => {
      const csv = [
        'first_name,last_name,company,phones,emails,notes',
        'Grace,Hopper,Navy,+12025550101;+12025550102,grace@example.test,"likes ""bugs"", moths"',
        'Bad,Phone,,12345,,',
        ',,,,,',
        'Alan,Turing,,+441619460000,not-an-email,',
        '"Multi',
        'line",Name,Co,,multi@example.test,',
      ].join('\n');
      const result = ok(
        await hd('POST', '/contacts/import', csv, { 'content-type': 'text/csv' }),
        200,
      );
      expect(result.imported).toBe(2);
      expect(result.errors.map((e: Json) => e.line)).toEqual([3, 4, 5]);
      expect(result.errors[0].errors[0].field).toBe('phones');
      expect(result.errors[2].errors[0].field).toBe('emails');
      const grace = ok(await hd('GET', `/contacts/${result.contactIds[0]}`), 200);
      expect(grace).toMatchObject({ firstName: 'Grace', notes: 'likes "bugs", moths' });
      expect(grace.phones).toHaveLength(2);

      // The same through JSON; a header with unknown columns is refused whole.
      const viaJson = ok(
        await hd('POST', '/contacts/import', { csv: 'first_name,emails\nLin,lin@example.test\n' }),
        200,
      );
      expect(viaJson.imported).toBe(1);
      const unknown = await hd('POST', '/contacts/import', { csv: 'first_name,shoe_size\nA,42\n' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().error.details[0].field).toBe('csv');

      const exported = await hd('GET', '/contacts/export');
      expect(exported.statusCode).toBe(200);
      expect(exported.headers['content-type']).toMatch(/text\/csv/);
      expect(exported.body.split('\r\n')[0]).toBe(
        'first_name,last_name,company,phones,emails,notes',
      );
      expect(exported.body).toContain(
        'Grace,Hopper,Navy,+12025550101;+12025550102,grace@example.test,"likes ""bugs"", moths"',
      );
      // Agents read contacts but do not export the book.
      expect((await asAgent('GET', '/contacts/export')).statusCode).toBe(403);
    });

    it('pops up the caller with recent tickets and calls, and nothing of another tenant', async () => {
      const number = '+442079460555';
      const contact = ok(
        await hd('POST', '/contacts', {
          firstName: 'Pop',
          phones: [{ number }],
          emails: ['pop@example.test'],
        }),
        201,
      );
      const callId = await insertCall(db, tenantId, { from: number });
      ok(
        await hd('POST', '/tickets', {
          subject: 'Earlier problem',
          requesterContactId: contact.id,
        }),
        201,
      );
      const pop = ok(await asAgent('GET', `/screen-pop?phone=${encodeURIComponent(number)}`), 200);
      expect(pop.items).toHaveLength(1);
      expect(pop.items[0].contact.id).toBe(contact.id);
      expect(pop.items[0].recentTickets.map((t: Json) => t.subject)).toEqual(['Earlier problem']);
      expect(pop.items[0].recentCalls.map((c: Json) => c.id)).toContain(callId);
      const byEmail = ok(await hd('GET', '/screen-pop?email=POP@example.test'), 200);
      expect(byEmail.items[0].contact.id).toBe(contact.id);
      expect(
        ok(await otherTenant('GET', `/screen-pop?phone=${encodeURIComponent(number)}`), 200).items,
      ).toEqual([]);
      expect((await hd('GET', '/screen-pop')).statusCode).toBe(400);
    });
  });

  describe('tickets', () => {
    it('validates custom fields against the tenant’s definitions', async () => {
      ok(
        await admin('POST', '/ticket-fields', {
          key: 'plan',
          label: 'Plan',
          type: 'select',
          options: ['free', 'pro'],
          required: true,
        }),
        201,
      );
      ok(
        await admin('POST', '/ticket-fields', { key: 'seats', label: 'Seats', type: 'number' }),
        201,
      );
      expect(
        (await hd('POST', '/ticket-fields', { key: 'x', label: 'X', type: 'text' })).statusCode,
      ).toBe(403);
      const missing = await hd('POST', '/tickets', { subject: 'No plan' });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error.details).toEqual([
        { field: 'customFields.plan', message: 'is required' },
      ]);
      const wrong = await hd('POST', '/tickets', {
        subject: 'Bad',
        customFields: { plan: 'gold', seats: 'many', shoe: 1 },
      });
      expect(wrong.statusCode).toBe(400);
      expect(
        wrong
          .json()
          .error.details.map((d: Json) => d.field)
          .sort(),
      ).toEqual(['customFields.plan', 'customFields.seats', 'customFields.shoe']);
      const good = ok(
        await hd('POST', '/tickets', { subject: 'Good', customFields: { plan: 'pro', seats: 3 } }),
        201,
      );
      expect(good.customFields).toEqual({ plan: 'pro', seats: 3 });
      // Later tests do not want to name a plan every time.
      const fields = ok(await admin('GET', '/ticket-fields'), 200).items;
      const plan = fields.find((f: Json) => f.key === 'plan');
      ok(
        await admin(
          'PATCH',
          `/ticket-fields/${plan.id}`,
          { required: false },
          { 'if-match': `"v${plan.version}"` },
        ),
        200,
      );
    });

    it('keeps the thread, first response and a history row for every change, and publishes them live', async () => {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const port = (app.server.address() as { port: number }).port;
      const ws = new WebSocket(
        `ws://127.0.0.1:${port}/api/v1/ws?access_token=${await tokenFor(app, agent)}`,
      );
      const topics: string[] = [];
      ws.on('message', (raw) =>
        topics.push((JSON.parse(raw.toString()) as { topic: string }).topic),
      );
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      // The other tenant's console hears nothing of this tenant.
      const stranger = new WebSocket(
        `ws://127.0.0.1:${port}/api/v1/ws?access_token=${await tokenFor(app, await createUser(db, (await createTenant(db)).id, 'helpdesk'))}`,
      );
      const strangerTopics: string[] = [];
      stranger.on('message', (raw) =>
        strangerTopics.push((JSON.parse(raw.toString()) as { topic: string }).topic),
      );
      await new Promise((resolve, reject) => stranger.once('open', resolve).once('error', reject));

      const queue = ok(await admin('POST', '/queues', { name: `Support ${Date.now()}` }), 201);
      const created = await hd('POST', '/tickets', {
        subject: 'Printer on fire',
        priority: 'high',
        tags: ['hardware', 'fire'],
        message: { kind: 'public', body: 'It is smoking.' },
      });
      const ticket = ok(created, 201);
      expect(ticket).toMatchObject({
        status: 'new',
        priority: 'high',
        tags: ['hardware', 'fire'],
        firstRespondedAt: null,
      });
      ok(
        await hd('POST', `/tickets/${ticket.id}/messages`, {
          kind: 'internal',
          body: 'Call facilities',
        }),
        201,
      );
      expect(ok(await hd('GET', `/tickets/${ticket.id}`), 200).firstRespondedAt).toBeNull();
      ok(
        await hd('POST', `/tickets/${ticket.id}/messages`, { kind: 'public', body: 'On our way' }),
        201,
      );
      const answered = ok(await hd('GET', `/tickets/${ticket.id}`), 200);
      expect(answered.status).toBe('open');
      expect(answered.firstRespondedAt).not.toBeNull();

      const patched = ok(
        await hd(
          'PATCH',
          `/tickets/${ticket.id}`,
          { assigneeUserId: helpdesk.id, groupId: queue.id, status: 'solved' },
          { 'if-match': `"v${answered.version}"` },
        ),
        200,
      );
      expect(patched).toMatchObject({
        status: 'solved',
        assigneeUserId: helpdesk.id,
        groupId: queue.id,
      });
      expect(patched.solvedAt).not.toBeNull();
      // A stale version is refused; a missing one too.
      expect(
        (
          await hd(
            'PATCH',
            `/tickets/${ticket.id}`,
            { subject: 'x' },
            { 'if-match': `"v${answered.version}"` },
          )
        ).statusCode,
      ).toBe(412);
      expect((await hd('PATCH', `/tickets/${ticket.id}`, { subject: 'x' })).statusCode).toBe(428);

      const thread = ok(await asAgent('GET', `/tickets/${ticket.id}/messages`), 200).items;
      expect(thread.map((m: Json) => [m.kind, m.body])).toEqual([
        ['public', 'It is smoking.'],
        ['internal', 'Call facilities'],
        ['public', 'On our way'],
      ]);
      const history = ok(await hd('GET', `/tickets/${ticket.id}/history?limit=50`), 200).items;
      const changes = history.map((h: Json) => `${h.action}:${h.field ?? ''}`);
      expect(changes).toEqual([
        'created:',
        'noted:',
        'replied:',
        'changed:status',
        'first_response:',
        'changed:assigneeUserId',
        'changed:groupId',
        'changed:status',
      ]);
      expect(history.find((h: Json) => h.field === 'assigneeUserId')).toMatchObject({
        actorUserId: helpdesk.id,
        oldValue: null,
        newValue: helpdesk.id,
      });

      await expect
        .poll(() => topics.filter((t) => t.startsWith('ticket.')), { timeout: 5_000 })
        .toEqual(expect.arrayContaining(['ticket.created', 'ticket.message', 'ticket.updated']));
      expect(strangerTopics.filter((t) => t.startsWith('ticket.'))).toEqual([]);
      ws.close();
      stranger.close();
    });

    it('filters by status, priority, assignee, tag, text in messages and SLA state; saves views per user', async () => {
      const tag = `t${Date.now()}`;
      const a = ok(
        await hd('POST', '/tickets', { subject: `Alpha ${tag}`, priority: 'urgent', tags: [tag] }),
        201,
      );
      const b = ok(
        await hd('POST', '/tickets', {
          subject: `Beta ${tag}`,
          priority: 'low',
          tags: [tag],
          assigneeUserId: helpdesk.id,
        }),
        201,
      );
      ok(
        await hd('POST', `/tickets/${b.id}/messages`, {
          kind: 'public',
          body: 'the zebra-striped cable',
        }),
        201,
      );
      const ids = async (query: string) =>
        ok(await hd('GET', `/tickets?tag=${tag}&${query}`), 200)
          .items.map((t: Json) => t.id)
          .sort();
      expect(await ids('')).toEqual([a.id, b.id].sort());
      expect(await ids('priority=urgent')).toEqual([a.id]);
      expect(await ids(`assigneeUserId=${helpdesk.id}`)).toEqual([b.id]);
      expect(await ids('assigneeUserId=0')).toEqual([a.id]);
      expect(await ids('q=zebra-striped')).toEqual([b.id]);
      expect(await ids('status=open')).toEqual([b.id]);
      expect(await ids('slaState=none')).toEqual([a.id, b.id].sort());
      expect(await ids('slaState=breached')).toEqual([]);
      // A cursor walks the list a page at a time.
      const first = ok(await hd('GET', `/tickets?tag=${tag}&limit=1&sort=id`), 200);
      const second = ok(
        await hd('GET', `/tickets?tag=${tag}&limit=1&sort=id&cursor=${first.nextCursor}`),
        200,
      );
      expect([first.items[0].id, second.items[0].id]).toEqual([a.id, b.id].sort((x, y) => x - y));

      const view = ok(
        await hd('POST', '/ticket-views', {
          name: `Urgent ${tag}`,
          filters: { tag, priority: 'urgent' },
        }),
        201,
      );
      expect(
        ok(await hd('GET', `/tickets?viewId=${view.id}`), 200).items.map((t: Json) => t.id),
      ).toEqual([a.id]);
      // Someone else's view is not theirs to use or see.
      expect(ok(await asAgent('GET', `/tickets?viewId=${view.id}`), 200).items).toEqual([]);
      expect(ok(await asAgent('GET', '/ticket-views'), 200).items).toEqual([]);
      expect(
        (await asAgent('DELETE', `/ticket-views/${view.id}`, undefined, { 'if-match': '"v1"' }))
          .statusCode,
      ).toBe(404);
      expect(
        (await hd('POST', '/ticket-views', { name: 'Bad', filters: { colour: 'red' } })).statusCode,
      ).toBe(400);
    });

    it('assigns and closes in bulk, all or none', async () => {
      const t1 = ok(await hd('POST', '/tickets', { subject: 'Bulk 1' }), 201);
      const t2 = ok(await hd('POST', '/tickets', { subject: 'Bulk 2' }), 201);
      const foreign = ok(await otherTenant('POST', '/tickets', { subject: 'Not yours' }), 201);
      const refused = await hd('POST', '/tickets/bulk', {
        ticketIds: [t1.id, foreign.id],
        action: 'assign',
        assigneeUserId: agent.id,
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.details).toEqual([
        { field: 'ticketIds.1', message: 'is not a ticket of this tenant' },
      ]);
      expect(ok(await hd('GET', `/tickets/${t1.id}`), 200).assigneeUserId).toBeNull();
      const assigned = ok(
        await hd('POST', '/tickets/bulk', {
          ticketIds: [t1.id, t2.id],
          action: 'assign',
          assigneeUserId: agent.id,
        }),
        200,
      );
      expect(assigned.items.map((t: Json) => t.assigneeUserId)).toEqual([agent.id, agent.id]);
      const closed = ok(
        await hd('POST', '/tickets/bulk', { ticketIds: [t1.id, t2.id], action: 'close' }),
        200,
      );
      expect(closed.items.map((t: Json) => t.status)).toEqual(['closed', 'closed']);
      expect(
        (await hd('POST', `/tickets/${t1.id}/messages`, { kind: 'public', body: 'late' }))
          .statusCode,
      ).toBe(409);
      expect(ok(await otherTenant('GET', `/tickets/${foreign.id}`), 200).status).toBe('new');
    });
  });

  describe('tickets from calls, voicemails and chats', () => {
    it('links a ticket made from a call both ways, and lets an agent make one from their own call only', async () => {
      const callId = await insertCall(db, tenantId, {
        from: '+442079460777',
        agentUserId: agent.id,
      });
      const ticket = ok(
        await asAgent('POST', '/tickets/from-call', { callId, note: 'Wants a refund' }),
        201,
      );
      expect(ticket.source).toEqual({ kind: 'call', sourceId: String(callId) });
      expect(ticket.links).toEqual([{ kind: 'call', sourceId: String(callId) }]);
      expect(ticket.subject).toBe('Call from +442079460777');
      // The caller became a contact, matched next time by the screen-pop.
      const pop = ok(await hd('GET', '/screen-pop?phone=%2B442079460777'), 200);
      expect(pop.items[0].contact.id).toBe(ticket.requesterContactId);
      expect(pop.items[0].recentTickets.map((t: Json) => t.id)).toEqual([ticket.id]);
      // The call finds its tickets.
      const byCall = ok(await hd('GET', `/tickets?sourceKind=call&sourceId=${callId}`), 200);
      expect(byCall.items.map((t: Json) => t.id)).toEqual([ticket.id]);

      const someoneElses = await insertCall(db, tenantId, { agentUserId: helpdesk.id });
      expect(
        (await asAgent('POST', '/tickets/from-call', { callId: someoneElses })).statusCode,
      ).toBe(403);
      const foreignCall = await insertCall(db, (await createTenant(db)).id);
      const foreign = await hd('POST', '/tickets/from-call', { callId: foreignCall });
      expect(foreign.statusCode).toBe(400);
      expect(foreign.json().error.details[0].field).toBe('callId');
      // Agents do not work tickets.
      expect(
        (await asAgent('POST', `/tickets/${ticket.id}/messages`, { kind: 'public', body: 'x' }))
          .statusCode,
      ).toBe(403);
      expect((await asAgent('POST', '/tickets', { subject: 'x' })).statusCode).toBe(403);
    });

    it('links a ticket made from a chat transcript both ways, and keeps both links through a merge', async () => {
      const chatId = `chat-${Date.now()}`;
      const fromChat = ok(
        await hd('POST', '/tickets/from-chat', {
          chatId,
          email: 'visitor@example.test',
          transcript: [
            {
              from: 'visitor',
              name: 'Vera Visitor',
              text: 'My order is late',
              at: '2026-01-07T10:00:00.000Z',
            },
            { from: 'agent', name: 'Sam', text: 'Let me check' },
          ],
        }),
        201,
      );
      expect(fromChat.source).toEqual({ kind: 'chat', sourceId: chatId });
      const thread = ok(await hd('GET', `/tickets/${fromChat.id}/messages`), 200).items;
      expect(thread[0]).toMatchObject({
        kind: 'public',
        channel: 'chat',
        authorContactId: fromChat.requesterContactId,
      });
      expect(thread[0].body).toContain('Vera Visitor: My order is late');
      expect(
        ok(await hd('GET', `/tickets?sourceKind=chat&sourceId=${chatId}`), 200).items.map(
          (t: Json) => t.id,
        ),
      ).toEqual([fromChat.id]);

      const callId = await insertCall(db, tenantId, { from: '+442079460778' });
      const fromCall = ok(await hd('POST', '/tickets/from-call', { callId }), 201);
      const merged = ok(
        await hd('POST', `/tickets/${fromChat.id}/merge`, { targetTicketId: fromCall.id }),
        200,
      );
      expect(merged.links).toEqual(
        expect.arrayContaining([
          { kind: 'call', sourceId: String(callId) },
          { kind: 'chat', sourceId: chatId },
          { kind: 'ticket', sourceId: String(fromChat.id) },
        ]),
      );
      const source = ok(await hd('GET', `/tickets/${fromChat.id}`), 200);
      expect(source).toMatchObject({
        status: 'closed',
        mergedIntoTicketId: fromCall.id,
        source: { kind: 'chat', sourceId: chatId },
      });
      expect(source.links).toEqual(
        expect.arrayContaining([
          { kind: 'chat', sourceId: chatId },
          { kind: 'ticket', sourceId: String(fromCall.id) },
        ]),
      );
      // The chat's messages moved to the target, saying where from.
      const targetThread = ok(await hd('GET', `/tickets/${fromCall.id}/messages`), 200).items;
      expect(
        targetThread.some((m: Json) => m.movedFromTicketId === fromChat.id && m.channel === 'chat'),
      ).toBe(true);
      expect(ok(await hd('GET', `/tickets/${fromChat.id}/messages`), 200).items).toEqual([]);
      // The chat now finds both tickets: the merged one and the one it lives on in.
      const byChat = ok(
        await hd('GET', `/tickets?sourceKind=chat&sourceId=${chatId}&sort=id`),
        200,
      );
      expect(byChat.items.map((t: Json) => t.id).sort()).toEqual([fromChat.id, fromCall.id].sort());
      // Merging a closed ticket again, or into another tenant's, is refused.
      expect(
        (await hd('POST', `/tickets/${fromChat.id}/merge`, { targetTicketId: fromCall.id }))
          .statusCode,
      ).toBe(409);
      const foreign = ok(await otherTenant('POST', '/tickets', { subject: 'Theirs' }), 201);
      const cross = await hd('POST', `/tickets/${fromCall.id}/merge`, {
        targetTicketId: foreign.id,
      });
      expect(cross.statusCode).toBe(400);
      expect(cross.json().error.details[0].field).toBe('targetTicketId');
    });

    it('makes tickets from a voicemail and from an offline form', async () => {
      const callId = await insertCall(db, tenantId, { from: '+442079460779' });
      const vm = await db
        .insertInto('voicemails')
        .values({
          tenantId,
          callId,
          callLinkedid: `vm-${callId}`,
          boxUserId: agent.id,
          fromNumber: '+442079460779',
          durationMs: 12_000,
          recordingName: `hd-vm-${callId}`,
        })
        .executeTakeFirstOrThrow();
      const fromVm = ok(
        await hd('POST', '/tickets/from-voicemail', {
          voicemailId: Number(vm.insertId),
          priority: 'high',
        }),
        201,
      );
      expect(fromVm.source).toEqual({ kind: 'voicemail', sourceId: String(vm.insertId) });
      expect(fromVm.links).toEqual(
        expect.arrayContaining([{ kind: 'call', sourceId: String(callId) }]),
      );
      const form = ok(
        await hd('POST', '/tickets/from-offline-form', {
          submissionId: `form-${callId}`,
          name: 'Olive Offline',
          email: 'olive@example.test',
          message: 'Call me back',
        }),
        201,
      );
      expect(form).toMatchObject({
        subject: 'Message from Olive Offline',
        source: { kind: 'offline_form', sourceId: `form-${callId}` },
      });
      const contact = ok(await hd('GET', `/contacts/${form.requesterContactId}`), 200);
      expect(contact).toMatchObject({
        firstName: 'Olive',
        lastName: 'Offline',
        emails: ['olive@example.test'],
      });
      // The widget's public form calls the same function with no user behind it.
      const widget = await ticketFromOfflineForm(systemCtx(app, tenantId), {
        name: 'Wanda Widget',
        phone: '+442079460780',
        message: 'Left on the website',
      });
      expect(widget).toMatchObject({ createdByUserId: null, source: null });
      const made = ok(await hd('GET', `/tickets/${widget.id}/history`), 200).items[0];
      expect(made).toMatchObject({ action: 'created', actorUserId: null });
    });
  });

  describe('reports', () => {
    it('counts created, solved and backlog with times and SLA achievement, as JSON and CSV', async () => {
      const t = await createTenant(db);
      const staff = await createUser(db, t.id, 'helpdesk');
      const api = apiAs(app, await tokenFor(app, staff));
      ok(
        await apiAs(app, await tokenFor(app, await createUser(db, t.id, 'tenant_admin')))(
          'POST',
          '/sla-policies',
          { priority: 'normal', firstResponseMinutes: 60, resolutionMinutes: 600 },
        ),
        201,
      );
      const one = ok(
        await api('POST', '/tickets', { subject: 'One', assigneeUserId: staff.id }),
        201,
      );
      ok(await api('POST', '/tickets', { subject: 'Two' }), 201);
      ok(await api('POST', `/tickets/${one.id}/messages`, { kind: 'public', body: 'Hi' }), 201);
      ok(
        await api(
          'PATCH',
          `/tickets/${one.id}`,
          { status: 'solved' },
          { 'if-match': `"v${ok(await api('GET', `/tickets/${one.id}`), 200).version}"` },
        ),
        200,
      );
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const to = new Date(Date.now() + 60_000).toISOString();
      const report = ok(await api('GET', `/reports/tickets?from=${from}&to=${to}`), 200);
      expect(report).toMatchObject({
        created: 2,
        solved: 1,
        backlog: 1,
        slaAchievementPercent: 100,
      });
      expect(report.firstResponse.count).toBe(1);
      expect(report.resolution.count).toBe(1);
      expect(report.perAssignee.map((a: Json) => [a.assigneeUserId, a.created])).toEqual([
        [null, 1],
        [staff.id, 1],
      ]);
      const csv = await api('GET', `/reports/tickets/export?from=${from}&to=${to}`);
      expect(csv.statusCode).toBe(200);
      expect(csv.body.split('\r\n')[1]).toMatch(/^all,2,1,1,/);
      const backwards = await api('GET', `/reports/tickets?from=${to}&to=${from}`);
      expect(backwards.statusCode).toBe(400);
      expect(backwards.json().error.details[0].field).toBe('to');
      expect((await asAgent('GET', `/reports/tickets?from=${from}&to=${to}`)).statusCode).toBe(403);
    });
  });
});
