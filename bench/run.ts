// `npm run bench`: every benchmark in one run, printed as tables and written to bench/results.json.
// Figures that matter are ratios measured in this same run (machines here are noisy).
import '../infra/local/sdk-quiet.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchAccessLog } from './access-log.ts';
import { benchBundles } from './bundles.ts';
import { benchRuntime, printTable } from './lib.ts';
import { benchPrescriptionRouting } from './prescription-routing.ts';
import { benchRoundTrips } from './round-trips.ts';
import { benchSettlements } from './settlement.ts';

const results: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length };

const { rt, endpoint, stop } = await benchRuntime();
try {
  const settlements = await benchSettlements(rt, endpoint);
  printTable(
    'Settlement through the local HTTP path vs raw TransactWriteItems (6 items), same engine, same run (goal: ratio >= 0.25); with a trace code per pack vs plain (goal: tracedRatio >= 0.8); DynamoDB commands per settlement (goal: db <= 3)',
    settlements as never,
  );
  results.settlements = settlements;

  const routing = await benchPrescriptionRouting(rt);
  printTable('Prescription issued → routed on the local runtime (goal: p95 <= 2000 ms)', routing as never);
  results.prescriptionRouting = routing;

  const access = await benchAccessLog(rt);
  printTable(`Access log: the same GET unlogged and logged, interleaved, same run (goal: logged ÷ unlogged <= 1.2): p50 ${access.ratio.p50.toFixed(2)}, mean ${access.ratio.mean.toFixed(2)}; a 50-person list logs in ${access.listLogUs.toFixed(0)} µs`, access.rows as never);
  results.accessLog = access;

  const trips = await benchRoundTrips(rt);
  printTable('DynamoDB commands per request (goal: settle <= 3)', trips as never);
  results.roundTrips = trips;
} finally {
  await stop();
}

const bundles = await benchBundles();
printTable('Function bundles: size, import time in a fresh Node process vs hello-world and vs an SDK-only handler, whole process vs hello-world (goals: <= 300 KB, <= 2x)', bundles as never);
results.bundles = bundles;

writeFileSync(join(import.meta.dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write('\nwritten to bench/results.json\n');
