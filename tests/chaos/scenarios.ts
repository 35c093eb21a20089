/**
 * The chaos scenarios. Each one puts SIPp load on the rig, breaks one thing for real, lets it
 * recover, then checks what happened against what SIPp saw at both ends, and returns a report
 * row with every problem found (an empty `problems` is a pass). Sizes come from the caller: the
 * short form runs in `npm test`, the full one with `npm run chaos`.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { logLines, type SippTotals } from '../support/sipp.ts';
import type { CdrRow, ChaosRig, LiveCall } from './rig.ts';

export interface Report {
  scenario: string;
  placed: number;
  answered: number;
  /** Customers SIPp saw lose their call (no BYE from the PBX in time, or an error). */
  dropped: number;
  cdrs: number;
  reconciled: number;
  recoveryMs: number;
  notes: string[];
  problems: string[];
}

export interface Sizes {
  /** Live calls when the control plane is killed. */
  killCalls: number;
  killAgents: number;
  /** How long MySQL stays down, and the calls per second placed around it. */
  outageSeconds: number;
  outageCps: number;
  /** Calls up when Asterisk crashes (beyond the agents: queued), then placed after it is back. */
  pbxCalls: number;
  fallbackCalls: number;
}

export const SHORT: Sizes = { killCalls: 30, killAgents: 12, outageSeconds: 10, outageCps: 2, pbxCalls: 14, fallbackCalls: 4 };
export const FULL: Sizes = { killCalls: 30, killAgents: 12, outageSeconds: 60, outageCps: 2, pbxCalls: 16, fallbackCalls: 10 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, stepMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(stepMs);
  }
}

/** What the agents' phones saw: per caller key (prefix + call number), who answered and when it first rang. */
interface AgentView {
  answeredBy: Map<string, Set<string>>;
  firstRang: Map<string, number>;
}

function agentView(log: string): AgentView {
  const answeredBy = new Map<string, Set<string>>();
  for (const line of logLines(log)) {
    const m = /answered (\d+) (\S+)/.exec(line);
    if (!m) continue;
    const set = answeredBy.get(m[1]!) ?? new Set<string>();
    set.add(m[2]!);
    answeredBy.set(m[1]!, set);
  }
  // "rang <caller> <agent> <sec> <usec>"
  const firstRang = new Map<string, number>();
  for (const line of logLines(log)) {
    const m = /rang (\d+) \S+ (\d+)(?:\.\d+)? (\d+)/.exec(line);
    if (m && !firstRang.has(m[1]!)) firstRang.set(m[1]!, Number(m[2]) * 1000 + Number(m[3]) / 1000);
  }
  return { answeredBy, firstRang };
}

const callerKey = (row: CdrRow) => (row.fromNumber ?? '').replace(/^\+1999/, '');

/**
 * Every CDR against SIPp: one row per customer, ended; answered rows name an agent whose phone
 * SIPp saw answer that customer; a customer SIPp saw served has an answered row.
 */
function checkCdrs(rig: ChaosRig, rows: CdrRow[], placed: number, agents: AgentView, ended: Set<string>, problems: string[]): void {
  if (rows.length !== placed) problems.push(`${rows.length} CDR rows for ${placed} calls placed`);
  const phoneOf = new Map([...rig.agentUsers].map(([phone, id]) => [id, phone]));
  for (const row of rows) {
    const key = callerKey(row);
    if (row.state !== 'ended' || !row.endedAt) problems.push(`CDR ${row.linkedid} (${row.fromNumber}) is ${row.state}`);
    if (row.answeredAt && row.agentUserId !== null) {
      const phone = phoneOf.get(row.agentUserId);
      if (!phone || !agents.answeredBy.get(key)?.has(phone)) {
        problems.push(`CDR ${row.fromNumber} says agent ${phone ?? row.agentUserId} answered; SIPp saw ${[...(agents.answeredBy.get(key) ?? [])].join(', ') || 'no answer'}`);
      }
    }
    if (ended.has(key) && !row.answeredAt) problems.push(`customer ${row.fromNumber} was served (SIPp) but the CDR has no answer`);
  }
}

/** Callers whose customer side ended normally (the PBX hung up after the agent did). */
function endedCustomers(log: string, prefix: string): Set<string> {
  return new Set(logLines(log).flatMap((l) => {
    const m = /ended (\d+)/.exec(l);
    return m ? [`${prefix}${m[1]!}`] : [];
  }));
}

async function finish(rig: ChaosRig, totals: SippTotals, report: Report): Promise<Report> {
  await rig.drained();
  report.problems.push(...(await rig.leaks()));
  if (totals.created !== report.placed) report.problems.push(`SIPp placed ${totals.created} calls, not ${report.placed}`);
  return report;
}

/**
 * SIGKILL the control plane with calls answered, calls ringing agents and callers queued.
 * Expected: no customer loses their call; the restarted control plane lists every live call
 * again within 5 s, the queued ones in their original order; ringing offers are made again; the
 * callers queued at the kill are offered in that order; every CDR is complete.
 */
export async function killControlPlane(rig: ChaosRig, sizes: Sizes): Promise<Report> {
  const prefix = '11';
  const report: Report = { scenario: 'control plane SIGKILL', placed: sizes.killCalls, answered: 0, dropped: 0, cdrs: 0, reconciled: 0, recoveryMs: Number.NaN, notes: [], problems: [] };
  const agentLog = await rig.startAgents('kill', 2_500, 12_000);
  const run = await rig.customers(prefix, sizes.killCalls, 10, 120_000);

  // Wait for the mix: answered calls, offers ringing and callers queued with no offer.
  const mix = (calls: LiveCall[]) => ({
    connected: calls.filter((c) => c.status === 'connected').length,
    ringing: calls.filter((c) => c.offeredTo.length > 0).length,
    waiting: calls.filter((c) => c.status === 'queued' && c.offeredTo.length === 0).length,
  });
  const before = await until(async () => {
    const calls = await rig.liveCalls();
    const m = mix(calls);
    return calls.length === sizes.killCalls && m.connected > 0 && m.ringing > 0 && m.waiting > 0 ? calls : undefined;
  }, 30_000, 50);
  if (!before) {
    report.problems.push('never saw answered, ringing and queued calls at once before the kill');
    await run.done;
    return finish(rig, await run.done, report);
  }
  const m = mix(before);
  report.notes.push(`at the kill: ${m.connected} talking, ${m.ringing} ringing an agent, ${m.waiting} queued`);
  const queuedOrder = before
    .filter((c) => c.status === 'queued' && c.offeredTo.length === 0)
    .sort((a, b) => a.queuePosition! - b.queuePosition!)
    .map((c) => c.from);

  // A guesser who used up an account's failed logins stays refused across the crash.
  const account = `guesser-${Date.now()}@example.test`;
  const guesses: number[] = [];
  for (let i = 0; i < 6; i++) guesses.push(await rig.loginStatus(account, `guess ${i}`));

  await rig.killControl();
  const killedAt = performance.now();
  await sleep(1_000);
  await rig.startControl();
  guesses.push(await rig.loginStatus(account, 'one more guess'));
  if (guesses.join() !== '401,401,401,401,401,429,429') report.problems.push(`failed logins for one account before and after the kill: ${guesses.join(' ')} (want 5 × 401, then 429 on both sides)`);
  const expected = new Set(before.map((c) => c.callId));
  let after: LiveCall[] = [];
  const recovered = await until(async () => {
    after = await rig.liveCalls();
    const live = new Set(after.map((c) => c.callId));
    return [...expected].every((id) => live.has(id)) || undefined;
  }, 15_000, 50);
  report.recoveryMs = performance.now() - killedAt - 1_000;
  if (!recovered) report.problems.push(`the restarted control plane does not list every call that was live (${after.length} of ${expected.size})`);
  else if (report.recoveryMs > 5_000) report.problems.push(`state rebuilt in ${(report.recoveryMs / 1000).toFixed(1)} s (target 5 s)`);
  const stillQueued = after
    .filter((c) => c.queuePosition !== null && queuedOrder.includes(c.from))
    .sort((a, b) => a.queuePosition! - b.queuePosition!)
    .map((c) => c.from);
  const expectedOrder = queuedOrder.filter((from) => stillQueued.includes(from));
  if (stillQueued.join() !== expectedOrder.join()) report.problems.push(`queue order changed: ${expectedOrder.join(' ')} became ${stillQueued.join(' ')}`);

  const totals = await run.done;
  report.dropped = totals.failed;
  if (totals.failed > 0) report.problems.push(`${totals.failed} customer(s) lost their call`);
  const agents = agentView(agentLog);
  report.answered = agents.answeredBy.size;
  // Callers queued at the kill were offered in their order (first ring per caller).
  const rangAt = queuedOrder.map((from) => agents.firstRang.get(from.replace(/^\+1999/, '')) ?? Number.NaN);
  for (let i = 1; i < rangAt.length; i++) {
    if (!(rangAt[i]! >= rangAt[i - 1]!)) {
      report.problems.push(`after the restart ${queuedOrder[i]} was offered before ${queuedOrder[i - 1]}`);
      break;
    }
  }
  const rows = await rig.cdrs(prefix);
  report.cdrs = rows.length;
  report.reconciled = (await rig.withEvents(prefix, ['reattached', 'requeued'])).size;
  checkCdrs(rig, rows, sizes.killCalls, agents, endedCustomers(run.log, prefix), report.problems);
  for (const row of rows) {
    if (!row.answeredAt || row.hangupSide !== 'agent') report.problems.push(`CDR ${row.fromNumber}: answered ${row.answeredAt ? 'yes' : 'no'}, hung up by ${row.hangupSide} (${row.disposition ?? '-'})`);
  }
  return finish(rig, totals, report);
}

/**
 * MySQL stopped for `outageSeconds` while calls keep arriving. Expected: every call is routed
 * and answered as usual; CDR writes wait in the outbox and are replayed once MySQL is back, with
 * no row written twice; nothing left open.
 */
export async function mysqlOutage(rig: ChaosRig, sizes: Sizes): Promise<Report> {
  const prefix = '21';
  const seconds = sizes.outageSeconds + 8;
  const placed = Math.ceil(seconds * sizes.outageCps);
  const report: Report = { scenario: `MySQL down ${sizes.outageSeconds} s`, placed, answered: 0, dropped: 0, cdrs: 0, reconciled: 0, recoveryMs: Number.NaN, notes: [], problems: [] };
  const agentLog = await rig.startAgents('mysql', 300, 3_000);
  const run = await rig.customers(prefix, placed, sizes.outageCps, 60_000);
  await sleep(3_000);
  const down = new Date();
  await rig.mysql.stop();
  await sleep(sizes.outageSeconds * 1_000);
  await rig.mysql.start();
  const up = new Date();
  const outbox = path.join(rig.work, 'cdr-outbox.jsonl');
  const started = performance.now();
  const emptied = await until(async () => {
    try {
      return statSync(outbox).size === 0 || undefined;
    } catch {
      return true;
    }
  }, 30_000, 100);
  report.recoveryMs = performance.now() - started;
  if (!emptied) report.problems.push('the CDR outbox was not replayed within 30 s of MySQL coming back');

  const totals = await run.done;
  report.dropped = totals.failed;
  if (totals.failed > 0) report.problems.push(`${totals.failed} customer(s) lost their call`);
  const agents = agentView(agentLog);
  report.answered = agents.answeredBy.size;
  // CDRs replayed after the outage must all be there before counting.
  await until(async () => ((await rig.cdrs(prefix)).length >= placed) || undefined, 15_000, 250);
  const rows = await rig.cdrs(prefix);
  report.cdrs = rows.length;
  report.reconciled = rows.filter((r) => r.startedAt >= down && r.startedAt <= up).length;
  if (report.reconciled === 0) report.problems.push('no call started while MySQL was down: the outage did not meet the load');
  const duplicates = await rig.duplicates(prefix);
  if (duplicates > 0) report.problems.push(`${duplicates} CDR row(s) written twice`);
  checkCdrs(rig, rows, placed, agents, endedCustomers(run.log, prefix), report.problems);
  for (const row of rows) if (!row.answeredAt) report.problems.push(`CDR ${row.fromNumber}: not answered (${row.disposition ?? '-'})`);
  return finish(rig, totals, report);
}

/**
 * Asterisk crashes (SIGKILL) with calls up and is started again. Expected: the calls it carried
 * are gone (SIPp's customers see no BYE) and the control plane closes their CDRs with a cause;
 * it reconnects on its own, and calls placed afterwards are served; nothing stays open.
 */
export async function asteriskCrash(rig: ChaosRig, sizes: Sizes): Promise<Report> {
  const report: Report = { scenario: 'Asterisk SIGKILL + start', placed: sizes.pbxCalls * 2, answered: 0, dropped: 0, cdrs: 0, reconciled: 0, recoveryMs: Number.NaN, notes: [], problems: [] };
  const agentLog = await rig.startAgents('pbx', 300, 20_000);
  const first = await rig.customers('31', sizes.pbxCalls, 5, 25_000);
  // Every agent talking (20 s calls), the rest waiting in the queue.
  const talkingCount = Math.min(sizes.pbxCalls, rig.agents);
  const talking = await until(async () => {
    const calls = await rig.liveCalls();
    return (calls.length === sizes.pbxCalls && calls.filter((c) => c.status === 'connected').length === talkingCount) || undefined;
  }, 30_000, 100);
  if (!talking) report.problems.push(`never saw ${talkingCount} of the ${sizes.pbxCalls} calls connected and the rest queued before the crash`);
  else report.notes.push(`at the crash: ${talkingCount} talking, ${sizes.pbxCalls - talkingCount} queued`);
  rig.crashAsterisk();
  await sleep(2_000);
  await rig.startAsterisk();
  const started = performance.now();
  const reconnected = await until(async () => {
    const live = await rig.liveCalls();
    return (live.length === 0 && (await controlSeesAri(rig))) || undefined;
  }, 30_000, 100);
  report.recoveryMs = performance.now() - started;
  if (!reconnected) report.problems.push('the control plane did not reconnect and close the lost calls within 30 s');
  const lost = await first.done;
  report.dropped = lost.failed;
  if (lost.failed !== sizes.pbxCalls) report.problems.push(`${lost.failed} of ${sizes.pbxCalls} calls dropped by the crash (SIPp): all were up`);

  // Served again after the restart (the phones drop what they held of the dead calls).
  const afterLog = await rig.startAgents('pbx-after', 300, 3_000);
  const second = await rig.customers('32', sizes.pbxCalls, 5, 60_000);
  const totals = await second.done;
  if (totals.failed > 0) report.problems.push(`${totals.failed} customer(s) placed after the restart lost their call`);
  const agents = agentView(agentLog);
  const rowsBefore = await rig.cdrs('31');
  const rowsAfter = await rig.cdrs('32');
  report.cdrs = rowsBefore.length + rowsAfter.length;
  report.answered = rowsAfter.filter((r) => r.answeredAt).length + rowsBefore.filter((r) => r.answeredAt).length;
  report.reconciled = rowsBefore.filter((r) => r.hangupSide === 'system').length;
  checkCdrs(rig, rowsBefore, sizes.pbxCalls, agents, new Set(), report.problems);
  checkCdrs(rig, rowsAfter, sizes.pbxCalls, agentView(afterLog), endedCustomers(second.log, '32'), report.problems);
  for (const row of rowsBefore) {
    if (row.hangupSide !== 'system' || !row.hangupCause) report.problems.push(`CDR ${row.fromNumber} of a call lost in the crash: side ${row.hangupSide}, cause ${row.hangupCause}`);
  }
  for (const row of rowsAfter) if (!row.answeredAt) report.problems.push(`CDR ${row.fromNumber} after the restart: not answered`);
  await rig.drained();
  report.problems.push(...(await rig.leaks()));
  return report;
}

async function controlSeesAri(rig: ChaosRig): Promise<boolean> {
  const text = await fetch(`${rig.controlUrl}/metrics`).then((r) => r.text(), () => '');
  return /calldock_ari_connected 1\b/.test(text);
}

/**
 * No control plane at all: Stasis() fails and the dialplan rings the agents' phones the control
 * plane left in Asterisk's globals. Expected: every customer is answered by an agent; when the
 * control plane returns, it writes each of those calls' CDR from Asterisk's own CDR, once.
 */
export async function noControlPlane(rig: ChaosRig, sizes: Sizes): Promise<Report> {
  const prefix = '41';
  const report: Report = { scenario: 'no control plane (fallback)', placed: sizes.fallbackCalls, answered: 0, dropped: 0, cdrs: 0, reconciled: 0, recoveryMs: Number.NaN, notes: [], problems: [] };
  const agentLog = await rig.startAgents('fallback', 300, 3_000);
  await rig.killControl();
  const run = await rig.customers(prefix, sizes.fallbackCalls, 2, 60_000);
  const totals = await run.done;
  report.dropped = totals.failed;
  if (totals.failed > 0) report.problems.push(`${totals.failed} customer(s) reached nobody with the control plane away`);
  const agents = agentView(agentLog);
  report.answered = agents.answeredBy.size;
  await rig.drained();
  const started = performance.now();
  await rig.startControl();
  await until(async () => ((await rig.cdrs(prefix)).length >= sizes.fallbackCalls) || undefined, 20_000, 100);
  report.recoveryMs = performance.now() - started;
  const rows = await rig.cdrs(prefix);
  report.cdrs = rows.length;
  report.reconciled = rows.filter((r) => r.disposition?.startsWith('fallback_')).length;
  if (report.reconciled !== sizes.fallbackCalls) report.problems.push(`${report.reconciled} of ${sizes.fallbackCalls} fallback calls reconciled from Asterisk's CDR`);
  for (const row of rows) if (!row.answeredAt) report.problems.push(`fallback CDR ${row.fromNumber}: not answered`);
  checkCdrs(rig, rows, sizes.fallbackCalls, agents, endedCustomers(run.log, prefix), report.problems);
  // Running the reconciliation again (another restart) adds nothing.
  await rig.killControl();
  await rig.startControl();
  await sleep(1_000);
  const again = await rig.cdrs(prefix);
  if (again.length !== rows.length) report.problems.push(`a second restart wrote the fallback CDRs again (${again.length} rows)`);
  await rig.agentsAvailable();
  return finish(rig, totals, report);
}

export function reportTable(reports: Report[]): string {
  const header = ['scenario', 'placed', 'answered', 'dropped', 'CDRs', 'reconciled', 'recovery s', 'result'];
  const cells = reports.map((r) => [
    r.scenario,
    String(r.placed),
    String(r.answered),
    String(r.dropped),
    String(r.cdrs),
    String(r.reconciled),
    Number.isNaN(r.recoveryMs) ? '-' : (r.recoveryMs / 1000).toFixed(2),
    r.problems.length ? `FAIL (${r.problems.length})` : 'ok',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  for (const r of reports) {
    for (const note of r.notes) lines.push(`  ${r.scenario}: ${note}`);
    for (const problem of r.problems) lines.push(`  ${r.scenario}: PROBLEM ${problem}`);
  }
  return lines.join('\n');
}
