// Starts one in-memory DynamoDB Local for the run. Test workers are forked after this runs, so
// they inherit the endpoint through the environment.
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local.ts';

export default async function setup() {
  const ddb = await startDynamoDbLocal();
  process.env.TEST_DYNAMODB_ENDPOINT = ddb.endpoint;
  return () => ddb.stop();
}
