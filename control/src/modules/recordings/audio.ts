/**
 * Serves a stored Asterisk recording (call recordings, voicemail) to a browser's audio player:
 * fetched from Asterisk over ARI, so the control plane never needs Asterisk's filesystem, and
 * cut to the requested byte range, since Asterisk itself sends only whole files.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Telephony } from '../../ari/telephony.ts';
import { parseRange, sliceStream } from '../../lib/byte-range.ts';
import { AppError } from '../../lib/errors.ts';

export const recordingNotFound = () =>
  new AppError('RECORDING_NOT_FOUND', 'This recording does not exist', 404);

const wav = (description: string) => ({
  description,
  content: { 'audio/wav': { schema: Type.String({ format: 'binary' }) } },
});

/** Response schemas of an audio route, for OpenAPI (streams are not serialised). */
export const audioResponses = {
  200: wav('The whole recording (WAV). `Accept-Ranges: bytes`: send `Range: bytes=a-b` to seek.'),
  206: wav('The requested byte range of the recording'),
};

export async function sendRecording(
  telephony: Telephony,
  request: FastifyRequest,
  reply: FastifyReply,
  recordingName: string,
): Promise<FastifyReply> {
  const audio = await telephony.storedRecording(recordingName);
  if (!audio) throw recordingNotFound();
  let body = Readable.fromWeb(audio.body as WebReadableStream<Uint8Array>);
  let size = audio.size;
  if (size === undefined) {
    // Without a length there is no range to compute: read the file once (rare; Asterisk sends one).
    const whole = Buffer.concat(await body.toArray());
    size = whole.length;
    body = Readable.from([whole]);
  }

  reply
    .header('Accept-Ranges', 'bytes')
    .header('Content-Type', 'audio/wav')
    .header('Cache-Control', 'private, no-store');
  const range = parseRange(request.headers.range, size);
  if (range.kind === 'unsatisfiable') {
    body.destroy();
    reply.header('Content-Range', `bytes */${size}`);
    throw new AppError('RANGE_NOT_SATISFIABLE', `The recording has ${size} bytes`, 416, { size });
  }
  if (range.kind === 'full') {
    return reply.status(200).header('Content-Length', size).send(body);
  }
  const { start, end } = range;
  return reply
    .status(206)
    .header('Content-Range', `bytes ${start}-${end}/${size}`)
    .header('Content-Length', end - start + 1)
    .send(Readable.from(sliceStream(body, start, end)));
}
