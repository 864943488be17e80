// A second baseline: a handler that only builds the DynamoDB document client every data function
// builds. The gap between it and hello-world is the AWS SDK's own load time.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async () => ({ statusCode: 200, body: String(!!client) });
