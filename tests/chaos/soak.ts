/**
 * Soak: a steady load for a long time, with the control plane's memory read at the start (after
 * a warm-up minute) and at the end, under the same load. Growth over 10 % is a problem, as are
 * failed calls, a CDR count short of the calls placed, and anything the leak checks find.
 */
import { readFileSync } from 'node:fs';
import type { ChaosRig } from './rig.ts';
import type { Report } from './scenarios.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function heapUsed(rig: ChaosRig): Promise<number> {
  const text = await fetch(`${rig.controlUrl}/metrics`).then((r) => r.text(), () => '');
  return Number(/^calldock_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
}

function rss(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export async function soak(
  rig: ChaosRig,
  options: { cps: number; seconds: number; talkSeconds: number; log: (line: string) => void },
): Promise<Report> {
  const prefix = '51';
  const placed = Math.round(options.cps * options.seconds);
  const report: Report = { scenario: `soak ${options.seconds} s at ${options.cps}/s`, placed, answered: 0, dropped: 0, cdrs: 0, reconciled: 0, recoveryMs: Number.NaN, notes: [], problems: [] };
  await rig.startAgents('soak', 200, options.talkSeconds * 1000);
  const run = await rig.customers(prefix, placed, options.cps, 120_000);
  // RSS settles over the first minutes (JIT, pools, caches): the start reading comes after that.
  const warmUp = Math.min(300, options.seconds / 4);
  await sleep(warmUp * 1000);
  const start = { rss: rss(rig.controlPid), heap: await heapUsed(rig) };
  options.log(`memory after ${warmUp} s: rss ${mb(start.rss)}, heap ${mb(start.heap)}`);
  const lastReading = (options.seconds - 2 * options.talkSeconds) * 1000;
  const every = 300_000;
  for (let at = warmUp * 1000 + every; at < lastReading; at += every) {
    await sleep(every);
    options.log(`after ${Math.round(at / 1000)} s: rss ${mb(rss(rig.controlPid))}, heap ${mb(await heapUsed(rig))}`);
  }
  await sleep(Math.max(0, lastReading - warmUp * 1000 - Math.floor((lastReading - warmUp * 1000) / every) * every));
  const end = { rss: rss(rig.controlPid), heap: await heapUsed(rig) };
  const growth = (end.rss - start.rss) / start.rss;
  report.notes.push(`control plane memory: rss ${mb(start.rss)} → ${mb(end.rss)} (${(growth * 100).toFixed(1)} %), heap ${mb(start.heap)} → ${mb(end.heap)}`);
  if (!(growth < 0.1)) report.problems.push(`control plane memory grew ${(growth * 100).toFixed(1)} % (limit 10 %)`);
  const totals = await run.done;
  report.dropped = totals.failed;
  if (totals.failed > 0) report.problems.push(`${totals.failed} call(s) failed`);
  await rig.drained();
  const rows = await rig.cdrs(prefix);
  report.cdrs = rows.length;
  report.answered = rows.filter((r) => r.answeredAt).length;
  if (rows.length !== placed) report.problems.push(`${rows.length} CDR rows for ${placed} calls placed`);
  report.problems.push(...(await rig.leaks()));
  return report;
}
