/**
 * Headless Chromium for the end-to-end tests (Debian's /usr/bin/chromium driven by
 * playwright-core), with fake media: the microphone plays a WAV tone of our choosing, so a test
 * can tell by frequency who hears whom. Also: a tiny HTTP server standing in for a customer's
 * website on an origin of its own.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** 16-bit mono PCM WAV of a sine tone. */
export function toneWav(hz: number, seconds = 30, sampleRate = 48_000): Buffer {
  const samples = seconds * sampleRate;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    data.writeInt16LE(
      Math.round(Math.sin((2 * Math.PI * hz * i) / sampleRate) * 0.5 * 32767),
      i * 2,
    );
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A browser whose microphone plays `toneHz`. Fails clearly when Chromium is missing. */
export async function launchBrowser(toneHz = 440): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (npm test installs it)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'calldock-chromium-'));
  const wav = path.join(dir, 'mic.wav');
  writeFileSync(wav, toneWav(toneHz));
  const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: false,
    timeout: 30_000,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
    ],
  });
  return {
    context,
    close: async () => {
      const pid = (
        context.browser() as unknown as { process?: () => { pid?: number } } | null
      )?.process?.()?.pid;
      await Promise.race([context.close(), new Promise((r) => setTimeout(r, 5_000))]);
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A customer's website: serves `html()` at every path, on an origin of its own. */
export async function thirdPartySite(
  html: () => string,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
