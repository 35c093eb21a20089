/**
 * The helpdesk in the console, end to end in Debian's headless Chromium against the real stack
 * (the control plane serving the built console, the test PBX and the carrier playing the PSTN).
 *
 * A helpdesk user opens their voicemail (the row put straight in the database: voicemails are
 * left by callers), makes a ticket from it, replies, attaches a file, downloads it again and
 * solves the ticket; the API then shows the ticket solved with the reply, the attachment and
 * the voicemail link. Then the caller rings an agent's browser phone through a DID: the ringing
 * panel shows the screen-pop with the contact and the ticket just solved. Screenshots go to
 * tests/artifacts/helpdesk/ (git-ignored), with the browser's console log.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CONSOLE_DIST,
  ensureChromium,
  ensureConsoleBuilt,
} from '../../control/scripts/console-build.mjs';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { launchBrowser, type Browser } from '../support/browser.ts';
import { callDid, ensureTestTrunk } from '../support/carrier.ts';
import {
  createTenant,
  createUser,
  TEST_PASSWORD,
  tokenFor,
  type TestUser,
} from '../support/fixtures.ts';
import { apiAs, pngBytes, type Api } from '../support/helpdesk.ts';
import { freshNumber } from '../support/routing-api.ts';
import { createDid, createQueue, Phones } from '../support/telephony-fixtures.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(REPO, 'tests/artifacts/helpdesk');

type App = Awaited<ReturnType<typeof buildTestApp>>;

describe('helpdesk end to end (Chromium, real stack)', () => {
  const carrier = new AriPeer(inject('asteriskCarrier'), 'carrier');
  const main = new AriPeer(inject('asteriskMain'), 'helpdesk-e2e');
  const phones = new Phones(carrier);
  let app: App;
  let base: string;
  let browser: Browser;
  let page: Page;
  let helpdesk: TestUser;
  let agent: TestUser;
  let asAdmin: Api;
  let asHelpdesk: Api;
  let voicemailId: number;
  let ticketId: number;
  let carrierChannel: string | undefined;
  const caller = freshNumber('+44161', 7);
  const browserLog: string[] = [];

  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true, timeout: 10_000 });

  async function login(user: TestUser) {
    await page.goto(base);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  }

  // No timeout of its own: taking the telephony lock may wait for another file (the chaos
  // suite holds it for minutes); the suite's hookTimeout is longer than that wait.
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureChromium();
    ensureConsoleBuilt();
    app = await buildTestApp({ consoleDist: CONSOLE_DIST as string }, { telephony: true });
    await app.ari.waitUntilConnected(15_000);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${address.port}`;
    await carrier.connect();
    await ensureTestTrunk(main);

    const tenant = await createTenant(app.db, { name: 'Helpdesk E2E', maxAgents: 5 });
    const admin = await createUser(app.db, tenant.id, 'tenant_admin');
    helpdesk = await createUser(app.db, tenant.id, 'helpdesk', { displayName: 'Hana Helpdesk' });
    agent = await createUser(app.db, tenant.id, 'agent', {
      displayName: 'Ari Agent',
      extension: '2101',
    });
    asAdmin = apiAs(app, await tokenFor(app, admin));
    asHelpdesk = apiAs(app, await tokenFor(app, helpdesk));

    // The caller is a known contact.
    const contact = await asAdmin('POST', '/contacts', {
      firstName: 'Ada',
      lastName: 'Lovelace',
      company: 'Analytical Engines',
      phones: [{ number: caller }],
    });
    expect(contact.statusCode, contact.body).toBe(201);
    // A voicemail they left in the helpdesk user's box.
    const vm = await app.db
      .insertInto('voicemails')
      .values({
        tenantId: tenant.id,
        callId: null,
        callLinkedid: `hd-e2e-${Date.now()}`,
        boxUserId: helpdesk.id,
        boxName: null,
        fromNumber: caller,
        durationMs: 12_000,
        recordingName: `hd-e2e-${Date.now()}`,
      })
      .executeTakeFirstOrThrow();
    voicemailId = Number(vm.insertId);

    browser = await launchBrowser(1000);
    page = await browser.context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => browserLog.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => browserLog.push(`[pageerror] ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400)
        browserLog.push(`[http] ${r.request().method()} ${r.url()} → ${r.status()}`);
    });
  });

  afterAll(async () => {
    if (carrierChannel) await phones.hangup(carrierChannel).catch(() => undefined);
    await browser?.close().catch(() => undefined);
    carrier.close();
    await app?.close();
    if (browserLog.length)
      writeFileSync(path.join(ARTIFACTS, 'browser-console.log'), browserLog.join('\n'));
  }, 60_000);

  it('takes a voicemail to a solved ticket: reply, attachment, status', async () => {
    await login(helpdesk);
    await page.getByRole('link', { name: 'Helpdesk', exact: true }).click();
    await page.getByRole('tab', { name: 'Voicemail' }).click();
    const row = page.getByTestId('voicemail-row').filter({ hasText: caller });
    await row.waitFor();
    await shot('01-voicemail');
    await row.getByRole('button', { name: 'Create ticket' }).click();

    const subject = page.getByTestId('ticket-subject');
    await subject.getByText(`Voicemail from ${caller}`).waitFor();
    ticketId = Number(/#(\d+)/.exec((await subject.textContent()) ?? '')?.[1]);
    expect(ticketId).toBeGreaterThan(0);
    // The voicemail's own note starts the thread.
    await page
      .getByTestId('message')
      .filter({ hasText: `voicemail ${voicemailId}` })
      .waitFor();

    const reply = page.getByRole('form', { name: 'Reply' });
    await reply.getByLabel('Message').fill('Thanks Ada, we are on it: a fix is attached.');
    await reply.getByRole('button', { name: 'Send reply' }).click();
    await page.getByTestId('message').filter({ hasText: 'a fix is attached' }).waitFor();

    const files = page.getByRole('region', { name: 'Attachments' });
    const png = pngBytes(2048);
    await files
      .getByLabel('Attach a file')
      .setInputFiles({ name: 'fix.png', mimeType: 'image/png', buffer: png });
    const link = files.getByTestId('attachment').getByRole('link', { name: 'fix.png' });
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('fix.png');
    expect(Buffer.compare(await readFile((await download.path())!), png)).toBe(0);

    await page.getByRole('region', { name: 'Ticket' }).getByLabel('Status').selectOption('solved');
    // The history shows the change once the server took it.
    await page
      .getByRole('region', { name: 'History' })
      .getByText(/status: .* → solved/)
      .waitFor()
      .catch(async (err: Error) => {
        await shot('02-failed');
        throw err;
      });
    await shot('02-ticket-solved');

    // What the API says.
    const ticket = await asHelpdesk('GET', `/tickets/${ticketId}`);
    expect(ticket.json()).toMatchObject({
      status: 'solved',
      source: { kind: 'voicemail', sourceId: String(voicemailId) },
    });
    expect(ticket.json().solvedAt).not.toBeNull();
    const messages = (await asHelpdesk('GET', `/tickets/${ticketId}/messages`)).json()
      .items as Array<{
      kind: string;
      body: string;
      authorUserId: number | null;
    }>;
    expect(messages).toContainEqual(
      expect.objectContaining({
        kind: 'public',
        body: 'Thanks Ada, we are on it: a fix is attached.',
        authorUserId: helpdesk.id,
      }),
    );
    const attachments = (await asHelpdesk('GET', `/tickets/${ticketId}/attachments`)).json().items;
    expect(attachments).toMatchObject([
      { fileName: 'fix.png', contentType: 'image/png', sizeBytes: png.length },
    ]);

    // The list shows it, filtered by status; the voicemail now opens its ticket.
    await page.getByRole('tab', { name: 'Tickets' }).click();
    const filters = page.getByRole('form', { name: 'Ticket filters' });
    await filters.getByLabel('Status').selectOption('solved');
    await filters.getByRole('button', { name: 'Apply' }).click();
    await page
      .getByTestId('ticket-row')
      .filter({ hasText: `Voicemail from ${caller}` })
      .waitFor();
    await shot('03-ticket-list');
    await page.getByRole('tab', { name: 'Voicemail' }).click();
    await row.getByRole('button', { name: `Open ticket #${ticketId}` }).waitFor();

    await page.getByRole('link', { name: 'Ticket reports', exact: true }).click();
    await page.getByRole('region', { name: 'Tickets per day' }).waitFor();
    await page.getByRole('region', { name: 'Per assignee' }).waitFor();
    await shot('04-ticket-reports');
  }, 120_000);

  it('shows the caller’s contact and tickets in the agent’s ringing panel', async () => {
    // The agent gets a browser phone and a queue with a DID to it.
    expect((await asAdmin('POST', '/endpoints/agents', { userId: agent.id })).statusCode).toBe(201);
    const queueId = await createQueue(app.db, agent.tenantId!, {
      ringTimeoutSeconds: 30,
      members: [{ userId: agent.id }],
    });
    const did = await createDid(app.db, agent.tenantId!, { type: 'queue', id: queueId });

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Email').waitFor();
    await login(agent);
    await page.getByTestId('phone-state').getByText('Registered').waitFor({ timeout: 30_000 });
    const goAvailable = page.getByRole('button', { name: 'Go available' });
    await expect.poll(() => goAvailable.isEnabled(), { timeout: 30_000 }).toBe(true);
    await goAvailable.click();
    await page.getByTestId('agent-state').getByText('available').waitFor();

    carrierChannel = await callDid(carrier, did, { from: caller, name: 'Ada' });
    const incoming = page.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 30_000 });
    const pop = incoming.getByTestId('screen-pop');
    await pop.getByTestId('screen-pop-name').getByText('Ada Lovelace').waitFor();
    await pop.getByText(`#${ticketId} Voicemail from ${caller}`).waitFor();
    await shot('05-screen-pop');
    await phones.hangup(carrierChannel);
    carrierChannel = undefined;
    await incoming.waitFor({ state: 'detached', timeout: 15_000 });
  }, 120_000);
});
