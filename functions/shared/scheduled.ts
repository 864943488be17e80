// The middy chain of a scheduled consumer (an EventBridge schedule in AWS, a timer or
// POST /_local/schedules/<name> locally). The event's `time` is the clock: a sweep decides what is
// overdue as of that instant, which is what makes it testable with any "now".
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { EventBridgeEvent } from 'aws-lambda';
import { logger } from './logger.ts';

/** What a run gets besides the clock: the scheduled event's id, to correlate what the run causes. */
export interface Invocation {
  id: string;
}

export function scheduledHandler<R>(run: (now: Date, invocation: Invocation) => Promise<R>) {
  return middy<EventBridgeEvent<'Scheduled Event', unknown>, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const now = new Date(event.time);
      if (Number.isNaN(now.getTime())) throw new Error(`scheduled event without a valid time: ${event.time}`);
      logger.setCorrelationId(event.id);
      const result = await run(now, { id: event.id });
      logger.info('sweep done', { result: result as Record<string, unknown> });
      return result;
    });
}
