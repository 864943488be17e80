// The one key-schema definition of the province table: the CDK table and the local runtime's
// CreateTable are both derived from it.
export const tableKeys = {
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'expiresAt',
  indexes: [
    { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
    { indexName: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
  ],
  streamView: 'NEW_AND_OLD_IMAGES',
} as const;

export type IndexName = (typeof tableKeys.indexes)[number]['indexName'];

/** CreateTable input for DynamoDB Local (the AWS table is built by infra/stack/data.ts). */
export function createTableInput(tableName: string) {
  const attrs = [tableKeys.partitionKey, tableKeys.sortKey, ...tableKeys.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: attrs.map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: tableKeys.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: tableKeys.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: tableKeys.indexes.map((i) => ({
      IndexName: i.indexName,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: tableKeys.streamView },
  };
}

/** Outbox items: PK prefix, and the Lambda event-source filter that gives the relay only new ones. */
export const OUTBOX_PREFIX = 'OUTBOX#';
export const outboxStreamFilter = {
  eventName: ['INSERT'],
  dynamodb: { Keys: { PK: { S: [{ prefix: OUTBOX_PREFIX }] } } },
} as const;
