/**
 * Follows a growing log file, line by line, by polling (one `stat` per tick): it survives the
 * file not existing yet, being truncated, and being rotated (a new inode is read from its start).
 *
 * On start it reads the last `backfillBytes` of the file first, so a restarted control plane
 * sees recent lines again instead of starting every count from zero.
 */
import { open, stat } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';

const MAX_LINE_BYTES = 1024 * 1024;

export interface LogTailOptions {
  pollMs?: number;
  backfillBytes?: number;
  /** At most this much is read per tick, so a huge backlog cannot stall the event loop. */
  maxReadBytes?: number;
}

export class LogTail {
  private offset = -1;
  private inode = -1;
  private partial: Buffer = Buffer.alloc(0);
  /** The backfill started mid-line: drop up to the first newline. */
  private skipToLineStart = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private missingLogged = false;

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly log: FastifyBaseLogger,
    private readonly options: LogTailOptions = {},
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Reads what is new now (tests use it to skip the wait for the next tick). */
  async poll(): Promise<void> {
    this.running ??= this.read().finally(() => {
      this.running = undefined;
    });
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poll()
        .catch((err: unknown) => this.log.warn({ err, file: this.file }, 'reading the log failed'))
        .finally(() => this.schedule(this.options.pollMs ?? 250));
    }, delay);
  }

  private async read(): Promise<void> {
    let info;
    try {
      info = await stat(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!this.missingLogged) this.log.warn({ file: this.file }, 'log file does not exist (yet)');
      this.missingLogged = true;
      // When it appears, it is a new file: read it from its start.
      this.offset = this.offset < 0 ? -1 : 0;
      this.inode = -1;
      return;
    }
    this.missingLogged = false;
    if (this.offset < 0) {
      // First look: only the recent tail.
      this.offset = Math.max(0, info.size - (this.options.backfillBytes ?? 256 * 1024));
      this.inode = info.ino;
      this.partial = Buffer.alloc(0);
      if (this.offset > 0) this.skipToLineStart = true;
    } else if (info.ino !== this.inode || info.size < this.offset) {
      // Rotated or truncated.
      this.offset = 0;
      this.inode = info.ino;
      this.partial = Buffer.alloc(0);
    }
    if (info.size <= this.offset) return;
    const length = Math.min(info.size - this.offset, this.options.maxReadBytes ?? 4 * 1024 * 1024);
    const handle = await open(this.file, 'r');
    let chunk: Buffer;
    try {
      chunk = Buffer.alloc(length);
      const { bytesRead } = await handle.read(chunk, 0, length, this.offset);
      chunk = chunk.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
    this.offset += chunk.length;
    let data = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    if (this.skipToLineStart) {
      const nl = data.indexOf(0x0a);
      if (nl < 0) {
        this.partial = data;
        return;
      }
      data = data.subarray(nl + 1);
      this.skipToLineStart = false;
    }
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      const line = data.subarray(start, nl).toString('utf8').replace(/\r$/, '');
      start = nl + 1;
      if (line) this.onLine(line);
    }
    // A "line" that never ends is not a log line worth keeping in memory.
    this.partial = data.length - start > MAX_LINE_BYTES ? Buffer.alloc(0) : Buffer.from(data.subarray(start));
  }
}
