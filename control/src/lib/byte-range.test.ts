import { describe, expect, it } from 'vitest';
import { parseRange, sliceStream } from './byte-range.ts';

describe('parseRange', () => {
  it('sends the whole file without a Range header', () => {
    expect(parseRange(undefined, 100)).toEqual({ kind: 'full' });
  });

  it('reads a closed range and clamps its end to the file', () => {
    expect(parseRange('bytes=10-19', 100)).toEqual({ kind: 'partial', start: 10, end: 19 });
    expect(parseRange('bytes=90-500', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
  });

  it('reads an open range to the end of the file', () => {
    expect(parseRange('bytes=40-', 100)).toEqual({ kind: 'partial', start: 40, end: 99 });
  });

  it('reads a suffix range as the last bytes', () => {
    expect(parseRange('bytes=-30', 100)).toEqual({ kind: 'partial', start: 70, end: 99 });
    expect(parseRange('bytes=-300', 100)).toEqual({ kind: 'partial', start: 0, end: 99 });
  });

  it('refuses a range that starts past the end, or an empty suffix', () => {
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=200-300', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores what it does not understand and sends the whole file', () => {
    for (const header of ['items=0-1', 'bytes=5-2', 'bytes=0-1,5-6', 'bytes=-', 'bytes=a-b', '']) {
      expect(parseRange(header, 100), header).toEqual({ kind: 'full' });
    }
  });
});

describe('sliceStream', () => {
  async function collect(chunks: number[][], start: number, end: number): Promise<number[]> {
    async function* source() {
      for (const c of chunks) yield Uint8Array.from(c);
    }
    const out: number[] = [];
    for await (const part of sliceStream(source(), start, end)) out.push(...part);
    return out;
  }

  it('cuts the requested bytes across chunk boundaries', async () => {
    expect(
      await collect(
        [
          [0, 1, 2],
          [3, 4, 5],
          [6, 7],
        ],
        2,
        6,
      ),
    ).toEqual([2, 3, 4, 5, 6]);
    expect(
      await collect(
        [
          [0, 1, 2],
          [3, 4, 5],
        ],
        0,
        0,
      ),
    ).toEqual([0]);
    expect(
      await collect(
        [
          [0, 1, 2],
          [3, 4, 5],
        ],
        3,
        5,
      ),
    ).toEqual([3, 4, 5]);
  });

  it('stops reading the source once past the range', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 10; i++) {
        pulled += 1;
        yield Uint8Array.from([i]);
      }
    }
    const out: number[] = [];
    for await (const part of sliceStream(source(), 1, 2)) out.push(...part);
    expect(out).toEqual([1, 2]);
    expect(pulled).toBe(3);
  });
});
