/**
 * Chat between a customer's page and the console, end to end in headless Chromium against the
 * real stack: a page on another origin embeds the widget; the visitor fills the pre-chat form;
 * the agent sees the chat in the console's inbox; typing shows both ways; messages cross; the
 * visitor sees the read mark; the agent transfers the chat to a colleague, whose console shows
 * it with its history; the visitor reloads and sees the history; the chat is closed. Then an
 * admin edits the widget in the settings page: the preview (the real loader) takes the new
 * colour and label, and an invalid allowed origin shows the API's error by its input.
 * Screenshots go to tests/artifacts/chat-console/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONSOLE_DIST,
  ensureChromium,
  ensureConsoleBuilt,
} from '../../control/scripts/console-build.mjs';
import { WIDGET_DIST } from '../../control/src/modules/widgets/plugin.ts';
import { thirdPartySite } from '../support/browser.ts';
import { CallHarness } from '../support/call-harness.ts';
import { createUser, TEST_PASSWORD, tokenFor, type TestUser } from '../support/fixtures.ts';
import { createQueue, type TestAgent } from '../support/telephony-fixtures.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(REPO, 'tests/artifacts/chat-console');

describe('chat inbox and widget settings in the console (Chromium, real stack)', () => {
  const h = new CallHarness();
  let base: string;
  let browser: Browser;
  let site: Awaited<ReturnType<typeof thirdPartySite>>;
  let ada: TestAgent;
  let bea: TestAgent;
  let admin: TestUser;
  let publicId = '';
  let widgetId = 0;
  const log: string[] = [];
  const snippet = () => `<!doctype html><html><head><title>Shop</title></head><body>
<h1>Our shop</h1><script src="${base}/widget.js?id=${publicId}" async></script></body></html>`;

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true, timeout: 10_000 });

  const newPage = async (who: string) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => log.push(`${who} [${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`${who} [pageerror] ${e.stack ?? e.message}`));
    return page;
  };

  const login = async (page: Page, email: string) => {
    await page.goto(base);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  };

  // No timeout of its own: taking the telephony lock may wait for another file (the chaos
  // suite holds it for minutes); the suite's hookTimeout is longer than that wait.
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    if (!existsSync(path.join(WIDGET_DIST, 'chat.js'))) {
      execFileSync(process.execPath, [path.join(WIDGET_DIST, '../build.mjs')], {
        stdio: 'inherit',
      });
    }
    const executablePath = ensureChromium() as string;
    ensureConsoleBuilt();
    await h.start({ consoleDist: CONSOLE_DIST as string });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    site = await thirdPartySite(snippet);

    ada = await h.agent({ displayName: 'Ada Agent' });
    bea = await h.agent({ displayName: 'Bea Agent' });
    admin = await createUser(h.db, h.tenantId, 'tenant_admin', { displayName: 'Wanda Admin' });
    const chatQueue = await createQueue(h.db, h.tenantId, { members: [{ userId: ada.id }] });
    const res = await h.post(await tokenFor(h.app, admin), '/widgets', {
      name: 'Help widget',
      label: 'Help',
      callEnabled: false,
      chatQueueId: chatQueue,
      allowedOrigins: [site.origin],
    });
    expect(res.statusCode, res.body).toBe(201);
    publicId = res.json().publicId;
    widgetId = res.json().id;
    await h.setState(ada, 'available');
    await h.setState(bea, 'available');

    browser = await chromium.launch({
      executablePath,
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
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await site?.close();
    await h.stop();
    if (log.length) writeFileSync(path.join(ARTIFACTS, 'browser-console.log'), log.join('\n'));
  }, 60_000);

  it('carries a chat from a customer’s page through the inbox, a transfer and a close', async () => {
    // A retried attempt starts from empty inboxes, as the first did.
    await h.db.updateTable('chats').set({ status: 'closed' }).where('tenantId', '=', h.tenantId).execute();
    const adaPage = await newPage('ada');
    const beaPage = await newPage('bea');
    const visitor = await newPage('visitor');
    await login(adaPage, ada.email);
    await adaPage.getByRole('link', { name: 'Chats', exact: true }).click();
    await login(beaPage, bea.email);
    await beaPage.getByRole('link', { name: 'Chats', exact: true }).click();
    const adaInbox = adaPage.getByRole('navigation', { name: 'Chat inbox' });
    await adaInbox.getByText('None').waitFor();

    // The visitor, on the customer's site, opens the chat with the pre-chat form.
    await visitor.goto(`${site.origin}/help`);
    await visitor.locator('#calldock-widget button.b').click();
    await visitor.getByRole('button', { name: 'Chat' }).click();
    await visitor.locator('input[name="name"]').fill('Vera Visitor');
    await visitor.locator('input[name="email"]').fill('vera@example.test');
    await visitor.getByRole('button', { name: 'Start chat' }).click();
    await visitor.locator('p[data-state="active"]', { hasText: 'Ada Agent' }).waitFor();

    // It shows up in Ada's inbox, live.
    await adaInbox.getByRole('link', { name: /Vera Visitor/ }).click();
    const conversation = adaPage.getByRole('region', { name: 'Conversation' });
    await conversation.getByText('vera@example.test', { exact: false }).waitFor();

    // The visitor types: Ada sees it, then the message.
    await visitor.locator('input[name="chat"]').pressSequentially('Where is my parcel?');
    await conversation.getByTestId('visitor-typing').waitFor({ state: 'visible' });
    await shot(adaPage, '01-agent-sees-typing');
    await visitor.locator('input[name="chat"]').press('Enter');
    await conversation
      .locator('li[data-sender="visitor"]', { hasText: 'Where is my parcel?' })
      .waitFor();
    await conversation.getByTestId('visitor-typing').waitFor({ state: 'hidden' });
    // Ada has it open: it is read, and the visitor sees the mark.
    await visitor.locator('p.seen:not([hidden])').waitFor();

    // Ada types: the visitor sees the indicator, then the answer.
    const input = conversation.getByLabel('Message');
    await input.pressSequentially('Let me look it up');
    await visitor.locator('p.typing:not([hidden])').waitFor();
    await shot(visitor, '02-visitor-sees-typing');
    await conversation.getByRole('button', { name: 'Send' }).click();
    await visitor.locator('p[data-sender="staff"]', { hasText: 'Let me look it up' }).waitFor();
    await visitor.locator('p.typing').waitFor({ state: 'hidden' });
    // The visitor read it: Ada sees "Seen" under her message.
    await conversation
      .locator('li[data-sender="staff"]', { hasText: 'Let me look it up' })
      .getByTestId('seen')
      .waitFor();
    await shot(adaPage, '03-agent-conversation');

    // Transfer to Bea: the visitor is told, Bea's inbox has it with the history.
    await conversation.getByLabel('Transfer to').selectOption(`user:${bea.id}`);
    await conversation.getByRole('button', { name: 'Transfer' }).click();
    await visitor.locator('p[data-state="active"]', { hasText: 'Bea Agent' }).waitFor();
    await adaInbox.getByText('None').waitFor();
    const beaInbox = beaPage.getByRole('navigation', { name: 'Chat inbox' });
    await beaInbox.getByRole('link', { name: /Vera Visitor/ }).click();
    const beaConversation = beaPage.getByRole('region', { name: 'Conversation' });
    await beaConversation
      .locator('li[data-sender="visitor"]', { hasText: 'Where is my parcel?' })
      .waitFor();
    await beaConversation.locator('li[data-sender="system"]', { hasText: 'Bea Agent' }).waitFor();
    await shot(beaPage, '04-colleague-after-transfer');

    // The visitor reloads: same chat, whole history.
    await visitor.reload();
    await visitor.locator('#calldock-widget button.b').click();
    await visitor.getByRole('button', { name: 'Chat' }).click();
    await visitor.locator('p[data-sender="visitor"]', { hasText: 'Where is my parcel?' }).waitFor();
    await visitor.locator('p[data-sender="staff"]', { hasText: 'Let me look it up' }).waitFor();
    await beaConversation.getByLabel('Message').fill('It arrives tomorrow');
    await beaConversation.getByLabel('Message').press('Enter');
    await visitor.locator('p[data-sender="staff"]', { hasText: 'arrives tomorrow' }).waitFor();
    await shot(visitor, '05-visitor-after-reload');

    // Bea closes it.
    await beaConversation.getByRole('button', { name: 'Close chat' }).click();
    await beaConversation.getByTestId('chat-status').getByText('closed').waitFor();
    await visitor.locator('p[data-state="closed"]').waitFor();
    await beaInbox.getByText('None').waitFor();
    const chat = await h.db
      .selectFrom('chats')
      .select(['status', 'assignedUserId'])
      .where('tenantId', '=', h.tenantId)
        .where('visitorName', '=', 'Vera Visitor')
      // This run's chat (a retried test leaves the first attempt's behind).
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(chat).toEqual({ status: 'closed', assignedUserId: bea.id });
    await Promise.all([adaPage, beaPage, visitor].map((p) => p.context().close()));
  }, 120_000);

  it('lets an admin edit a widget with a live preview and shows an invalid origin by its input', async () => {
    const page = await newPage('admin');
    await login(page, admin.email);
    await page.getByRole('link', { name: 'Widgets', exact: true }).click();
    await page.getByRole('button', { name: 'Edit Help widget' }).click();
    const form = page.getByRole('form', { name: 'Widget settings' });
    await expect.poll(() => page.getByTestId('snippet').textContent()).toContain(publicId);

    await form.getByLabel('Button label').fill('Chat with us');
    await form.getByLabel('Colour').fill('#c0392b');
    await form.getByLabel('Greeting').fill('Hello from the preview');
    const preview = page.frameLocator('iframe[title="Widget preview"]');
    const launcher = preview.locator('#calldock-widget button.b');
    await expect.poll(() => launcher.textContent(), { timeout: 15_000 }).toBe('Chat with us');
    await expect
      .poll(() => launcher.evaluate((b) => getComputedStyle(b).backgroundColor))
      .toBe('rgb(192, 57, 43)');
    await preview.getByText('Hello from the preview').waitFor();
    await shot(page, '06-widget-preview');
    await form.getByRole('button', { name: 'Save widget' }).click();
    await form.getByRole('status').getByText('Saved').waitFor();
    const saved = await h.db
      .selectFrom('widgets')
      .select(['label', 'color'])
      .where('id', '=', widgetId)
      .executeTakeFirstOrThrow();
    expect(saved).toEqual({ label: 'Chat with us', color: '#c0392b' });

    const origins = form.getByLabel('Allowed origins (one per line)');
    await origins.fill(`${site.origin}\nshop dot com`);
    await form.getByRole('button', { name: 'Save widget' }).click();
    // The message sits inside the input's own label.
    const error = form.locator('label', { hasText: 'Allowed origins' }).locator('.field-error');
    await expect.poll(() => error.textContent()).toContain('“shop dot com”');
    await expect.poll(() => origins.getAttribute('aria-invalid')).toBe('true');
    await shot(page, '07-widget-origin-error');
    await page.context().close();
  }, 60_000);
});
