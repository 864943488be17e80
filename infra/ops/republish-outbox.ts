// After the OutboxRelayDlqDepth alarm (README: Republishing the outbox), for the window of a
// dead-lettered stream batch (its approximateArrivalOfFirstRecord and ...LastRecord):
//   TABLE_NAME=<TableName> EVENT_BUS_NAME=<EventBusArn> AWS_REGION=cn-north-1 npx tsx infra/ops/republish-outbox.ts \
//     --from 2026-11-20T03:00:00Z --to 2026-11-20T03:05:00Z [--margin 60] [--segments 8] [--dry-run]
// (with the operator's credentials). Locally only --dry-run works from outside `npm start` (its bus takes
// no other process's credentials), with TABLE_NAME and EVENT_BUS_NAME consortium-ZJ,
// AWS_ENDPOINT_URL_DYNAMODB=<the "DynamoDB Local on" address it prints>, and any region and keys
// (the SDK asks for them; DynamoDB Local takes any): AWS_REGION=local AWS_ACCESS_KEY_ID=local
// AWS_SECRET_ACCESS_KEY=local.
// Scans the table (infra/ops/outbox-republish.ts); safe to run again.
import { parseArgs } from 'node:util';
import { republishOutbox } from './outbox-republish.ts';

const { values } = parseArgs({
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    // The window is the stream's arrival times, the items' ids the writer's clock: widen it a little.
    margin: { type: 'string', default: '60' },
    segments: { type: 'string', default: '1' },
    'dry-run': { type: 'boolean', default: false },
  },
});
const instant = (name: string, value: string | undefined) => {
  const t = value ? new Date(value) : undefined;
  if (!t || Number.isNaN(t.getTime())) throw new Error(`--${name} <ISO 8601 instant> is required`);
  return t;
};
const count = (name: string, value: string, min: number) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return n;
};
const marginMs = count('margin', values.margin, 0) * 1000;
const from = new Date(instant('from', values.from).getTime() - marginMs);
const to = new Date(instant('to', values.to).getTime() + marginMs);
if (Date.now() - from.getTime() > 7 * 86_400_000) process.stderr.write('note: outbox items are kept 7 days; older ones are gone from the table\n');
process.stdout.write(`${values['dry-run'] ? 'counting' : 'republishing'} outbox items written ${from.toISOString()} .. ${to.toISOString()}\n`);
const done = await republishOutbox({
  from,
  to,
  dryRun: values['dry-run'],
  segments: count('segments', values.segments, 1),
  onPage: (p) => process.stdout.write(`${p.scanned} outbox items read, ${p.found} in the window, ${p.published} published\n`),
});
process.stdout.write(`done: ${done.found} in the window, ${done.published} published\n`);
