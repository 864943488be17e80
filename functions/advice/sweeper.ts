// Advice SLA sweeper (scheduled): requests still open past their due time are asked of another
// institution with the department (never one that let it lapse), or closed as unanswered when
// there is none; the asking clinic is told either way. Safe to overlap with itself and with
// replies: each move is conditioned on the status and version read.
import { scheduledHandler } from '#shared/scheduled';
import { sweepQueue } from '#shared/sla-queue';
import { adviceKey, SLA_PARTITION } from './keys.ts';
import { expireOverdue } from './service.ts';

export const handler = scheduledHandler((now, invocation) =>
  sweepQueue({
    now,
    noun: { one: 'an advice request', many: 'advice requests' },
    partition: SLA_PARTITION,
    idAttribute: 'adviceId',
    keyOf: adviceKey,
    attempt: (id) => expireOverdue(id, { now, correlationId: invocation.id }),
  }),
);
