/**
 * The console end to end, in Debian's headless Chromium with fake media devices, against the
 * real stack: the control plane listening on a port and serving the built console, the test
 * PBX, and the carrier instance playing the PSTN. The tests run in order and build on each other.
 *
 * An admin creates the agent's browser phone, a queue with the agent in it and a DID to it, all
 * in the UI (an API field error shows next to its input on the way; the service worker is
 * active); the agent logs in, the
 * softphone registers, preflight passes and they go available; the carrier calls the DID; the
 * call rings in the agent's browser (caller, queue) and is answered; audio flows both ways (the
 * agent's getStats() inbound bytes grow while the carrier plays 440 Hz, and the carrier hears
 * the agent's 1000 Hz fake microphone); the wallboard shows the live call with its media
 * figures; hold and unhold, mute and unmute (each proven by what the carrier hears), DTMF;
 * the customer falling silent is flagged as one-way audio on the wallboard; hang-up, the wrap-up countdown, disposition and notes; the CDR explorer shows it and exports
 * it as CSV. Then: ring-all leaves the other agent's screen when one answers, and a supervisor
 * listens in from the wallboard (their softphone answers by itself); an outbound call
 * from the dialer, with its wrap-up typed offline and synced once online; the softphone's
 * failure reasons (credentials, network, microphone) and its reconnect. Screenshots of the
 * main screens go to tests/artifacts/console/ (git-ignored), with the browsers' console log.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CONSOLE_DIST,
  ensureChromium,
  ensureConsoleBuilt,
} from '../../control/scripts/console-build.mjs';
import { AriPeer } from '../support/ari-peer.ts';
import { buildTestApp } from '../support/app.ts';
import { callDid, ensureTestTrunk } from '../support/carrier.ts';
import {
  bearer,
  createTenant,
  createUser,
  tokenFor,
  type TestUser,
} from '../support/fixtures.ts';
import { consoleLogin, goAvailable } from '../support/console-page.ts';
import { freshNumber } from '../support/routing-api.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { createTrunk, Phones } from '../support/telephony-fixtures.ts';
import { toneLevel } from '../support/tone.ts';
import { rms } from '../support/wav.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(REPO, 'tests/artifacts/console');

type App = Awaited<ReturnType<typeof buildTestApp>>;

/** A 16-bit mono WAV of a sine: the agent's fake microphone says 1000 Hz. */
function sineWav(file: string, hz: number, seconds = 10, rate = 48_000): void {
  const n = seconds * rate;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    data.writeInt16LE(Math.round(0.4 * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  writeFileSync(file, Buffer.concat([header, data]));
}

/** Polls until `probe` gives a value; fails naming what it waited for. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('console end to end (Chromium, real PBX and carrier)', () => {
  const carrier = new AriPeer(inject('asteriskCarrier'), 'carrier');
  const main = new AriPeer(inject('asteriskMain'), 'console-e2e');
  const phones = new Phones(carrier);
  let app: App;
  let base: string;
  let browser: Browser;
  let adminPage: Page;
  let agentPage: Page;
  const admin = { email: '', name: 'E2E Admin' };
  const agent = { email: '', name: 'E2E Agent' };
  const agent2 = { email: '', name: 'E2E Second Agent', id: 0 };
  const supervisor = { email: '', name: 'E2E Supervisor', id: 0 };
  let supervisorPage: Page;
  let adminUser: TestUser;
  let agent2Page: Page;
  const queueName = `E2E Sales ${Date.now().toString(36)}`;
  const did = freshNumber('+4420');
  const caller = freshNumber('+44161', 7);
  let carrierChannel: string | undefined;
  const browserLog: string[] = [];

  const shot = async (page: Page, name: string) => {
    await page.screenshot({
      path: path.join(ARTIFACTS, `${name}.png`),
      fullPage: true,
      timeout: 10_000,
    });
  };

  // No timeout of its own: taking the telephony lock may wait for another file (the chaos
  // suite holds it for minutes); the suite's hookTimeout is longer than that wait.
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const executablePath = ensureChromium() as string;
    ensureConsoleBuilt();
    app = await buildTestApp({ consoleDist: CONSOLE_DIST as string }, { telephony: true });
    await app.ari.waitUntilConnected(15_000);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${address.port}`;
    await carrier.connect();
    await ensureTestTrunk(main);

    const tenant = await createTenant(app.db, { name: 'E2E Company', maxAgents: 5 });
    adminUser = await createUser(app.db, tenant.id, 'tenant_admin', { displayName: admin.name });
    admin.email = adminUser.email;
    agent.email = (
      await createUser(app.db, tenant.id, 'agent', { displayName: agent.name, extension: '2001' })
    ).email;
    const second = await createUser(app.db, tenant.id, 'agent', {
      displayName: agent2.name,
      extension: '2002',
    });
    agent2.email = second.email;
    agent2.id = second.id;
    const boss = await createUser(app.db, tenant.id, 'supervisor', {
      displayName: supervisor.name,
    });
    supervisor.email = boss.email;
    supervisor.id = boss.id;

    const media = mkdtempSync(path.join(tmpdir(), 'calldock-e2e-'));
    const wav = path.join(media, 'agent-1000hz.wav');
    sineWav(wav, 1000);
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
        '--autoplay-policy=no-user-gesture-required',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}`,
      ],
    });
    const context = async (who: string) => {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await ctx.grantPermissions(['microphone'], { origin: base });
      const page = await ctx.newPage();
      page.setDefaultTimeout(20_000);
      page.on('console', (m) => browserLog.push(`${who} [${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => browserLog.push(`${who} [pageerror] ${e.message}`));
      page.on('response', (r) => {
        if (r.status() >= 400)
          browserLog.push(`${who} [http] ${r.request().method()} ${r.url()} → ${r.status()}`);
      });
      return page;
    };
    adminPage = await context('admin');
    agentPage = await context('agent');
    agent2Page = await context('agent2');
    supervisorPage = await context('supervisor');
  });

  afterAll(async () => {
    if (carrierChannel) await phones.hangup(carrierChannel).catch(() => undefined);
    await browser?.close().catch(() => undefined);
    carrier.close();
    await app?.close();
    if (browserLog.length)
      writeFileSync(path.join(ARTIFACTS, 'browser-console.log'), browserLog.join('\n'));
  }, 60_000);

  const login = (page: Page, email: string) => consoleLogin(page, base, email);

  it('serves the console at / with a fallback for its own paths, and the API beside it', async () => {
    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('<div id="root">');
    const deep = await fetch(`${base}/admin/queues`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-type')).toContain('text/html');
    const api = await fetch(`${base}/api/v1/nope`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    expect((await fetch(`${base}/manifest.webmanifest`)).status).toBe(200);
  });

  it('lets an admin set up a phone, a queue with the agent and a DID, in the UI', async () => {
    await login(adminPage, admin.email);
    // Installable: the service worker is active.
    const worker = await adminPage.evaluate(
      async () => (await navigator.serviceWorker.ready).active?.scriptURL,
    );
    expect(worker).toBe(`${base}/sw.js`);
    await adminPage.getByRole('link', { name: 'Admin', exact: true }).click();
    await shot(adminPage, '01-admin-queues');

    await adminPage.getByRole('tab', { name: 'Endpoints & trunks' }).click();
    const phoneForm = adminPage.getByRole('form', { name: 'Give a user a phone' });
    await phoneForm.getByLabel('User').selectOption({ label: `${agent.name} (agent)` });
    await phoneForm.getByLabel('Phone').selectOption('webrtc');
    await phoneForm.getByRole('button', { name: 'Create endpoint' }).click();
    await phoneForm.getByText('SIP secret (shown once)').waitFor();

    // A field error from the API lands next to its input.
    await adminPage.getByRole('tab', { name: 'Queues' }).click();
    const queueForm = adminPage.getByRole('form', { name: 'Create a queue' });
    await queueForm.getByLabel('Name').fill(queueName);
    await queueForm.getByLabel('Ring each agent (s)').fill('1');
    await queueForm.getByRole('button', { name: 'Create queue' }).click();
    await expect.poll(() => queueForm.locator('.field-error').count(), { timeout: 10_000 }).toBe(1);
    await queueForm.getByLabel('Ring each agent (s)').fill('20');
    await queueForm.getByLabel('Wrap-up (s)').fill('10');
    await queueForm.getByLabel('Strategy').selectOption('ring_all');
    await queueForm.getByRole('button', { name: 'Create queue' }).click();
    await adminPage.getByRole('button', { name: `Members of ${queueName}` }).click();
    const members = adminPage.getByRole('region', { name: 'Queue members' });
    const memberForm = members.getByRole('form', { name: 'Add a member' });
    await memberForm.getByLabel('Agent').selectOption({ label: agent.name });
    await memberForm.getByRole('button', { name: 'Add member' }).click();
    await members.getByTestId('members').getByText(agent.name).waitFor();
    await shot(adminPage, '02-admin-queue-created');

    await adminPage.getByRole('tab', { name: 'Numbers (DIDs)' }).click();
    const didForm = adminPage.getByRole('form', { name: 'Add a number' });
    await didForm.getByLabel('Number (E.164)').fill(did);
    await didForm.getByLabel('Route to').selectOption('queue');
    await didForm.getByLabel(/^Target/).selectOption({ label: `Queue: ${queueName}` });
    await didForm.getByRole('button', { name: 'Create DID' }).click();
    await adminPage.getByRole('cell', { name: did, exact: true }).waitFor();
    await shot(adminPage, '03-admin-did-created');
  }, 90_000);

  it('lets an admin edit a queue (with the API\'s field errors) and delete what is no longer needed', async () => {
    // Edits are based on the version the page shows: start from a fresh page, as an admin would.
    await adminPage.reload();
    await adminPage.getByRole('tab', { name: 'Queues' }).click();
    await adminPage.getByRole('button', { name: `Edit ${queueName}`, exact: true }).click();
    const edit = adminPage.getByRole('form', { name: `Edit ${queueName}`, exact: true });
    await expect.poll(() => edit.getByLabel('Wrap-up (s)').inputValue()).toBe('10');
    await edit.getByLabel('Max wait (s)').fill('999999');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => edit.locator('.field-error').count(), { timeout: 10_000 }).toBe(1);
    await edit.getByLabel('Max wait (s)').fill('600');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.waitFor({ state: 'detached', timeout: 10_000 });
    const queueRow = () => app.db.selectFrom('queues').selectAll().where('name', '=', queueName).executeTakeFirst();
    expect(await queueRow()).toMatchObject({ maxWaitSeconds: 600, wrapupSeconds: 10, strategy: 'ring_all' });

    // A queue made by mistake goes again.
    const spare = `${queueName}-spare`;
    const create = adminPage.getByRole('form', { name: 'Create a queue' });
    await create.getByLabel('Name').fill(spare);
    await create.getByRole('button', { name: 'Create queue' }).click();
    await adminPage.getByRole('button', { name: `Delete ${spare}`, exact: true }).click();
    await adminPage.getByRole('button', { name: `Confirm delete ${spare}`, exact: true }).click();
    await adminPage.getByRole('cell', { name: spare, exact: true }).waitFor({ state: 'detached', timeout: 10_000 });
    await expect
      .poll(() => app.db.selectFrom('queues').select('id').where('name', '=', spare).executeTakeFirst(), { timeout: 10_000 })
      .toBeUndefined();
    await shot(adminPage, '04-admin-queue-edited');
  }, 60_000);

  it('registers the agent’s softphone, passes preflight and goes available', async () => {
    await login(agentPage, agent.email);
    await goAvailable(agentPage);
    await shot(agentPage, '04-agent-available');
  }, 90_000);

  it('rings in the browser, carries audio both ways, holds, unholds and hangs up', async () => {
    carrierChannel = await callDid(carrier, did, { from: caller, name: 'E2E Caller' });
    const incoming = agentPage.getByRole('alertdialog', { name: 'Incoming call' });
    await incoming.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => incoming.getByTestId('caller').textContent())
      .toContain(caller.replace('+', ''));
    await expect.poll(() => incoming.textContent()).toContain(queueName);
    await shot(agentPage, '05-agent-incoming');
    await incoming.getByRole('button', { name: 'Answer' }).click();
    await agentPage.getByRole('region', { name: 'Call in progress' }).waitFor();
    const live = await until('the call to be connected', () =>
      app.calls.activeCalls().find((c) => c.to === did && c.status === 'connected'),
    );

    // Customer → agent: the carrier plays 440 Hz; the agent's inbound RTP grows, with sound.
    const talking = await phones.talk(carrierChannel, 'tone:440');
    const stats = () =>
      agentPage.evaluate(async () => {
        const s = await window.__calldockPhone?.stats();
        return s
          ? {
              inboundBytes: s.inboundBytes,
              outboundBytes: s.outboundBytes,
              audioLevelIn: s.audioLevelIn,
            }
          : null;
      });
    const first = await until('agent-side inbound audio', async () => {
      const s = await stats();
      return s && s.inboundBytes > 0 ? s : undefined;
    });
    const later = await until('agent-side inbound bytes to grow', async () => {
      const s = await stats();
      return s && s.inboundBytes > first.inboundBytes + 4_000 ? s : undefined;
    });
    expect(later.outboundBytes).toBeGreaterThan(0);
    await until(
      'the agent to hear sound',
      async () => ((await stats())?.audioLevelIn ?? 0) > 0.001 || undefined,
    );

    // Agent → customer: the carrier hears the agent's 1000 Hz microphone.
    const heard = await phones.hear(carrierChannel, 2);
    expect(rms(heard.samples)).toBeGreaterThan(0.01);
    const agentTone = toneLevel(heard, 1000);
    expect(agentTone).toBeGreaterThan(0.02);

    // The supervisor's live view shows the call with its media figures.
    await adminPage.getByRole('link', { name: 'Wallboard', exact: true }).click();
    const row = adminPage.getByTestId('live-call').filter({ hasText: caller.replace('+', '') });
    await row.waitFor({ timeout: 20_000 });
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain('ok');
    await shot(adminPage, '06-wallboard-live-call');
    await shot(agentPage, '07-agent-in-call');

    // Hold: the customer hears music instead of the agent; unhold brings the agent back.
    await agentPage.getByRole('button', { name: 'Hold' }).click();
    await agentPage.getByTestId('on-hold').waitFor();
    expect(app.calls.getCall(live.tenantId, live.id)?.holdStartedAt).toBeDefined();
    const held = await phones.hear(carrierChannel, 2);
    expect(toneLevel(held, 1000)).toBeLessThan(agentTone / 3);
    await shot(agentPage, '08-agent-on-hold');
    await agentPage.getByRole('button', { name: 'Resume' }).click();
    await agentPage.getByTestId('on-hold').waitFor({ state: 'detached' });
    expect(app.calls.getCall(live.tenantId, live.id)?.holdStartedAt).toBeUndefined();
    const back = await phones.hear(carrierChannel, 2);
    expect(toneLevel(back, 1000)).toBeGreaterThan(agentTone / 3);

    // Mute: the customer no longer hears the agent, until unmuted.
    await agentPage.getByRole('button', { name: 'Mute' }).click();
    await until(
      'the agent to be muted',
      () => app.calls.getCall(live.tenantId, live.id)?.agentMuted || undefined,
    );
    const muted = await phones.hear(carrierChannel, 2);
    expect(toneLevel(muted, 1000)).toBeLessThan(agentTone / 3);
    await agentPage.getByRole('button', { name: 'Unmute' }).click();
    await until(
      'the agent to be unmuted',
      () => app.calls.getCall(live.tenantId, live.id)?.agentMuted === false || undefined,
    );

    // The keypad sends DTMF to the customer's side.
    const channel = carrierChannel;
    const dtmf = carrier.waitFor(
      (e) =>
        e.type === 'ChannelDtmfReceived' &&
        (e.channel as { id: string }).id === channel &&
        e.digit === '5',
      15_000,
      'the carrier to receive DTMF 5',
    );
    await agentPage
      .getByRole('group', { name: 'Keypad' })
      .getByRole('button', { name: '5', exact: true })
      .click();
    await dtmf;

    // The customer falls silent (no more RTP from the carrier): after 5 s without inbound audio
    // on the agent's side, the supervisor's live calls flag one-way audio.
    await talking.stop();
    const liveRow = adminPage.getByTestId('live-call').filter({ hasText: caller.replace('+', '') });
    await liveRow.getByText('one-way audio').waitFor({ timeout: 20_000 });
    await shot(adminPage, '08b-wallboard-one-way-audio');
    await agentPage.getByRole('button', { name: 'Hang up' }).click();
    await phones.ended(carrierChannel, 15_000);
    carrierChannel = undefined;
    await agentPage
      .getByRole('region', { name: 'Call in progress' })
      .waitFor({ state: 'detached' });
    // The queue's wrap-up time counts down on the agent's screen.
    await agentPage.getByTestId('wrapup-countdown').waitFor({ timeout: 10_000 });
  }, 180_000);

  it('saves the wrap-up disposition to the CDR, shown in the CDR explorer', async () => {
    const wrap = agentPage.getByRole('region', { name: 'Wrap-up' });
    await wrap.waitFor();
    await wrap.getByLabel('Disposition').selectOption('sale');
    await wrap.getByLabel('Notes').fill('Bought the e2e plan');
    await shot(agentPage, '09-agent-wrap-up');
    await wrap.getByRole('button', { name: 'Save wrap-up' }).click();
    await wrap.waitFor({ state: 'detached', timeout: 20_000 }).catch(async (err: Error) => {
      const outbox = await agentPage.evaluate(() => localStorage.getItem('calldock.outbox'));
      const rows = await app.db
        .selectFrom('calls')
        .selectAll()
        .where('toNumber', '=', did)
        .execute();
      throw new Error(
        `${err.message}\nwrap-up says: ${await wrap.textContent()}\noutbox: ${outbox}\nrows: ${JSON.stringify(rows)}`,
      );
    });

    // The agent's own history shows it too.
    const history = agentPage.getByRole('region', { name: 'My calls' });
    await expect.poll(() => history.textContent(), { timeout: 20_000 }).toContain('sale');

    await adminPage.getByRole('link', { name: 'Calls', exact: true }).click();
    const filters = adminPage.getByRole('form', { name: 'Filters' });
    await filters.getByLabel('Text').fill(caller.slice(1));
    await filters.getByLabel('Direction').selectOption('inbound');
    await filters.getByRole('button', { name: 'Search' }).click();
    const rows = adminPage.getByTestId('cdr-row');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(1);
    const row = rows.filter({ hasText: caller.replace('+', '') });
    await expect
      .poll(() => row.getByTestId('cdr-disposition').textContent(), { timeout: 20_000 })
      .toBe('sale');
    await expect.poll(() => row.textContent()).toContain('Bought the e2e plan');
    await shot(adminPage, '10-cdr-explorer');
    // CSV export of the filtered set.
    const [download] = await Promise.all([
      adminPage.waitForEvent('download', { timeout: 20_000 }),
      filters.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(caller);
    expect(lines[1]).toContain('sale');
    await adminPage.getByRole('link', { name: 'Reports', exact: true }).click();
    await adminPage.getByRole('region', { name: 'Calls per hour' }).waitFor();
    await shot(adminPage, '11-reports');
  }, 60_000);

  it('rings every agent of a ring-all queue; when one answers, it leaves the other’s screen at once; a supervisor listens in', async () => {
    // The second agent gets a browser phone and joins the queue through the API (the UI for it
    // was shown above).
    const token = await tokenFor(app, adminUser);
    const call = (method: string, url: string, payload: Record<string, unknown>) =>
      app.inject({
        method: method as 'POST',
        url: `/api/v1${url}`,
        headers: bearer(token),
        payload,
      });
    expect((await call('POST', '/endpoints/agents', { userId: agent2.id })).statusCode).toBe(201);
    const queue = await app.db
      .selectFrom('queues')
      .select('id')
      .where('name', '=', queueName)
      .executeTakeFirstOrThrow();
    expect(
      (await call('POST', `/queues/${queue.id}/members`, { userId: agent2.id })).statusCode,
    ).toBe(201);
    // A supervisor with a browser phone, to listen in.
    expect((await call('POST', '/endpoints/agents', { userId: supervisor.id })).statusCode).toBe(
      201,
    );
    await login(supervisorPage, supervisor.email);
    await supervisorPage
      .getByTestId('phone-state')
      .getByText('Registered')
      .waitFor({ timeout: 30_000 });
    await login(agent2Page, agent2.email);
    await agent2Page
      .getByTestId('phone-state')
      .getByText('Registered')
      .waitFor({ timeout: 30_000 });
    const goAvailable = agent2Page.getByRole('button', { name: 'Go available' });
    await until('preflight to pass', () => goAvailable.isEnabled(), 30_000);
    await goAvailable.click();
    await agent2Page.getByTestId('agent-state').getByText('available').waitFor();
    // The first agent is back from wrap-up.
    await agentPage.getByTestId('agent-state').getByText('available').waitFor({ timeout: 30_000 });

    carrierChannel = await callDid(carrier, did, { from: caller, name: 'E2E Caller' });
    const ringing1 = agentPage.getByRole('alertdialog', { name: 'Incoming call' });
    const ringing2 = agent2Page.getByRole('alertdialog', { name: 'Incoming call' });
    await Promise.all([
      ringing1.waitFor({ timeout: 30_000 }),
      ringing2.waitFor({ timeout: 30_000 }),
    ]);
    await shot(agent2Page, '12-ring-all-second-agent');
    const answeredAt = Date.now();
    await ringing2.getByRole('button', { name: 'Answer' }).click();
    await ringing1.waitFor({ state: 'detached', timeout: 10_000 });
    const goneAfterMs = Date.now() - answeredAt;
    await agent2Page.getByRole('region', { name: 'Call in progress' }).waitFor();
    expect(await agentPage.getByRole('region', { name: 'Call in progress' }).count()).toBe(0);
    console.log(
      `ring-all: the call left the other agent's screen ${goneAfterMs} ms after the answer click`,
    );

    // The supervisor listens from the wallboard: their softphone answers by itself and hears
    // the call (the customer's 440 Hz).
    const talking = await phones.talk(carrierChannel, 'tone:440');
    await supervisorPage.getByRole('link', { name: 'Wallboard', exact: true }).click();
    const row = supervisorPage
      .getByTestId('live-call')
      .filter({ hasText: caller.replace('+', '') });
    await row.getByRole('button', { name: 'listen' }).click();
    const listening = async () =>
      supervisorPage.evaluate(async () => {
        const s = await window.__calldockPhone?.stats();
        return s ? { inboundBytes: s.inboundBytes, audioLevelIn: s.audioLevelIn } : null;
      });
    const heardFirst = await until('the supervisor to hear the call', async () => {
      const s = await listening();
      return s && s.inboundBytes > 0 ? s : undefined;
    });
    await until('the supervisor’s inbound audio to grow, with sound', async () => {
      const s = await listening();
      return s && s.inboundBytes > heardFirst.inboundBytes + 4_000 && (s.audioLevelIn ?? 0) > 0.001
        ? s
        : undefined;
    });
    const monitored = app.calls.activeCalls().find((c) => c.to === did)!;
    expect(app.monitor.list(monitored.id)).toMatchObject([
      { supervisorUserId: supervisor.id, mode: 'listen', answered: true },
    ]);
    await shot(supervisorPage, '13-supervisor-listening');
    await talking.stop();
    await agent2Page.getByRole('button', { name: 'Hang up' }).click();
    await phones.ended(carrierChannel, 15_000);
    carrierChannel = undefined;
  }, 120_000);

  it('calls out from the dialer: the PBX rings the softphone, which answers, then the number', async () => {
    const tenantId = adminUser.tenantId!;
    await createTrunk(app.db, main, inject('asteriskCarrier').sipPort, tenantId, {
      callerIdPolicy: 'tenant_default',
    });
    const number = `+1555${String(process.pid % 1000).padStart(3, '0')}9${String(Date.now() % 1000).padStart(3, '0')}`;
    await agentPage.getByTestId('agent-state').getByText('available').waitFor({ timeout: 30_000 });
    const dialer = agentPage.getByRole('region', { name: 'Dialer' });
    await dialer.getByLabel('Number to call').fill(number);
    await dialer.getByRole('button', { name: 'Call' }).click();
    const far = await phones.ringing(number, 30_000);
    carrierChannel = far;
    await phones.answer(far);
    await agentPage.getByRole('region', { name: 'Call in progress' }).waitFor({ timeout: 20_000 });
    const talking = await phones.talk(far, 'tone:440');
    await until('agent-side inbound audio on the outbound call', async () => {
      const s = await agentPage.evaluate(
        async () => (await window.__calldockPhone?.stats())?.inboundBytes ?? 0,
      );
      return s > 8_000 || undefined;
    });
    expect(toneLevel(await phones.hear(far, 1), 1000)).toBeGreaterThan(0.02);
    await shot(agentPage, '14-agent-outbound-call');
    await talking.stop();
    const call = await until('the outbound call', () =>
      app.calls.activeCalls().find((c) => c.to === number),
    );
    await phones.hangup(far);
    carrierChannel = undefined;
    await agentPage
      .getByRole('region', { name: 'Call in progress' })
      .waitFor({ state: 'detached', timeout: 15_000 });

    // Wrap-up typed while offline is kept, then sent once online: once.
    const wrap = agentPage.getByRole('region', { name: 'Wrap-up' });
    await wrap.waitFor();
    await agentPage.context().setOffline(true);
    await wrap.getByLabel('Notes').fill('Typed offline');
    await wrap.getByLabel('Disposition').selectOption('follow_up');
    await wrap.getByRole('button', { name: 'Save wrap-up' }).click();
    await wrap.getByText('Kept on this device').waitFor();
    const row = () =>
      app.db.selectFrom('calls').selectAll().where('linkedid', '=', call.id).executeTakeFirst();
    expect((await row())?.notes).toBeNull();
    await shot(agentPage, '15-agent-wrap-up-offline');
    await agentPage.context().setOffline(false);
    await wrap.waitFor({ state: 'detached', timeout: 20_000 });
    expect(await row()).toMatchObject({ notes: 'Typed offline', disposition: 'follow_up' });
    expect(await agentPage.evaluate(() => localStorage.getItem('calldock.outbox'))).toBe('[]');

    // A call made elsewhere, logged by hand while offline: kept, then stored once online, once.
    const log = agentPage.getByRole('region', { name: 'Log a call' });
    const logged = `+1555${String(Date.now()).slice(-7)}`;
    await agentPage.context().setOffline(true);
    await log.getByLabel('Direction').selectOption('inbound');
    await log.getByLabel('Logged number').fill(logged);
    await log.getByLabel('Minutes').fill('3');
    await log.getByLabel('Log notes').fill('Called my mobile');
    await log.getByRole('button', { name: 'Log call' }).click();
    await log.getByText('Kept on this device').waitFor();
    const manual = () => app.db.selectFrom('calls').selectAll().where('fromNumber', '=', logged).execute();
    expect(await manual()).toHaveLength(0);
    await agentPage.context().setOffline(false);
    await log.getByText('Logged').waitFor({ timeout: 20_000 });
    const rows = await manual();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ direction: 'inbound', state: 'ended', talkMs: 180_000, notes: 'Called my mobile', disposition: 'logged_manually' });
    expect(await agentPage.evaluate(() => localStorage.getItem('calldock.manual-logs'))).toBe('[]');
  }, 90_000);

  it('says why the softphone failed: credentials refused, phone server unreachable', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ password: 'not-the-secret' }, /Credentials refused/],
      [{ wsUrl: 'ws://127.0.0.1:9/ws' }, /Network: the phone server cannot be reached/],
    ];
    for (const [i, [change, reason]] of cases.entries()) {
      // The real session answer, altered on its way to the page.
      await agent2Page.route('**/api/v1/softphone/session', async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, json: { ...(await response.json()), ...change } });
      });
      await agent2Page.reload();
      await agent2Page.getByTestId('phone-state').getByText('Failed').waitFor({ timeout: 30_000 });
      await agent2Page.getByRole('alert').filter({ hasText: reason }).waitFor();
      await shot(agent2Page, `13-softphone-failed-${i}`);
      await agent2Page.unroute('**/api/v1/softphone/session');
    }
  }, 90_000);

  it('shows reconnecting when the phone server connection drops, and registers again when it is back', async () => {
    const proxy = new TcpProxy('127.0.0.1', inject('asteriskMain').httpPort);
    await proxy.start();
    try {
      await agent2Page.route('**/api/v1/softphone/session', async (route) => {
        const response = await route.fetch();
        await route.fulfill({
          response,
          json: { ...(await response.json()), wsUrl: `ws://127.0.0.1:${proxy.port}/ws` },
        });
      });
      await agent2Page.reload();
      const state = agent2Page.getByTestId('phone-state');
      await state.getByText('Registered').waitFor({ timeout: 30_000 });
      await proxy.cut();
      await state.getByText('Reconnecting…').waitFor({ timeout: 20_000 });
      await shot(agent2Page, '16-softphone-reconnecting');
      await proxy.restore();
      await state.getByText('Registered').waitFor({ timeout: 30_000 });
    } finally {
      await agent2Page.unroute('**/api/v1/softphone/session');
      await proxy.stop();
    }
  }, 90_000);

  it('says so when the microphone is refused', async () => {
    // A browser of its own: the fake-UI switch that grants the microphone is browser-wide.
    const strict = await chromium.launch({
      executablePath: ensureChromium() as string,
      headless: false,
      timeout: 30_000,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--use-fake-device-for-media-stream',
        '--deny-permission-prompts',
      ],
    });
    try {
      const page = await (await strict.newContext()).newPage();
      page.setDefaultTimeout(20_000);
      await login(page, agent2.email);
      await page.getByTestId('phone-state').getByText('Failed').waitFor({ timeout: 30_000 });
      await page
        .getByRole('alert')
        .filter({ hasText: /Microphone permission denied/ })
        .waitFor();
      await page.getByText(/Allow this site to use the microphone/).waitFor();
      await shot(page, '17-softphone-mic-denied');
    } finally {
      await strict.close();
    }
  }, 60_000);
});
