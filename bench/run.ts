// `npm run bench`: every benchmark in one run, printed as tables and written to bench/results.json.
// Figures that matter are ratios measured in this same run (machines here are noisy).
import '../infra/local/sdk-quiet.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchAccessLog } from './access-log.ts';
import { benchBundles } from './bundles.ts';
import { benchCapacity } from './capacity.ts';
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

  const capacity = await benchCapacity(rt, endpoint);
  printTable('DynamoDB units of one settlement, prescription and referral, API and consumers, as on-demand bills them (docs/capacity.md)', capacity.flows as never);
  printTable('The same by function, with each invocation\'s time on this machine', capacity.rows as never);
  results.capacity = capacity;
} finally {
  await stop();
}

const bundles = await benchBundles();
printTable('Cold start: every function bundled as the stack bundles it; import time vs an SDK-only bundle, whole fresh process vs hello-world (goal: processVsHello <= 1.6)', bundles.functions as never);
printTable('Cold start of the vouchers function, one bundling choice at a time (same run)', bundles.choices as never);
results.bundles = bundles;

writeFileSync(join(import.meta.dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write('\nwritten to bench/results.json\n');
