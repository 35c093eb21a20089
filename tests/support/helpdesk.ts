/** Small helpers for the helpdesk tests: an API caller, CDR rows, multipart bodies. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Db } from '../../control/src/db/database.ts';
import { bearer } from './fixtures.ts';

export type Api = (
  method: string,
  url: string,
  payload?: unknown,
  headers?: Record<string, string>,
) => Promise<LightMyRequestResponse>;

export function apiAs(app: FastifyInstance, token: string): Api {
  return (method, url, payload, headers = {}) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { ...bearer(token), ...headers },
      ...(payload !== undefined ? { payload: payload as string } : {}),
    });
}

/** A finished call's CDR row, as the call engine writes it. */
export async function insertCall(
  db: Db,
  tenantId: number,
  values: {
    from?: string;
    to?: string;
    agentUserId?: number | null;
    direction?: 'inbound' | 'outbound';
  } = {},
): Promise<number> {
  const started = new Date(Date.now() - 120_000);
  const result = await db
    .insertInto('calls')
    .values({
      tenantId,
      linkedid: `hd-${randomBytes(6).toString('hex')}`,
      direction: values.direction ?? 'inbound',
      channelKind: 'pstn',
      state: 'ended',
      fromNumber: values.from ?? '+442079460001',
      toNumber: values.to ?? '+442079460999',
      agentUserId: values.agentUserId ?? null,
      startedAt: started,
      answeredAt: new Date(started.getTime() + 5_000),
      endedAt: new Date(started.getTime() + 65_000),
      talkMs: 60_000,
    })
    .executeTakeFirstOrThrow();
  return Number(result.insertId);
}

/** A multipart/form-data body with one file part named `file`. */
export function multipartFile(
  fileName: string,
  content: Buffer,
  contentType = 'application/octet-stream',
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----calldock${randomBytes(8).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n` +
        `Content-Type: ${contentType}\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** The first bytes of a PNG, then filler: a PNG as far as content sniffing goes. */
export const pngBytes = (size = 256) =>
  Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    randomBytes(Math.max(0, size - 8)),
  ]);

/** A Windows executable's header: MZ, then a PE stub. */
export const exeBytes = () =>
  Buffer.concat([
    Buffer.from('MZ'),
    Buffer.alloc(58),
    Buffer.from([0x80, 0, 0, 0]),
    randomBytes(200),
  ]);
