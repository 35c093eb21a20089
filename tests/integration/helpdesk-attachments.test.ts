/**
 * Ticket attachments on the real database and a real folder: a good upload is stored once and
 * served to the tenant's helpdesk staff only; an upload over the size limit, one whose name
 * lies about its content, one past the tenant's quota, and one to another tenant's ticket are
 * refused with the right status and leave neither a row nor a file behind.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../control/src/db/database.ts';
import { buildTestApp, testConfig } from '../support/app.ts';
import { createTenant, createUser, tokenFor } from '../support/fixtures.ts';
import { apiAs, exeBytes, multipartFile, pngBytes, type Api } from '../support/helpdesk.ts';

type App = Awaited<ReturnType<typeof buildTestApp>>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers
type Json = any;

const MAX = 4096;
const QUOTA = 9_000;

describe('helpdesk attachments', () => {
  const db = createDatabase(inject('databaseUrl'), { connectionLimit: 2 });
  let app: App;
  let dir: string;
  let tenantId: number;
  let staff: Api;
  let agent: Api;
  let supervisor: Api;
  let stranger: Api;
  let ticketId: number;

  const ok = (
    res: { statusCode: number; body: string; json: () => unknown },
    status: number,
  ): Json => {
    if (res.statusCode !== status)
      throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
    return res.body ? res.json() : undefined;
  };
  const upload = (api: Api, ticket: number, name: string, content: Buffer, type?: string) => {
    const { payload, headers } = multipartFile(name, content, type);
    return api('POST', `/tickets/${ticket}/attachments`, payload, headers);
  };
  /** Every file under the storage folder, temporary ones included. */
  async function files(): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name))
      .sort();
  }
  const rows = async () =>
    (
      await db
        .selectFrom('ticketAttachments')
        .select('id')
        .where('tenantId', '=', tenantId)
        .execute()
    ).length;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'calldock-attachments-'));
    app = await buildTestApp({
      helpdesk: {
        ...testConfig().helpdesk,
        attachmentsDir: dir,
        attachmentMaxBytes: MAX,
        tenantQuotaBytes: QUOTA,
        slaCheckSeconds: 0,
      },
    });
    tenantId = (await createTenant(db)).id;
    staff = apiAs(app, await tokenFor(app, await createUser(db, tenantId, 'helpdesk')));
    agent = apiAs(app, await tokenFor(app, await createUser(db, tenantId, 'agent')));
    supervisor = apiAs(app, await tokenFor(app, await createUser(db, tenantId, 'supervisor')));
    stranger = apiAs(
      app,
      await tokenFor(app, await createUser(db, (await createTenant(db)).id, 'helpdesk')),
    );
    ticketId = ok(await staff('POST', '/tickets', { subject: 'Screenshots' }), 201).id;
  });

  afterAll(async () => {
    await app.close();
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a file outside the database and serves it to the tenant’s staff only', async () => {
    const content = pngBytes(2000);
    const attachment = ok(await upload(staff, ticketId, 'screen.png', content, 'image/png'), 201);
    expect(attachment).toMatchObject({
      ticketId,
      fileName: 'screen.png',
      contentType: 'image/png',
      sizeBytes: 2000,
      sha256: createHash('sha256').update(content).digest('hex'),
    });
    const stored = await files();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toContain(`${path.sep}${tenantId}${path.sep}`);

    const download = await supervisor('GET', `/tickets/${ticketId}/attachments/${attachment.id}`);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('image/png');
    expect(download.headers['x-content-type-options']).toBe('nosniff');
    expect(download.rawPayload.equals(content)).toBe(true);

    // Put on a reply, the message lists it.
    const message = ok(
      await staff('POST', `/tickets/${ticketId}/messages`, {
        kind: 'public',
        body: 'See attached',
        attachmentIds: [attachment.id],
      }),
      201,
    );
    expect(message.attachmentIds).toEqual([attachment.id]);
    const listed = ok(await staff('GET', `/tickets/${ticketId}/attachments`), 200).items;
    expect(listed.map((a: Json) => [a.id, a.messageId])).toEqual([[attachment.id, message.id]]);

    // Agents may read tickets but not open attachments; another tenant cannot even see them.
    expect(
      (await agent('GET', `/tickets/${ticketId}/attachments/${attachment.id}`)).statusCode,
    ).toBe(403);
    expect(
      (await stranger('GET', `/tickets/${ticketId}/attachments/${attachment.id}`)).statusCode,
    ).toBe(404);
    const history = ok(await staff('GET', `/tickets/${ticketId}/history`), 200).items;
    expect(
      history.some(
        (h: Json) => h.action === 'attached' && h.newValue.attachmentId === attachment.id,
      ),
    ).toBe(true);
  });

  it('refuses a file over the size limit with 413 and stores nothing', async () => {
    const before = { files: await files(), rows: await rows() };
    const res = await upload(staff, ticketId, 'big.png', pngBytes(MAX + 1));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.details[0].field).toBe('file');
    expect({ files: await files(), rows: await rows() }).toEqual(before);
  });

  it('refuses a file whose name lies about its content with 415 and stores nothing', async () => {
    const before = { files: await files(), rows: await rows() };
    // An executable named like a picture, sent as one.
    const exe = await upload(staff, ticketId, 'holiday.png', exeBytes(), 'image/png');
    expect(exe.statusCode).toBe(415);
    expect(exe.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    // A real PDF named .png is a lie too; and an executable with an honest name is still refused.
    expect(
      (await upload(staff, ticketId, 'scan.png', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n')))
        .statusCode,
    ).toBe(415);
    expect((await upload(staff, ticketId, 'setup.exe', exeBytes())).statusCode).toBe(415);
    // A text file named .exe: the name claims an executable.
    expect(
      (await upload(staff, ticketId, 'notes.exe', Buffer.from('plain words\n'))).statusCode,
    ).toBe(415);
    expect({ files: await files(), rows: await rows() }).toEqual(before);
  });

  it('refuses uploads past the tenant’s quota, and any upload to another tenant’s ticket', async () => {
    ok(await upload(staff, ticketId, 'a.png', pngBytes(4000)), 201);
    const before = { files: await files(), rows: await rows() };
    // 2000 + 4000 stored; 4000 more passes the 9 000 quota.
    const over = await upload(staff, ticketId, 'b.png', pngBytes(4000));
    expect(over.statusCode).toBe(413);
    expect(over.json().error.code).toBe('QUOTA_EXCEEDED');
    expect({ files: await files(), rows: await rows() }).toEqual(before);

    const foreign = await upload(stranger, ticketId, 'c.png', pngBytes(100));
    expect(foreign.statusCode).toBe(404);
    expect(await files()).toEqual(before.files);
    expect(
      await db
        .selectFrom('ticketAttachments')
        .select('id')
        .where('ticketId', '=', ticketId)
        .execute(),
    ).toHaveLength(before.rows);
    // A closed ticket takes no more files.
    const closed = ok(await staff('POST', '/tickets', { subject: 'Done', status: 'closed' }), 201);
    expect((await upload(staff, closed.id, 'late.png', pngBytes(100))).statusCode).toBe(409);
    expect(await files()).toEqual(before.files);
    // Agents may not upload; a request without a file is refused naming the field.
    expect((await upload(agent, ticketId, 'd.png', pngBytes(100))).statusCode).toBe(403);
    const empty = await staff('POST', `/tickets/${ticketId}/attachments`, { file: 'x' });
    expect(empty.statusCode).toBe(415);
    expect(empty.json().error.details[0].field).toBe('file');
  });
});
