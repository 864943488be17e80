// After deploying the district routing (issue 16) to a province that already has institutions:
//   TABLE_NAME=<the province table> AWS_REGION=cn-north-1 npx tsx infra/ops/backfill-routing.ts
// (with the operator's credentials). Locally, for a DATA_DIR from before it, while `npm start` runs:
//   TABLE_NAME=consortium-ZJ AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:<port> npx tsx infra/ops/backfill-routing.ts
// Writes what registration now writes with an institution (functions/institutions/store.ts); safe to
// run again.
import { backfillRouting } from '../../functions/institutions/store.ts';

let next: Record<string, unknown> | undefined;
let total = 0;
do {
  const page = await backfillRouting(next);
  total += page.institutions;
  next = page.next;
  process.stdout.write(`${total} institutions done\n`);
} while (next);
