/**
 * Ticket attachments on disk, outside the database: `<dir>/<tenantId>/<uuid>`. An upload is
 * streamed to a temporary file while it is counted and hashed; its first bytes decide its type.
 * Only when the size, the type, the name and the tenant's quota all pass is the file moved into
 * place and its row written, in one transaction whose failure removes the file again: a refused
 * upload leaves neither a file nor a row.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { HelpdeskConfig } from '../../config.ts';
import { AppError, createError } from '../../lib/errors.ts';
import { iso } from '../routing/common.ts';
import type { HelpdeskCtx } from './context.ts';
import { detectType, nameContradicts, SNIFF_BYTES } from './magic.ts';
import type { Attachment } from './schemas.ts';
import { findTicketRow, history, ticketNotFound } from './tickets.ts';

export const attachmentNotFound = createError(
  'ATTACHMENT_NOT_FOUND',
  'Attachment %s not found',
  404,
);

export interface Upload {
  fileName: string;
  stream: Readable;
  /** True once the stream was cut at the size limit (busboy's `truncated`). */
  truncated: () => boolean;
}

const tooLarge = (max: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `A file may be at most ${max} bytes`, 413, [
    { field: 'file', message: `is larger than ${max} bytes` },
  ]);
const unsupported = (message: string) =>
  new AppError('UNSUPPORTED_MEDIA_TYPE', 'This kind of file is not accepted', 415, [
    { field: 'file', message },
  ]);

// eslint-disable-next-line no-control-regex -- control characters are what is removed
const UNSAFE_IN_NAME = /[\u0000-\u001f"<>|:*?]/g;

function safeName(name: string): string {
  const base = path.basename(name.replace(/\\/g, '/')).replace(UNSAFE_IN_NAME, '_').trim();
  return (base || 'file').slice(0, 255);
}

function toAttachment(r: {
  id: number;
  ticketId: number;
  messageId: number | null;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  uploadedByUserId: number | null;
  createdAt: Date;
}): Attachment {
  return {
    id: Number(r.id),
    ticketId: Number(r.ticketId),
    messageId: r.messageId === null ? null : Number(r.messageId),
    fileName: r.fileName,
    contentType: r.contentType,
    sizeBytes: Number(r.sizeBytes),
    sha256: r.sha256,
    uploadedByUserId: r.uploadedByUserId === null ? null : Number(r.uploadedByUserId),
    createdAt: iso(r.createdAt),
  };
}

export async function listAttachments(
  db: Executor,
  tenantId: number,
  ticketId: number,
): Promise<Attachment[]> {
  if (!(await findTicketRow(db, tenantId, ticketId))) throw ticketNotFound(ticketId);
  const rows = await db
    .selectFrom('ticketAttachments')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('ticketId', '=', ticketId)
    .orderBy('id')
    .execute();
  return rows.map(toAttachment);
}

/** Checks the ticket before anything is read, so another tenant's id costs no upload. */
export async function assertTicket(
  db: Executor,
  tenantId: number,
  ticketId: number,
): Promise<void> {
  if (!(await findTicketRow(db, tenantId, ticketId))) throw ticketNotFound(ticketId);
}

export async function storeAttachment(
  ctx: HelpdeskCtx,
  config: HelpdeskConfig,
  ticketId: number,
  upload: Upload,
): Promise<Attachment> {
  const dir = path.resolve(config.attachmentsDir);
  const tmpDir = path.join(dir, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const tmp = path.join(tmpDir, `${randomUUID()}.part`);
  const hash = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  let placed: string | undefined;
  try {
    await pipeline(
      upload.stream,
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          hash.update(chunk);
          if (head.length < SNIFF_BYTES)
            head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
          done(null, chunk);
        },
      }),
      createWriteStream(tmp, { flags: 'wx', mode: 0o600 }),
    );
    if (upload.truncated() || size > config.attachmentMaxBytes)
      throw tooLarge(config.attachmentMaxBytes);
    if (size === 0)
      throw new AppError('VALIDATION_FAILED', 'Invalid upload', 400, [
        { field: 'file', message: 'is empty' },
      ]);
    const fileName = safeName(upload.fileName);
    const type = detectType(head);
    if (!type)
      throw unsupported(
        'its content is not an accepted type (images, PDF, text, Office documents, WAV)',
      );
    if (nameContradicts(fileName, type))
      throw unsupported(`its name says one type but its content is ${type.contentType}`);
    const sha256 = hash.digest('hex');
    const storageKey = `${ctx.tenantId}/${randomUUID()}`;
    const row = await ctx.db.transaction().execute(async (trx) => {
      // The tenant row is the quota's lock: two uploads at once cannot both squeeze under it.
      await trx
        .selectFrom('tenants')
        .select('id')
        .where('id', '=', ctx.tenantId)
        .forUpdate()
        .execute();
      const ticket = await findTicketRow(trx, ctx.tenantId, ticketId, { forUpdate: true });
      if (!ticket) throw ticketNotFound(ticketId);
      if (ticket.status === 'closed') {
        throw new AppError('TICKET_CLOSED', `Ticket ${ticketId} is closed`, 409);
      }
      const used = await trx
        .selectFrom('ticketAttachments')
        .select(sql<string>`coalesce(sum(size_bytes), 0)`.as('used'))
        .where('tenantId', '=', ctx.tenantId)
        .executeTakeFirstOrThrow();
      if (Number(used.used) + size > config.tenantQuotaBytes) {
        throw new AppError('QUOTA_EXCEEDED', 'The tenant’s attachment storage is full', 413, [
          {
            field: 'file',
            message: `would take attachments past the quota of ${config.tenantQuotaBytes} bytes`,
          },
        ]);
      }
      const result = await trx
        .insertInto('ticketAttachments')
        .values({
          tenantId: ctx.tenantId,
          ticketId,
          fileName,
          contentType: type.contentType,
          sizeBytes: size,
          sha256,
          storageKey,
          uploadedByUserId: ctx.actorUserId,
        })
        .executeTakeFirstOrThrow();
      const id = Number(result.insertId);
      await history(trx, ctx.tenantId, ticketId, ctx.actorUserId, 'attached', null, undefined, {
        attachmentId: id,
        fileName,
        sizeBytes: size,
      });
      // Into place before the commit: a failed commit removes it below.
      const final = path.join(dir, storageKey);
      await mkdir(path.dirname(final), { recursive: true });
      await rename(tmp, final);
      placed = final;
      return trx
        .selectFrom('ticketAttachments')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
    });
    placed = undefined;
    const attachment = toAttachment(row);
    ctx.hub?.publish(ctx.tenantId, 'ticket.attachment', attachment);
    return attachment;
  } catch (err) {
    // Drain what the client still sends, so the refusal is answered, not reset.
    upload.stream.resume();
    if (placed) await rm(placed, { force: true });
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

export async function openAttachment(
  db: Executor,
  config: HelpdeskConfig,
  tenantId: number,
  ticketId: number,
  attachmentId: number,
) {
  const row = await db
    .selectFrom('ticketAttachments')
    .selectAll()
    .where('tenantId', '=', tenantId)
    .where('ticketId', '=', ticketId)
    .where('id', '=', attachmentId)
    .executeTakeFirst();
  if (!row) throw attachmentNotFound(attachmentId);
  const file = path.join(path.resolve(config.attachmentsDir), row.storageKey);
  const info = await stat(file).catch(() => undefined);
  if (!info)
    throw new AppError(
      'ATTACHMENT_MISSING',
      `Attachment ${attachmentId}'s file is missing from storage`,
      410,
    );
  return { attachment: toAttachment(row), size: info.size, stream: createReadStream(file) };
}
