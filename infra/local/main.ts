// `npm start`: the whole platform on this machine. Ctrl-C stops every child process.
import './sdk-quiet.ts';
import { startRuntime } from './runtime.ts';
import { ensureConsoleBuilt } from './console-files.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);

// The console is served from console/dist; build it first when it is missing or out of date.
await ensureConsoleBuilt(log).catch((err: Error) => {
  process.stderr.write(`could not build the console (the API still starts): ${err.message}\n`);
});

const runtime = await startRuntime({ log, timers: true }).catch((err: Error) => {
  process.stderr.write(`could not start the local runtime: ${err.stack ?? err.message}\n`);
  process.exit(1);
});

const health = await fetch(`${runtime.url}/health`);
if (health.status !== 200) {
  process.stderr.write(`GET /health answered ${health.status}\n`);
  await runtime.stop();
  process.exit(1);
}
log(`province ${runtime.province.code} (${runtime.province.name}), table ${runtime.tableName}, data in ${runtime.dataDir}`);
log(`DynamoDB Local on ${runtime.dynamoEndpoint}`);
log(`token: npm run --silent token -- --role operator`);
log(`console (工作台) on ${runtime.url}/`);
log(`listening on ${runtime.url}`);

let stopping = false;
const shutdown = (reason: string) => {
  if (stopping) return;
  stopping = true;
  log(`${reason}: stopping`);
  runtime.stop().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => shutdown(signal));
// If whoever started us dies without a signal reaching us (kill -9 of a wrapper), stop as well
// rather than leave DynamoDB Local running.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && shutdown('parent exited'), 1000).unref();
