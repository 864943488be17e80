// `npm run bench`: every benchmark in one run, printed as tables and written to bench/results.json.
// Figures that matter are ratios measured in this same run (machines here are noisy).
import '../infra/local/sdk-quiet.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { benchAccessLog } from './access-log.ts';
import { benchBundles } from './bundles.ts';
import { benchCapacity } from './capacity.ts';
import { benchDeskPolling } from './desk-polling.ts';
import { benchRuntime, printTable } from './lib.ts';
import { benchPrescriptionRouting } from './prescription-routing.ts';
import { benchRoundTrips } from './round-trips.ts';
import { benchScale } from './scale.ts';
import { benchSettlements } from './settlement.ts';

const { values: args } = parseArgs({ options: { scale: { type: 'string' }, people: { type: 'string', default: '200000' }, only: { type: 'string' } } });
/** `--only settlements,routing`: some of the benchmarks (settlements, routing, access, trips, capacity, bundles, polling). */
const only = args.only?.split(',');
const want = (name: string) => !only || only.includes(name);
const resultsFile = join(import.meta.dirname, 'results.json');

const results: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length };

const { rt, endpoint, enginePid, stop } = await benchRuntime();
if (args.scale) {
  // `--scale shandong`: the scale benchmark alone, its results written next to the others'.
  if (args.scale !== 'shandong') throw new Error(`--scale: only "shandong" is known, not "${args.scale}"`);
  try {
    const started = performance.now();
    const log = (s: string) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${s}\n`);
    const scale = await benchScale(rt, { endpoint, pid: enginePid }, { people: Number(args.people), log });
    printTable('The demo province, then the same table grown to Shandong\'s shape, same run (goals: Shandong ÷ demo p95 <= 1.5 for routing and referral routing; settlements >= 0.9)', scale.rows as never);
    printTable('Ratios, Shandong ÷ demo (and enrolment through the API ÷ raw BatchWriteItem, goal >= 0.5)', [scale.ratios] as never);
    printTable('Where a settlement\'s time went at each size (means per settlement; CPU from the first timed settlement until the consumers caught up)', scale.settlementCost as never);
    printTable('The DynamoDB commands those settlements set off, by function: per settlement, mean ms and items read per call', scale.settlementCommands as never);
    printTable('Seeding through the public API', [scale.seeding] as never);
    printTable('Router heap in a fresh process holding every district\'s pharmacies (goal: fits a 256 MB function with room)', [scale.heap] as never);
    printTable('Items read per request at both sizes (a route reading a list that grows with the province would show it)', scale.roundTrips as never);
    const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>) : {};
    writeFileSync(resultsFile, `${JSON.stringify({ ...previous, scale: { ...results, ...scale } }, null, 2)}\n`);
    process.stdout.write('\nwritten to bench/results.json (scale)\n');
  } finally {
    await stop();
  }
  process.exit(0);
}
try {
  if (want('settlements')) {
    const settlements = await benchSettlements(rt, endpoint);
    printTable(
      'Settlement through the local HTTP path vs raw TransactWriteItems (6 items), same engine, same run (goal: ratio >= 0.45 at concurrency 1); with a trace code per pack vs plain (goal: tracedRatio >= 0.8); DynamoDB commands per settlement (goal: db <= 3); where the time went (ms, mean)',
      settlements as never,
    );
    results.settlements = settlements;
  }

  if (want('routing')) {
    const routing = await benchPrescriptionRouting(rt);
    printTable('Prescription issued → routed on the local runtime (goal: p95 <= 250 ms one at a time, <= 1000 ms in a burst of 80); where the time went (ms, mean)', routing as never);
    results.prescriptionRouting = routing;
  }

  if (want('access')) {
    const access = await benchAccessLog(rt);
    printTable(`Access log: the same GET unlogged and logged, interleaved, same run (goal: logged ÷ unlogged <= 1.2): p50 ${access.ratio.p50.toFixed(2)}, mean ${access.ratio.mean.toFixed(2)}; a 50-person list logs in ${access.listLogUs.toFixed(0)} µs`, access.rows as never);
    results.accessLog = access;
  }

  if (want('trips')) {
    const trips = await benchRoundTrips(rt);
    printTable('DynamoDB commands per request and the items they read (goal: settle <= 3 commands)', trips as never);
    results.roundTrips = trips;
  }

  if (want('capacity')) {
    const capacity = await benchCapacity(rt, endpoint);
    printTable('DynamoDB units of one settlement, prescription and referral, API and consumers, as on-demand bills them (docs/capacity.md)', capacity.flows as never);
    printTable('The same by function, with each invocation\'s time on this machine', capacity.rows as never);
    results.capacity = capacity;
  }
} finally {
  await stop();
}

if (want('bundles')) {
  const bundles = await benchBundles();
  printTable('Cold start: every function bundled as the stack bundles it; import time vs an SDK-only bundle, whole fresh process vs hello-world (goal: processVsHello <= 1.6)', bundles.functions as never);
  printTable('Cold start of the vouchers function, one bundling choice at a time (same run)', bundles.choices as never);
  printTable('Where the vouchers function\'s import goes (its bundle unminified, a clock read where each module begins; medians)', bundles.vouchersImport as never);
  printTable('The same run: its schema modules one by one (share of the whole import; the first to build a schema also warms zod)', bundles.vouchersSchemaModules as never);
  results.bundles = bundles;
}

if (want('polling')) {
  const polling = benchDeskPolling();
  printTable("A pharmacy desk's queue in a 12-hour day: requests at a fixed pace and backing off while nothing changes (console/src/lib/polling.ts; a model, 20 simulated days each; docs/capacity.md)", polling as never);
  results.deskPolling = polling;
}

// What this run did not measure (the scale benchmark, benchmarks left out with --only) is kept.
const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>) : {};
writeFileSync(resultsFile, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
process.stdout.write('\nwritten to bench/results.json\n');
