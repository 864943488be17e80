// Every Lambda function of a province stack, stated once: where its code is and what it may touch.
// The CDK stack (infra/stack) and the local runtime (infra/local) are both built from this table.
export type SecretName = 'piiKey' | 'voucherKey';

export interface FunctionDef {
  readonly entry: string;
  readonly description: string;
  /** 'logs': fed by a log subscription on other functions' log groups (events/subscriptions.ts `logSubscriptions`). */
  readonly kind: 'api' | 'authorizer' | 'stream' | 'consumer' | 'scheduled' | 'logs';
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
}

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
    indexes: ['GSI1'],
    timeoutSeconds: 30,
    // Routes race on the same stock items; more parallelism only buys more lost transactions.
    reservedConcurrency: 10,
  },
  stockWatch: {
    entry: 'functions/prescriptions/hoarding.ts',
    description: 'Units each prescriber holds reserved per district and drug; an operator alert when one holds a large share',
    kind: 'consumer',
    table: 'readwrite',
    // GSI1: the pharmacy list (a district's pharmacies).
    indexes: ['GSI1'],
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
} as const satisfies Record<string, FunctionDef>;

export type FunctionName = keyof typeof functionCatalog;
