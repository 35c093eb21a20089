/**
 * Widget benchmark: `npm run bench:widget` (prints figures, asserts nothing about speed).
 *
 *   - the loader's size, gzip (the budget is 5 KB);
 *   - click on "Start call" → the agent's desk phone ringing, over 20 calls (p50, p95): the call
 *     ticket, the lazy load of the call UI with SIP.js, SIP over WS, Stasis, the ACD, the
 *     originate to the phone — everything a visitor waits through;
 *   - agent answer → audio arriving in the page (getStats inbound bytes with energy).
 *
 * It runs inside vitest (the suite's global setup gives it a fresh database and the Asterisk
 * pair); run directly with tsx, it starts vitest on itself. Each call uses a fresh page, so the
 * lazy bundle comes from the browser's cache after the first one, as for a returning visitor.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const HERE = fileURLToPath(import.meta.url);
const CALLS = Number(process.env.BENCH_CALLS ?? 20);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

if (!process.env.VITEST) {
  const { startVitest } = await import('vitest/node');
  const vitest = await startVitest('test', [], {
    include: [path.relative(process.cwd(), HERE)],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    watch: false,
  });
  await vitest?.close();
  process.exit(process.exitCode ?? 0);
} else {
  const { describe, it, beforeAll, afterAll } = await import('vitest');
  const { execFileSync } = await import('node:child_process');
  const { WIDGET_DIST } = await import('../../control/src/modules/widgets/plugin.ts');
  const { launchBrowser, thirdPartySite } = await import('../support/browser.ts');
  const { CallHarness, until } = await import('../support/call-harness.ts');
  const { createUser, tokenFor } = await import('../support/fixtures.ts');
  const { createQueue } = await import('../support/telephony-fixtures.ts');
  const { testConfig } = await import('../support/app.ts');

  describe('widget benchmark', () => {
    const h = new CallHarness();
    let browser: Awaited<ReturnType<typeof launchBrowser>>;
    let site: Awaited<ReturnType<typeof thirdPartySite>>;
    let base = '';
    let publicId = '';

    beforeAll(async () => {
      execFileSync(process.execPath, [path.join(WIDGET_DIST, '../build.mjs')], {
        stdio: 'inherit',
      });
      const widget = { ...testConfig().widget, callsPerIpPerWindow: 10_000 };
      await h.start({ widget });
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
      site = await thirdPartySite(
        () =>
          `<!doctype html><body><script src="${base}/widget.js?id=${publicId}" async></script></body>`,
      );
      browser = await launchBrowser(440);
    });

    afterAll(async () => {
      await browser?.close();
      await site?.close();
      await h.stop();
    });

    it(`click to agent ringing over ${CALLS} calls`, async () => {
      const agent = await h.agent();
      const queueId = await createQueue(h.db, h.tenantId, {
        members: [{ userId: agent.id }],
        ringTimeoutSeconds: 20,
      });
      const admin = await tokenFor(h.app, await createUser(h.db, h.tenantId, 'tenant_admin'));
      const res = await h.post(admin, '/widgets', {
        name: 'Bench',
        callQueueId: queueId,
        allowedOrigins: [site.origin],
        prechatFields: [],
      });
      publicId = res.json().publicId;
      await h.setState(agent, 'available');

      const ringing: number[] = [];
      const audio: number[] = [];
      for (let i = 0; i < CALLS; i++) {
        await h.untilStatus(agent, 'available');
        const page = await browser.context.newPage();
        await page.goto(`${site.origin}/bench`);
        await page.locator('#calldock-widget button.b').click({ timeout: 10_000 });
        const clicked = Date.now();
        await page.getByRole('button', { name: 'Call us' }).click();
        const phone = await h.phones.ringing(agent.phone, 15_000);
        ringing.push(Date.now() - clicked);
        const answered = Date.now();
        await h.phones.answer(phone);
        const talk = await h.phones.talk(phone, 'tone:1000');
        await until(
          'audio in the page',
          async () => {
            const s = await page.evaluate(async () => {
              const pc = (
                window as unknown as { calldockCall?: { peerConnection?: RTCPeerConnection } }
              ).calldockCall?.peerConnection;
              let bytes = 0;
              let energy = 0;
              (await pc?.getStats())?.forEach(
                (r: {
                  type: string;
                  kind?: string;
                  bytesReceived?: number;
                  totalAudioEnergy?: number;
                }) => {
                  if (r.type === 'inbound-rtp' && r.kind === 'audio') {
                    bytes += r.bytesReceived ?? 0;
                    energy += r.totalAudioEnergy ?? 0;
                  }
                },
              );
              return { bytes, energy };
            });
            return s.bytes > 0 && s.energy > 0 ? true : undefined;
          },
          10_000,
        );
        audio.push(Date.now() - answered);
        await talk.stop();
        await h.phones.hangup(phone);
        await page.locator('p[data-state="ended"]').waitFor({ timeout: 10_000 });
        await page.close();
      }
      const loader = gzipSync(readFileSync(path.join(WIDGET_DIST, 'widget.js'))).length;
      const lines = [
        `widget.js loader: ${loader} B gzip (budget 5120 B, ${((loader / 5120) * 100).toFixed(0)}%)`,
        `click → agent ringing, ${CALLS} calls: p50 ${percentile(ringing, 50)} ms, p95 ${percentile(ringing, 95)} ms (goal p50 < 800, p95 < 1500)`,
        `agent answer → audio in the page: p50 ${percentile(audio, 50)} ms, p95 ${percentile(audio, 95)} ms`,
        `first call (cold lazy load) ${ringing[0]} ms vs later median ${percentile(ringing.slice(1), 50)} ms`,
      ];
      console.log(`\n${lines.join('\n')}\n`);
    });
  });
}
