import { describe, expect, it } from 'vitest';
import { parseWavHeader, wavDurationMs } from './wav.ts';

function header(dataBytes: number, sampleRate = 8000, extraChunk = false): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0);
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(1, 10);
  fmt.writeUInt32LE(sampleRate, 12);
  fmt.writeUInt32LE(sampleRate * 2, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(16, 22);
  const list = Buffer.from('LIST\x03\x00\x00\x00abc\x00', 'latin1');
  const data = Buffer.alloc(8);
  data.write('data', 0);
  data.writeUInt32LE(dataBytes, 4);
  const riff = Buffer.from('RIFF\x00\x00\x00\x00WAVE', 'latin1');
  return Buffer.concat([riff, fmt, ...(extraChunk ? [list] : []), data]);
}

describe('WAV header', () => {
  it('reads the format and where the samples are', () => {
    expect(parseWavHeader(header(16_000))).toEqual({
      sampleRate: 8000,
      channels: 1,
      bitsPerSample: 16,
      dataOffset: 44,
      dataBytes: 16_000,
    });
  });

  it('skips chunks it does not know, padded to an even size', () => {
    expect(parseWavHeader(header(100, 8000, true))?.dataOffset).toBe(56);
  });

  it('is not fooled by something that is not a WAV file', () => {
    expect(parseWavHeader(Buffer.from('{"message":"Recording not found"}'))).toBeUndefined();
  });

  it('measures the duration, trusting the file size over a stale header', () => {
    const info = parseWavHeader(header(16_000))!;
    expect(wavDurationMs(info)).toBe(1000);
    expect(wavDurationMs(info, 44 + 16_000)).toBe(1000);
    expect(wavDurationMs({ ...info, dataBytes: 0 }, 44 + 8_000)).toBe(500);
    expect(wavDurationMs(parseWavHeader(header(32_000, 16_000))!)).toBe(1000);
  });
});
