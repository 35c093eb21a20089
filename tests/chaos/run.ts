/**
 * The chaos suite on its own: `npm run chaos` runs every scenario at full size (MySQL down 60 s)
 * and prints the report table; `npm run chaos -- --soak` runs the soak instead (steady load for
 * CHAOS_SOAK_SECONDS, default an hour, at CHAOS_SOAK_CPS, default 5 calls/s) and reports the
 * control plane's memory at the start and the end. Exits 1 when any check failed.
 * CHAOS_KEEP_LOGS=1 keeps the work folder (SIPp logs, control plane log, MariaDB error log).
 * `npm test` runs the short form (tests/chaos/chaos.test.ts).
 */
import { ChaosRig } from './rig.ts';
import { FULL, asteriskCrash, killControlPlane, mysqlOutage, noControlPlane, reportTable, type Report } from './scenarios.ts';
import { soak } from './soak.ts';

const say = (line: string) => process.stdout.write(`chaos: ${line}\n`);

async function main(): Promise<number> {
  const soaking = process.argv.includes('--soak');
  const cps = Number(process.env.CHAOS_SOAK_CPS ?? 5);
  const seconds = Number(process.env.CHAOS_SOAK_SECONDS ?? 3600);
  const talkSeconds = 8;
  const rig = await ChaosRig.start({ agents: soaking ? Math.ceil(cps * talkSeconds * 1.5) : FULL.killAgents, log: say });
  const reports: Report[] = [];
  try {
    if (soaking) {
      say(`soak: ${cps} calls/s for ${seconds} s`);
      reports.push(await soak(rig, { cps, seconds, talkSeconds, log: say }));
    } else {
      for (const scenario of [killControlPlane, mysqlOutage, asteriskCrash, noControlPlane]) {
        say(`running ${scenario.name}…`);
        reports.push(await scenario(rig, FULL));
      }
    }
  } finally {
    await rig.stop();
  }
  process.stdout.write(`\n${reportTable(reports)}\n`);
  return reports.some((r) => r.problems.length > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
