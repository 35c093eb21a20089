/**
 * The widget end to end, in two headless Chromiums: a customer's page on another origin embeds
 * the one-line snippet and its visitor (fake microphone: 440 Hz) clicks Call, fills the
 * pre-call form and lands in the widget's queue; an agent's console (its own browser, fake
 * microphone: 1000 Hz) rings and answers; getStats() on both pages shows audio arriving with
 * sound in it, both ways; the CDR says it was a web call from that page; the short-lived
 * endpoint is gone from Asterisk after the hang-up. A page on an origin not on the allow-list
 * gets no ticket, and hammering the ticket endpoint meets 429. The chat round trip too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CONSOLE_DIST, ensureConsoleBuilt } from '../../control/scripts/console-build.mjs';
import { WIDGET_DIST } from '../../control/src/modules/widgets/plugin.ts';
import { consoleLogin, goAvailable, softphoneStats } from '../support/console-page.ts';
import { launchBrowser, thirdPartySite, type Browser } from '../support/browser.ts';
import { CallHarness, until } from '../support/call-harness.ts';
import { createUser, tokenFor, type TestUser } from '../support/fixtures.ts';
import { createQueue } from '../support/telephony-fixtures.ts';
import WebSocket from 'ws';
import { bearer } from '../support/fixtures.ts';

/** Inbound audio of the page's call: bytes received and the energy of what it played. */
async function inbound(page: Page): Promise<{ bytes: number; energy: number }> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { calldockCall?: { peerConnection?: RTCPeerConnection } })
      .calldockCall?.peerConnection;
    if (!pc) return { bytes: 0, energy: 0 };
    let bytes = 0;
    let energy = 0;
    (await pc.getStats()).forEach(
      (s: { type: string; kind?: string; bytesReceived?: number; totalAudioEnergy?: number }) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          bytes += s.bytesReceived ?? 0;
          energy += s.totalAudioEnergy ?? 0;
        }
      },
    );
    return { bytes, energy };
  });
}

describe('website widget in a browser', () => {
  const h = new CallHarness();
  let browser: Browser;
  let agentBrowser: Browser;
  let agentPage: Page;
  let base: string;
  let agent: TestUser;
  let publicId = '';
  const snippet =
    () => `<!doctype html><html><head><title>Shop</title></head><body><h1>Our shop</h1>
<script src="${base}/widget.js?id=${publicId}" async></script></body></html>`;
  let site: Awaited<ReturnType<typeof thirdPartySite>>;
  let foreign: Awaited<ReturnType<typeof thirdPartySite>>;

  // No timeout of its own: taking the telephony lock may wait for another file (the chaos
  // suite holds it for minutes); the suite's hookTimeout is longer than that wait.
  beforeAll(async () => {
    if (!existsSync(path.join(WIDGET_DIST, 'call.js'))) {
      execFileSync(process.execPath, [path.join(WIDGET_DIST, '../build.mjs')], {
        stdio: 'inherit',
      });
    }
    ensureConsoleBuilt();
    await h.start({ consoleDist: CONSOLE_DIST });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    site = await thirdPartySite(snippet);
    foreign = await thirdPartySite(snippet);
    const admin = await tokenFor(h.app, await createUser(h.db, h.tenantId, 'tenant_admin'));
    // The agent works in the console: a WebRTC phone of their own, as an admin gives one.
    agent = await createUser(h.db, h.tenantId, 'agent', { displayName: 'Wendy Web', extension: '2301' });
    const phone = await h.post(admin, '/endpoints/agents', { userId: agent.id });
    expect(phone.statusCode, phone.body).toBe(201);
    const queueId = await createQueue(h.db, h.tenantId, {
      members: [{ userId: agent.id }],
      ringTimeoutSeconds: 20,
    });
    const res = await h.post(admin, '/widgets', {
      name: 'Shop widget',
      label: 'Talk to us',
      callQueueId: queueId,
      allowedOrigins: [site.origin],
    });
    expect(res.statusCode, res.body).toBe(201);
    publicId = res.json().publicId;
    browser = await launchBrowser(440);
    agentBrowser = await launchBrowser(1000);
    await agentBrowser.context.grantPermissions(['microphone'], { origin: base });
    agentPage = await agentBrowser.context.newPage();
    agentPage.setDefaultTimeout(20_000);
  });

  afterAll(async () => {
    await browser?.close();
    await agentBrowser?.close();
    await site?.close();
    await foreign?.close();
    await h.app?.widgetCalls.calls.sweep().catch(() => undefined);
    await h.stop();
  });

  it('calls the queue from a customer’s page; the agent answers in the console and both hear each other', async () => {
    await consoleLogin(agentPage, base, agent.email);
    await goAvailable(agentPage);

    const page = await browser.context.newPage();
    await page.goto(`${site.origin}/products/42`);
    // The launcher sits in a shadow root; Playwright's CSS engine looks inside open ones.
    await page.locator('#calldock-widget button.b').click({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Call us' }).click();
    await page.locator('input[name="name"]').fill('Vera Visitor');
    await page.locator('input[name="email"]').fill('vera@example.test');
    const clicked = Date.now();
    await page.getByRole('button', { name: 'Start call' }).click();

    const incoming = agentPage.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 20_000 });
    console.log(`widget e2e: click to the console ringing ${Date.now() - clicked} ms`);
    // While the agent's console rings the visitor sees their place in the queue.
    await page.locator('p[data-state="queued"][data-position="1"]').waitFor({ timeout: 10_000 });
    await incoming.getByRole('button', { name: 'Answer' }).click();
    await agentPage.getByRole('region', { name: 'Call in progress' }).waitFor();
    await page.locator('p[data-state="connected"]').waitFor({ timeout: 10_000 });
    const call = await until('the web call to be connected', async () =>
      h.app.calls.activeCalls().find((c) => c.agent?.userId === agent.id && c.agent.answered),
    );
    await h.bridged(call.id, 2);

    // Visitor → agent: the console's inbound audio grows, with sound in it (440 Hz microphone).
    const first = await until('audio at the console', async () => {
      const s = await softphoneStats(agentPage);
      return s && s.inboundBytes > 0 ? s : undefined;
    });
    await until('more audio at the console, with sound', async () => {
      const s = await softphoneStats(agentPage);
      return s && s.inboundBytes > first.inboundBytes + 4_000 && s.audioLevelIn > 0.001 ? s : undefined;
    });
    // Agent → visitor: the page's inbound audio grows, with energy (1000 Hz microphone).
    const before = await inbound(page);
    const after = await until('audio to reach the page, with sound', async () => {
      const now = await inbound(page);
      return now.bytes > before.bytes + 4_000 && now.energy > before.energy ? now : undefined;
    });
    expect(after.energy).toBeGreaterThan(0);
    expect((await softphoneStats(agentPage))!.outboundBytes).toBeGreaterThan(0);

    const ticket = await h.db
      .selectFrom('widgetCallTickets')
      .selectAll()
      .where('callLinkedid', '=', call.id)
      .executeTakeFirstOrThrow();
    expect(await h.main.request('GET', `/endpoints/PJSIP/${ticket.endpointId}`)).toMatchObject({
      resource: ticket.endpointId,
    });

    await page.getByRole('button', { name: 'Hang up' }).first().click();
    await page.locator('p[data-state="ended"]').waitFor({ timeout: 10_000 });
    await agentPage.getByRole('region', { name: 'Call in progress' }).waitFor({ state: 'detached', timeout: 10_000 });
    const cdr = await h.ended(call.id);
    expect(cdr).toMatchObject({
      channelKind: 'web',
      direction: 'inbound',
      agentUserId: agent.id,
      visitorName: 'Vera Visitor',
      visitorEmail: 'vera@example.test',
      hangupSide: 'caller',
    });
    expect(cdr.pageUrl).toBe(`${site.origin}/products/42`);
    expect(cdr.answeredAt).not.toBeNull();
    // The short-lived endpoint is gone from Asterisk.
    await until('the widget endpoint to leave Asterisk', async () =>
      h.main.request('GET', `/endpoints/PJSIP/${ticket.endpointId}`).then(
        () => undefined,
        (err: Error) => (/404/.test(err.message) ? true : undefined),
      ),
    );
    await page.close();
  }, 120_000);

  it('gives a page from an origin not on the allow-list no widget and no ticket', async () => {
    const before = await h.db.selectFrom('widgetCallTickets').select('id').execute();
    const page = await browser.context.newPage();
    // The browser refuses the config answer (no CORS for this origin): the request fails.
    const config = Promise.race([
      page.waitForEvent('requestfailed', {
        predicate: (r) => r.url().includes('/config'),
        timeout: 10_000,
      }),
      page.waitForResponse((r) => r.url().includes('/config'), { timeout: 10_000 }),
    ]);
    await page.goto(`${foreign.origin}/`);
    await config;
    expect(await page.locator('#calldock-widget').count()).toBe(0);
    const outcome = await page.evaluate(
      async ({ base, publicId }) => {
        try {
          const r = await fetch(`${base}/api/v1/widgets/${publicId}/calls`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          });
          return `status ${r.status}`;
        } catch {
          return 'blocked';
        }
      },
      { base, publicId },
    );
    expect(outcome).toBe('blocked');
    const after = await h.db.selectFrom('widgetCallTickets').select('id').execute();
    expect(after.length).toBe(before.length);
    await page.close();
  }, 30_000);

  it('meets 429 with Retry-After when the ticket endpoint is hammered', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${site.origin}/`);
    const results = await page.evaluate(
      async ({ base, publicId }) => {
        const out: Array<{ status: number; retryAfter: string | null }> = [];
        for (let i = 0; i < 15; i++) {
          const r = await fetch(`${base}/api/v1/widgets/${publicId}/calls`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          });
          out.push({ status: r.status, retryAfter: r.headers.get('retry-after') });
        }
        return out;
      },
      { base, publicId },
    );
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0]!.retryAfter)).toBeGreaterThan(0);
    await h.db
      .updateTable('widgetCallTickets')
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where('usedAt', 'is', null)
      .execute();
    await h.app.widgetCalls.calls.sweep();
    await page.close();
  }, 30_000);

  it('chats: typing both ways, read mark, transfer to a colleague, history after a reload', async () => {
    const first = await h.agent({ displayName: 'Ada Agent' });
    const second = await h.agent({ displayName: 'Bea Agent' });
    const chatQueue = await createQueue(h.db, h.tenantId, { members: [{ userId: first.id }] });
    const admin = await tokenFor(h.app, await createUser(h.db, h.tenantId, 'tenant_admin'));
    const res = await h.post(admin, '/widgets', {
      name: 'Chat widget',
      callEnabled: false,
      chatQueueId: chatQueue,
      allowedOrigins: [site.origin],
    });
    expect(res.statusCode, res.body).toBe(201);
    publicId = res.json().publicId;
    await h.setState(first, 'available');
    await h.setState(second, 'available');

    const staffToken = await tokenFor(h.app, first);
    const events: Array<{ topic: string; data: Record<string, unknown> }> = [];
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/ws?access_token=${staffToken}`);
    ws.on('message', (raw: Buffer) =>
      events.push(JSON.parse(raw.toString()) as (typeof events)[number]),
    );
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const event = (topic: string, match: (d: Record<string, unknown>) => boolean) =>
      until(`${topic} on the staff socket`, async () =>
        events.find((e) => e.topic === topic && match(e.data)),
      );

    const page = await browser.context.newPage();
    await page.goto(`${site.origin}/help`);
    await page.locator('#calldock-widget button.b').click({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Chat' }).click();
    await page.locator('input[name="name"]').fill('Vera Visitor');
    await page.getByRole('button', { name: 'Start chat' }).click();
    await page
      .locator('p[data-state="active"]', { hasText: 'Ada Agent' })
      .waitFor({ timeout: 10_000 });
    const chat = await h.db
      .selectFrom('chats')
      .selectAll()
      .where('tenantId', '=', h.tenantId)
        .where('visitorName', '=', 'Vera Visitor')
      .where('assignedUserId', '=', first.id)
      .executeTakeFirstOrThrow();

    // Visitor types: the staff side sees it, then the message.
    await page.locator('input[name="chat"]').pressSequentially('Hello, my order is late');
    await event('chat.typing', (d) => d.chatId === chat.id && d.typing === true);
    await page.locator('input[name="chat"]').press('Enter');
    const sent = await event('chat.message', (d) => d.chatId === chat.id && d.sender === 'visitor');
    expect(sent.data.body).toBe('Hello, my order is late');

    // Staff types and answers: the visitor sees the indicator, the answer, and the read mark.
    const api = (path: string, payload: object) =>
      h.app.inject({
        method: 'POST',
        url: `/api/v1/chats/${chat.id}${path}`,
        headers: bearer(staffToken),
        payload,
      });
    expect((await api('/typing', { typing: true })).statusCode).toBe(204);
    await page.locator('p.typing:not([hidden])').waitFor({ timeout: 5_000 });
    expect((await api('/messages', { body: 'Sorry about that, let me look' })).statusCode).toBe(
      201,
    );
    await page
      .locator('p[data-sender="staff"]', { hasText: 'Sorry about that' })
      .waitFor({ timeout: 5_000 });
    expect(await page.locator('p.typing').isHidden()).toBe(true);
    expect((await api('/read', { upTo: Number(sent.data.id) })).statusCode).toBe(204);
    await page.locator('p.seen:not([hidden])').waitFor({ timeout: 5_000 });
    // The visitor read the staff answer too.
    await event('chat.read', (d) => d.chatId === chat.id && d.by === 'visitor');

    // Transfer to a colleague: the visitor is told who they talk to now.
    const moved = await api('/transfer', { userId: second.id });
    expect(moved.statusCode, moved.body).toBe(200);
    await page
      .locator('p[data-state="active"]', { hasText: 'Bea Agent' })
      .waitFor({ timeout: 5_000 });
    expect(moved.json().assignedUserId).toBe(second.id);

    // Reload: same browser, same chat, whole history.
    await page.reload();
    await page.locator('#calldock-widget button.b').click({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Chat' }).click();
    await page
      .locator('p[data-sender="visitor"]', { hasText: 'Hello, my order is late' })
      .waitFor({ timeout: 10_000 });
    await page
      .locator('p[data-sender="staff"]', { hasText: 'Sorry about that' })
      .waitFor({ timeout: 5_000 });
    expect(
      await h.db
        .selectFrom('chats')
        .select('id')
        .where('tenantId', '=', h.tenantId)
        .where('visitorName', '=', 'Vera Visitor')
        .execute(),
    ).toHaveLength(1);
    ws.close();
    await page.close();
  }, 60_000);
});
