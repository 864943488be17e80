// Outbox relay: the table stream (filtered to inserted outbox items) → PutEvents on the province bus.
// On a failure it reports the first unpublished record, so the stream retries from there: nothing
// is lost, and what is published twice is absorbed by idempotent consumers.
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { requireEnv } from '#shared/env';
import { logger } from '#shared/logger';
import { OUTBOX_PREFIX, type OutboxItem } from '#shared/outbox';

const eventBridge = new EventBridgeClient({});
const busName = requireEnv('EVENT_BUS_NAME');
/** PutEvents takes at most 10 entries. */
const BATCH = 10;

function toEntry(record: DynamoDBRecord): PutEventsRequestEntry | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>) as OutboxItem;
  if (!item.PK?.startsWith(OUTBOX_PREFIX)) return undefined;
  const occurredAt = (JSON.parse(item.detail) as { occurredAt?: string }).occurredAt;
  return {
    EventBusName: busName,
    Source: item.source,
    DetailType: item.detailType,
    Detail: item.detail,
    Time: occurredAt ? new Date(occurredAt) : undefined,
  };
}

export async function relay(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const pending = event.Records.flatMap((record) => {
    const entry = toEntry(record);
    return entry ? [{ record, entry }] : [];
  });
  for (let i = 0; i < pending.length; i += BATCH) {
    const batch = pending.slice(i, i + BATCH);
    let firstFailed = -1;
    try {
      const res = await eventBridge.send(new PutEventsCommand({ Entries: batch.map((p) => p.entry) }));
      firstFailed = (res.Entries ?? []).findIndex((e) => !!e.ErrorCode);
      if (firstFailed === -1 && (res.FailedEntryCount ?? 0) > 0) firstFailed = 0;
      if (firstFailed >= 0) {
        const failed = res.Entries?.[firstFailed];
        logger.warn('PutEvents rejected entries; the stream will retry', { failedCount: res.FailedEntryCount, errorCode: failed?.ErrorCode });
      }
    } catch (err) {
      logger.warn('PutEvents failed; the stream will retry', { errorName: (err as Error).name, message: (err as Error).message });
      firstFailed = 0;
    }
    if (firstFailed >= 0) {
      return { batchItemFailures: [{ itemIdentifier: batch[firstFailed]!.record.dynamodb!.SequenceNumber! }] };
    }
    logger.debug('published', { count: batch.length });
  }
  return { batchItemFailures: [] };
}

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(relay);
