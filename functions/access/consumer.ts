// Access-log consumer: fed by the log subscription on the API functions' log groups
// (events/subscriptions.ts `logSubscriptions`: a CloudWatch Logs subscription filter in AWS, the
// local runtime's log tap here), it files each access line's entries under the person, to be read
// by GET /people/{personId}/access-log. Idempotent: an entry's key comes from the line (time,
// request id, place), so a batch delivered again writes the same items. Any failure fails the
// invocation: Lambda retries the batch, then puts it in the dead-letter queue (alarmed), from where
// it is redriven; a line is never dropped quietly.
import { gunzipSync } from 'node:zlib';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import * as z from 'zod';
import { accessLine, ACCESS_MESSAGE, type AccessLine } from '#shared/access';
import { epochSeconds } from '#shared/clock';
import { logger } from '#shared/logger';
import { accessEntryKey } from './keys.ts';
import { putEntries, type StoredEntry } from './store.ts';

/**
 * Kept at least six months (PRC Cybersecurity Law Art. 21 asks network logs be kept no less than
 * six months: at most 184 days) plus a week's margin, then removed by the table's TTL: the log
 * holds who looked at a person's records, itself personal data, no longer than that requires.
 */
export const ACCESS_LOG_RETENTION_DAYS = 191;

const logLine = z.object({ message: z.literal(ACCESS_MESSAGE), access: accessLine });

export function entriesOf(line: AccessLine): StoredEntry[] {
  const expiresAt = epochSeconds(new Date(line.at)) + ACCESS_LOG_RETENTION_DAYS * 86_400;
  return line.resources.map((resource, i) => ({
    ...accessEntryKey(line.personId, line.at, line.requestId, i),
    entity: 'accessLog',
    personId: line.personId,
    at: line.at,
    actor: line.actor,
    action: line.action,
    resource,
    operation: line.operation,
    requestId: line.requestId,
    expiresAt,
  }));
}

export function decode(event: CloudWatchLogsEvent): CloudWatchLogsDecodedData {
  return JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8')) as CloudWatchLogsDecodedData;
}

export const handler = middy<CloudWatchLogsEvent, void>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const data = decode(event);
    // CloudWatch Logs checks a new subscription's destination with a control message: nothing to file.
    if (data.messageType !== 'DATA_MESSAGE') return;
    // A line the filter selected but that is not an access line is our own bug: fail loudly.
    const entries = data.logEvents.flatMap((e) => entriesOf(logLine.parse(JSON.parse(e.message)).access));
    await putEntries(entries);
    logger.info('access entries filed', { lines: data.logEvents.length, entries: entries.length });
  });
