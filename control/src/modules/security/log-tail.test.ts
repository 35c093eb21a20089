import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LogTail } from './log-tail.ts';

describe('LogTail', () => {
  const dirs: string[] = [];
  const tmpFile = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'calldock-tail-'));
    dirs.push(dir);
    return path.join(dir, 'messages');
  };
  const follow = (file: string, backfillBytes?: number) => {
    const lines: string[] = [];
    const tail = new LogTail(file, (l) => lines.push(l), pino({ level: 'silent' }), {
      ...(backfillBytes !== undefined ? { backfillBytes } : {}),
    });
    return { tail, lines };
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reads whole lines as they are appended, holding back a partial one', async () => {
    const file = tmpFile();
    writeFileSync(file, '');
    const { tail, lines } = follow(file);
    await tail.poll();
    appendFileSync(file, 'one\ntwo\nthr');
    await tail.poll();
    expect(lines).toEqual(['one', 'two']);
    appendFileSync(file, 'ee\n');
    await tail.poll();
    expect(lines).toEqual(['one', 'two', 'three']);
  });

  it('starts with only the recent tail of a big file, from a line start', async () => {
    const file = tmpFile();
    writeFileSync(file, `${'old line\n'.repeat(1000)}recent 1\nrecent 2\n`);
    const { tail, lines } = follow(file, 20);
    await tail.poll();
    expect(lines).toEqual(['recent 1', 'recent 2']);
  });

  it('reads a rotated or truncated file from its start, and waits for a missing one', async () => {
    const file = tmpFile();
    const { tail, lines } = follow(file);
    await tail.poll();
    writeFileSync(file, 'first\n');
    await tail.poll();
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'after rotation\n');
    await tail.poll();
    truncateSync(file, 0);
    await tail.poll();
    appendFileSync(file, 'after truncation\n');
    await tail.poll();
    expect(lines).toEqual(['first', 'after rotation', 'after truncation']);
  });
});
