/**
 * The chaos suite, short form (the full one: `npm run chaos`). Breaks the control plane
 * (SIGKILL), MySQL (stopped 10 s), Asterisk (SIGKILL) and runs with no control plane at all, each
 * under SIPp load against a rig of its own (tests/chaos/rig.ts), and fails on any problem the
 * scenario or the leak checks find. The report table is printed at the end.
 *
 * The rig has its own Asterisk and MariaDB, but it loads the machine: it holds the test PBX
 * lock so that no timing-sensitive call test runs beside it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockTelephony } from '../support/telephony-lock.ts';
import { ChaosRig } from './rig.ts';
import { SHORT, asteriskCrash, killControlPlane, mysqlOutage, noControlPlane, reportTable, type Report } from './scenarios.ts';

describe('chaos (short form)', () => {
  let rig: ChaosRig;
  let unlock: (() => Promise<void>) | undefined;
  const reports: Report[] = [];

  beforeAll(async () => {
    unlock = await lockTelephony();
    rig = await ChaosRig.start({ agents: SHORT.killAgents, log: (line) => console.log(`chaos: ${line}`) });
  }, 660_000);

  afterAll(async () => {
    if (reports.length) console.log(`\n${reportTable(reports)}\n`);
    await rig?.stop();
    await unlock?.();
  }, 120_000);

  const scenario = (name: string, run: typeof killControlPlane, timeoutMs: number) =>
    // No retry: a second attempt would run on what the first one left behind.
    it(name, { retry: 0, timeout: timeoutMs }, async () => {
      const report = await run(rig, SHORT);
      reports.push(report);
      expect(report.problems).toEqual([]);
      expect(report.cdrs).toBe(report.placed);
    });

  scenario('control plane SIGKILL with calls talking, ringing and queued: nothing lost, order kept', killControlPlane, 180_000);
  scenario('MySQL down: calls still routed, CDRs replayed once from the outbox', mysqlOutage, 180_000);
  scenario('Asterisk crash: lost calls closed with a cause, reconnects, serves new calls', asteriskCrash, 180_000);
  scenario('no control plane: the fallback ring group answers, CDRs reconciled from Asterisk', noControlPlane, 180_000);
});
