// After deploying payers' timeline entries (a relative's settlement their personal account helped
// pay, family mutual aid) to a province that already has such settlements:
//   TABLE_NAME=<the province table> AWS_REGION=cn-north-1 npx tsx infra/ops/backfill-payer-timelines.ts
// (with the operator's credentials). Locally, while `npm start` runs:
//   TABLE_NAME=consortium-ZJ AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:<port> npx tsx infra/ops/backfill-payer-timelines.ts
// Scans the table once (functions/people/backfill.ts); safe to run again.
import { backfillPayerTimelines } from '../../functions/people/backfill.ts';

await backfillPayerTimelines(({ settlements, entries }) => process.stdout.write(`${settlements} settlements under family mutual aid, ${entries} timeline entries put\n`));
