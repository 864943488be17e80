// After deploying the version whose prescriptions keep a list of the settlements that named them
// (so their packs are not paid twice) and whose timeline entries carry a settlement's amount, to a
// province that already has settlements:
//   TABLE_NAME=<the province table> AWS_REGION=cn-north-1 npx tsx infra/ops/backfill-settlements.ts
// (with the operator's credentials). Locally, while `npm start` runs:
//   TABLE_NAME=consortium-ZJ AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:<port> AWS_REGION=local \
//     AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local npx tsx infra/ops/backfill-settlements.ts
// Scans the table twice; safe to run again.
import { backfillPrescriptionSettlements } from '../../functions/vouchers/backfill.ts';
import { backfillSettlementAmounts } from '../../functions/people/backfill.ts';

const listed = await backfillPrescriptionSettlements(({ settlements, recorded }) => process.stdout.write(`${settlements} settlements read, ${recorded} put on their prescription's list\n`));
const amounts = await backfillSettlementAmounts(({ settlements, entries }) => process.stdout.write(`${settlements} settlements read, ${entries} timeline entries given their amount\n`));
process.stdout.write(`done: ${listed.recorded} put on prescriptions' lists, ${amounts.entries} timeline amounts\n`);
