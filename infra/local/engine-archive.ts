// Class-data sharing for DynamoDB Local. Every test file starts an engine of its own, and a JVM that
// loads, verifies and links the classes of 160 jars at each start spent about 1.9 s and 2.3 s of CPU
// before it answered, and more on its first requests. An engine started once on a short workload of
// every kind of request the platform sends writes the classes it loaded into an archive at exit
// (-XX:ArchiveClassesAtExit); later engines map it (startDynamoDbLocal): about 0.9 s to answer, and
// 1.4 s less of the engine's CPU by the end of the demo province's seeding.
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { createTableInput, tableKeys } from '../../functions/shared/table.ts';
import { ensureLauncher, JAVA_OPTIONS, startDynamoDbLocal } from './dynamodb-local.ts';

/** Trains the archive unless one this JVM can use is there (checked in ~0.1 s). */
export async function ensureEngineArchive(): Promise<void> {
  const { classPath, archive } = ensureLauncher();
  if (existsSync(archive) && usable(archive, classPath)) return;
  const written = `${archive}.${process.pid}.tmp`;
  const engine = await startDynamoDbLocal({ archiveAtExit: written });
  // Without an archive engines start as before: slower, not wrong. So a failure here is said, not thrown.
  const trained = await train(engine.endpoint).then(
    () => true,
    (err: Error) => void process.stderr.write(`DynamoDB Local's class-data archive not trained: ${err.message}\n`),
  );
  await engine.stop(); // the JVM writes the archive as it exits
  if (!trained) rmSync(written, { force: true });
  else if (existsSync(written)) renameSync(written, archive);
  else process.stderr.write('DynamoDB Local wrote no class-data archive; engines start without one\n');
}

/** Whether this JVM maps the archive with this class path (another JDK, or jars changed since: no). */
function usable(archive: string, classPath: string): boolean {
  try {
    execFileSync('java', [...JAVA_OPTIONS, `-XX:SharedArchiveFile=${archive}`, '-Xshare:on', '-cp', classPath, '-version'], { stdio: 'ignore' });
    return true;
  } catch {
    rmSync(archive, { force: true });
    return false;
  }
}

/** One of each kind of request the platform's functions and the local stream poller send. */
async function train(endpoint: string): Promise<void> {
  // Loaded here: the tests' global setup, which only checks the archive most of the time, would load the SDK twice for nothing.
  const {
    BatchGetItemCommand, BatchWriteItemCommand, ConditionalCheckFailedException, CreateTableCommand, DeleteItemCommand, DescribeTableCommand,
    DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, ScanCommand, TransactGetItemsCommand, TransactionCanceledException,
    TransactWriteItemsCommand, UpdateItemCommand, UpdateTimeToLiveCommand,
  } = await import('@aws-sdk/client-dynamodb');
  const { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } = await import('@aws-sdk/client-dynamodb-streams');
  const config = { endpoint, region: 'cn-north-1', credentials: { accessKeyId: 'train', secretAccessKey: 'train' } };
  const db = new DynamoDBClient(config);
  const TableName = 'train';
  const { partitionKey: pk, sortKey: sk } = tableKeys;
  const gsi = tableKeys.indexes[0]!;
  const key = (p: string, s = 'v') => ({ [pk]: { S: p }, [sk]: { S: s } });
  const item = (p: string, n: number) => ({ ...key(p), [gsi.partitionKey]: { S: 'G' }, [gsi.sortKey]: { S: p }, n: { N: String(n) } });
  const refused = (e: unknown) => {
    if (!(e instanceof ConditionalCheckFailedException || e instanceof TransactionCanceledException)) throw e;
  };

  const { TableDescription } = await db.send(new CreateTableCommand(createTableInput(TableName)));
  await db.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { Enabled: true, AttributeName: tableKeys.ttlAttribute } }));
  await db.send(new DescribeTableCommand({ TableName }));
  for (let i = 0; i < 20; i++) await db.send(new PutItemCommand({ TableName, Item: item(`P${i}`, i), ConditionExpression: `attribute_not_exists(${pk})` }));
  await db.send(new PutItemCommand({ TableName, Item: item('P0', 0), ConditionExpression: `attribute_not_exists(${pk})`, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })).catch(refused);
  await db.send(new UpdateItemCommand({
    TableName, Key: key('P1'), UpdateExpression: 'SET #s = :s ADD n :one REMOVE gone', ConditionExpression: 'n >= :zero',
    ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'x' }, ':one': { N: '1' }, ':zero': { N: '0' } }, ReturnValues: 'ALL_NEW',
  }));
  await db.send(new GetItemCommand({ TableName, Key: key('P1'), ConsistentRead: true, ProjectionExpression: 'n' }));
  await db.send(new BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: [key('P2'), key('P3'), key('none')] } } }));
  await db.send(new BatchWriteItemCommand({ RequestItems: { [TableName]: [{ PutRequest: { Item: item('B1', 1) } }, { DeleteRequest: { Key: key('P4') } }] } }));
  await db.send(new QueryCommand({ TableName, KeyConditionExpression: `${pk} = :p AND begins_with(${sk}, :s)`, ExpressionAttributeValues: { ':p': { S: 'P1' }, ':s': { S: 'v' } } }));
  await db.send(new QueryCommand({
    TableName, IndexName: gsi.indexName, KeyConditionExpression: `${gsi.partitionKey} = :g AND ${gsi.sortKey} BETWEEN :a AND :b`, FilterExpression: 'n > :n',
    ExpressionAttributeValues: { ':g': { S: 'G' }, ':a': { S: 'P' }, ':b': { S: 'Q' }, ':n': { N: '2' } }, ScanIndexForward: false, Limit: 5,
  }));
  await db.send(new ScanCommand({ TableName, Limit: 10 }));
  const transact = (condition: string) => new TransactWriteItemsCommand({
    TransactItems: [
      { Update: { TableName, Key: key('P5'), UpdateExpression: 'ADD n :m', ConditionExpression: condition, ExpressionAttributeValues: { ':m': { N: '-1' } } } },
      { Put: { TableName, Item: item('T1', 1) } },
      { ConditionCheck: { TableName, Key: key('P6'), ConditionExpression: `attribute_exists(${pk})` } },
      { Delete: { TableName, Key: key('P7') } },
    ],
  });
  await db.send(transact('n > :m'));
  await db.send(transact('n < :m')).catch(refused);
  await db.send(new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName, Key: key('P8') } }, { Get: { TableName, Key: key('P9') } }] }));
  await db.send(new DeleteItemCommand({ TableName, Key: key('P10'), ReturnValues: 'ALL_OLD' }));

  const streams = new DynamoDBStreamsClient(config);
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: TableDescription!.LatestStreamArn! }));
  for (const shard of StreamDescription?.Shards ?? []) {
    const { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: TableDescription!.LatestStreamArn!, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
    await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
  }
  db.destroy();
  streams.destroy();
}
