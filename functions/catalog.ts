// Every Lambda function of a province stack, stated once: where its code is and what it may touch.
// The CDK stack (infra/stack) and the local runtime (infra/local) are both built from this table.
import { webhookAttempts, type ProvinceRuntime } from '../schemas/province.ts';

export type SecretName = 'piiKey' | 'voucherKey';

export interface FunctionDef {
  readonly entry: string;
  readonly description: string;
  /**
   * queue: invoked with batches from an SQS queue of its own (an event source mapping; locally infra/local/queue.ts).
   * logs: fed by a log subscription on other functions' log groups (events/subscriptions.ts `logSubscriptions`).
   */
  readonly kind: 'api' | 'authorizer' | 'stream' | 'consumer' | 'scheduled' | 'queue' | 'logs';
  /** Table access: read, or read and write. */
  readonly table?: 'read' | 'readwrite';
  /** Indexes queried (least privilege: only these index ARNs are granted). */
  readonly indexes?: readonly ('GSI1' | 'GSI2' | 'GSI3')[];
  readonly secrets?: readonly SecretName[];
  readonly publishesEvents?: boolean;
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
  /** Caps parallel executions where a consumer must not overrun the table or a hot item. */
  readonly reservedConcurrency?: number;
  /** kind 'queue': its queue. A message received `attempts` times without success goes to the queue's DLQ. */
  readonly queue?: {
    readonly batchSize: number;
    /** Concurrent batches (the event source mapping's maximum concurrency, 2..1000). */
    readonly maxConcurrency: number;
    readonly attempts: (province: ProvinceRuntime) => number;
  };
  /** Queue consumers (kind 'queue') this function sends messages to. */
  readonly sendsTo?: readonly string[];
  /** The webhook secrets key (KMS): encrypt new secrets, or decrypt them to sign. */
  readonly webhookKey?: 'encrypt' | 'decrypt';
  /** Calls hosts outside AWS over the internet (receivers of webhooks), not only AWS APIs. */
  readonly internetEgress?: boolean;
}

/**
 * How long API Gateway keeps an authorizer's answer for one Authorization header (the stack's
 * resultsCacheTtl; the local gateway keeps it as long). Short: a revoked or expiring token stays
 * usable at most this long.
 */
export const AUTHORIZER_CACHE_SECONDS = 60;

/**
 * The DynamoDB actions a function's `table` access grants, on the table and its declared `indexes`
 * (infra/stack/functions.ts writes them into its role; the local runtime refuses any other command,
 * so a missing grant fails a test rather than the first request in AWS).
 */
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'] as const;
export const tableActions = {
  read: READ_ACTIONS,
  readwrite: [...READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
} as const;

export const functionCatalog = {
  authorizer: {
    entry: 'functions/authorizer/handler.ts',
    description: 'Verifies bearer JWTs against the province JWKS',
    kind: 'authorizer',
  },
  platform: {
    entry: 'functions/platform/handler.ts',
    description: 'Health check and the OpenAPI document',
    kind: 'api',
  },
  institutions: {
    entry: 'functions/institutions/handler.ts',
    description: 'Institutions, enrolments and the drug catalog',
    kind: 'api',
    table: 'readwrite',
    indexes: ['GSI1'],
    secrets: ['piiKey'],
  },
  outboxRelay: {
    entry: 'functions/outbox/relay.ts',
    description: 'Publishes outbox items from the table stream to the province bus',
    kind: 'stream',
    publishesEvents: true,
    timeoutSeconds: 60,
  },
  audit: {
    entry: 'functions/audit/handler.ts',
    description: 'Audit projection of every domain event',
    kind: 'consumer',
    table: 'readwrite',
    reservedConcurrency: 5,
  },

  // ── vouchers ──
  vouchers: {
    entry: 'functions/vouchers/handler.ts',
    description: 'E-vouchers: activation, QR codes, settlement, reversal, reconciliation',
    kind: 'api',
    table: 'readwrite',
    indexes: ['GSI1'],
    secrets: ['piiKey', 'voucherKey'],
  },

  // ── referrals ──
  referrals: {
    entry: 'functions/referrals/handler.ts',
    description: 'Two-way referrals: submission and routing, triage, arrival, completion, worklists',
    kind: 'api',
    table: 'readwrite',
    // GSI1: institution list (routing) and incoming worklists; GSI2: outgoing worklists.
    indexes: ['GSI1', 'GSI2'],
  },
  referralSweeper: {
    entry: 'functions/referrals/sweeper.ts',
    description: 'Expires referrals not triaged within the SLA and re-routes them',
    kind: 'scheduled',
    table: 'readwrite',
    // GSI1: institution list (routing); GSI3: the SLA queue.
    indexes: ['GSI1', 'GSI3'],
    timeoutSeconds: 120,
    // Overlapping runs are safe (conditional moves) but wasteful: one at a time.
    reservedConcurrency: 1,
  },
  notifier: {
    entry: 'functions/notifications/handler.ts',
    description: 'Patient SMS records (notifications outbox) for patient-facing events',
    kind: 'consumer',
    table: 'readwrite',
    reservedConcurrency: 5,
  },

  // ── prescriptions ──
  prescriptions: {
    entry: 'functions/prescriptions/handler.ts',
    description: 'E-prescriptions: issue, worklists, review, dispense, cancel; pharmacy stock',
    kind: 'api',
    table: 'readwrite',
    indexes: ['GSI1', 'GSI2'],
  },
  prescriptionRouter: {
    entry: 'functions/prescriptions/router.ts',
    description: 'Routes issued and rejected prescriptions to a stocked designated pharmacy, reserving stock',
    kind: 'consumer',
    table: 'readwrite',
    // GSI2: a district's pharmacies (the candidates).
    indexes: ['GSI2'],
    timeoutSeconds: 30,
    // Routes race on the same stock items; more parallelism only buys more lost transactions.
    reservedConcurrency: 10,
  },
  stockWatch: {
    entry: 'functions/prescriptions/hoarding.ts',
    description: 'Units each prescriber holds reserved per district and drug; an operator alert when one holds a large share',
    kind: 'consumer',
    table: 'readwrite',
    // GSI2: a district's pharmacies.
    indexes: ['GSI2'],
    reservedConcurrency: 5,
  },
  prescriptionExpiry: {
    entry: 'functions/prescriptions/expiry.ts',
    description: 'Expires prescriptions past their validity (expiry index) and releases their stock',
    kind: 'scheduled',
    table: 'readwrite',
    indexes: ['GSI3'],
    timeoutSeconds: 300,
    reservedConcurrency: 2,
  },

  // ── advice and guidance ──
  advice: {
    entry: 'functions/advice/handler.ts',
    description: 'Advice and guidance: a clinic asks a hospital department before referring; reply, convert to a referral, close',
    kind: 'api',
    table: 'readwrite',
    // GSI1: institution list (routing) and incoming worklists; GSI2: outgoing worklists.
    indexes: ['GSI1', 'GSI2'],
  },
  adviceSweeper: {
    entry: 'functions/advice/sweeper.ts',
    description: 'Re-routes advice requests unanswered within the SLA, or closes them when nobody else can answer',
    kind: 'scheduled',
    table: 'readwrite',
    // GSI1: institution list (routing); GSI3: the advice SLA queue.
    indexes: ['GSI1', 'GSI3'],
    timeoutSeconds: 120,
    reservedConcurrency: 1,
  },

  // ── the person's rights: timeline, access log, export ──
  people: {
    entry: 'functions/people/handler.ts',
    description: "A person's timeline, access log and data export (the person's own token, or an operator)",
    kind: 'api',
    table: 'read',
  },
  timelineProjector: {
    entry: 'functions/people/projector.ts',
    description: "Each person's timeline: referrals, prescriptions, settlements and advice requests, from their events",
    kind: 'consumer',
    table: 'readwrite',
    reservedConcurrency: 5,
  },
  accessLog: {
    entry: 'functions/access/consumer.ts',
    description: "Files the access lines the API functions log (a log subscription) into each person's access log",
    kind: 'logs',
    table: 'readwrite',
    reservedConcurrency: 5,
    timeoutSeconds: 60,
  },

  // ── overview ──
  overview: {
    entry: 'functions/overview/handler.ts',
    description: 'Province overview for operators, read from the overview projection',
    kind: 'api',
    table: 'read',
  },
  overviewProjector: {
    entry: 'functions/overview/projector.ts',
    description: 'Overview projection: sharded counters of settlements per day and referrals by status',
    kind: 'consumer',
    table: 'readwrite',
    reservedConcurrency: 5,
  },

  // ── webhooks ──
  webhooks: {
    entry: 'functions/webhooks/handler.ts',
    description: 'Webhook subscriptions of clinics, hospitals and pharmacies, and their recent deliveries',
    kind: 'api',
    table: 'readwrite',
    webhookKey: 'encrypt',
  },
  webhookFanout: {
    entry: 'functions/webhooks/fanout.ts',
    description: 'Finds the webhook subscriptions of the institutions an event is about and queues one delivery each',
    kind: 'consumer',
    table: 'readwrite',
    sendsTo: ['webhookSender'],
    reservedConcurrency: 5,
  },
  webhookSender: {
    entry: 'functions/webhooks/sender.ts',
    description: 'Delivers queued webhook messages (Standard Webhooks), retrying with backoff, then dead-lettering',
    kind: 'queue',
    table: 'readwrite',
    webhookKey: 'decrypt',
    internetEgress: true,
    // A batch's deliveries go out in parallel, each at most timeoutSeconds (≤ 5 s).
    timeoutSeconds: 30,
    queue: { batchSize: 10, maxConcurrency: 10, attempts: (p) => webhookAttempts(p.webhooks) },
    reservedConcurrency: 10,
  },
} as const satisfies Record<string, FunctionDef>;

export type FunctionName = keyof typeof functionCatalog;

/**
 * The environment variable holding the URL of a queue consumer's queue (webhookSender →
 * WEBHOOK_SENDER_QUEUE_URL), set for the consumer and for every function that sends to it.
 */
export const queueUrlEnv = (consumer: string) => `${consumer.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_QUEUE_URL`;

/**
 * A queue's visibility timeout: six times its consumer's timeout, as AWS advises for Lambda event
 * sources, so a batch still running is never handed to a second invocation.
 */
export const queueVisibilitySeconds = (def: FunctionDef) => 6 * (def.timeoutSeconds ?? 10);
