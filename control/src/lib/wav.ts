/**
 * Just enough of RIFF/WAVE to know how long a recording is: Asterisk writes 16-bit PCM WAV
 * (8 kHz for `wav`, 16 kHz for `wav16`) with a `fmt ` and a `data` chunk.
 */
export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Where the samples start in the file. */
  dataOffset: number;
  /** Bytes of samples, as the header says (may be 0 while the file is still being written). */
  dataBytes: number;
}

/** Reads the header from the first bytes of a file; undefined when they are not a WAV header. */
export function parseWavHeader(head: Uint8Array): WavInfo | undefined {
  const buf = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (
    buf.length < 12 ||
    buf.toString('ascii', 0, 4) !== 'RIFF' ||
    buf.toString('ascii', 8, 12) !== 'WAVE'
  ) {
    return undefined;
  }
  let format: Omit<WavInfo, 'dataOffset' | 'dataBytes'> | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && body + 16 <= buf.length) {
      format = {
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      return format ? { ...format, dataOffset: body, dataBytes: size } : undefined;
    }
    // Chunks are padded to an even size.
    offset = body + size + (size % 2);
  }
  return undefined;
}

/**
 * Milliseconds of audio in a WAV file of `fileBytes` bytes. The file size wins over the header's
 * data size when they disagree: a file whose writer was cut off keeps a header that is out of date.
 */
export function wavDurationMs(info: WavInfo, fileBytes?: number): number {
  const bytesPerSecond = (info.sampleRate * info.channels * info.bitsPerSample) / 8;
  if (bytesPerSecond <= 0) return 0;
  const onDisk = fileBytes !== undefined ? Math.max(0, fileBytes - info.dataOffset) : undefined;
  const bytes =
    onDisk !== undefined && (info.dataBytes === 0 || info.dataBytes > onDisk)
      ? onDisk
      : info.dataBytes;
  return Math.round((bytes * 1000) / bytesPerSecond);
}
