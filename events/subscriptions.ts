// The event subscription table: which consumer gets which events. EventBridge rules in the CDK
// stack and the local bus's rules are both built from it.
import type { FunctionName } from '../functions/catalog.ts';
import { patternFor, sources } from './catalog.ts';
import { InstitutionChanged } from './institutions.ts';
import {
  PharmacyStockChanged, PrescriptionCancelled, PrescriptionDispensed, PrescriptionExpired, PrescriptionIssued, PrescriptionRejected, PrescriptionRouted,
} from './prescriptions.ts';
import { notifiedEvents } from '../functions/notifications/templates.ts';
import { referralEvents, settlementEvents } from '../functions/overview/counters.ts';
import { webhookEvents } from './audience.ts';
import { timelineEvents } from '../functions/people/timeline.ts';
import { ACCESS_MESSAGE } from '../functions/shared/access.ts';

export interface Subscription {
  readonly rule: string;
  readonly description: string;
  /** An EventBridge event pattern. */
  readonly pattern: Record<string, unknown>;
  readonly target: FunctionName;
}

export const subscriptions: readonly Subscription[] = [
  {
    rule: 'audit-all-domain-events',
    description: 'Every domain event into the audit projection',
    pattern: { source: Object.values(sources) },
    target: 'audit',
  },
  // ── vouchers ──

  // ── referrals ──

  // ── prescriptions ──
  {
    rule: 'prescription-router',
    description: 'Issued prescriptions, rejected ones to route again, stock changes that may route waiting (unroutable) ones, and withdrawn designations',
    pattern: patternFor(PrescriptionIssued, PrescriptionRejected, PharmacyStockChanged, InstitutionChanged),
    target: 'prescriptionRouter',
  },

  // ── overview ──
  {
    rule: 'overview-projection',
    description: 'Settlement and referral events into the operator overview counters',
    pattern: patternFor(...settlementEvents, ...referralEvents),
    target: 'overviewProjector',
  },

  {
    rule: 'stock-watch',
    description: 'Reservations made and released, to watch what each prescriber holds of a district\'s stock',
    pattern: patternFor(PrescriptionRouted, PrescriptionRejected, PrescriptionDispensed, PrescriptionCancelled, PrescriptionExpired),
    target: 'stockWatch',
  },

  // ── the person's timeline ──
  {
    // The projection's own table decides which events make and move timeline entries.
    rule: 'timeline-projection',
    description: "Referral, prescription, settlement and advice events into each person's timeline",
    pattern: patternFor(...timelineEvents),
    target: 'timelineProjector',
  },

  // ── notifications ──
  {
    // The notifier's template table decides which events are patient-facing (any context's).
    rule: 'notify-patients',
    description: 'Patient-facing events into the notifications outbox (SMS)',
    pattern: patternFor(...notifiedEvents),
    target: 'notifier',
  },

  // ── webhooks ──
  {
    // Every event about an institution's objects (events/audience.ts); subscriptions choose among them.
    rule: 'webhook-fanout',
    description: "Events about clinics', hospitals' and pharmacies' own objects, to their webhook subscriptions",
    pattern: patternFor(...webhookEvents),
    target: 'webhookFanout',
  },
];

export interface LogSubscription {
  readonly name: string;
  readonly description: string;
  /** Whose log groups: every function of this kind in the catalog. */
  readonly from: 'api';
  /**
   * The lines selected: JSON lines whose top-level `field` equals `equals` (in AWS the subscription
   * filter pattern `{ $.<field> = "<equals>" }`; locally the runtime's log tap applies the same test).
   */
  readonly match: { readonly field: string; readonly equals: string };
  readonly target: FunctionName;
}

/**
 * Log subscriptions: lines the functions log that another function consumes. In AWS a CloudWatch
 * Logs subscription filter on each log group, invoking the target asynchronously (retried, then
 * dead-lettered); locally the runtime taps the functions' output and hands it over the same way.
 */
export const logSubscriptions: readonly LogSubscription[] = [
  {
    name: 'person-access-log',
    description: "The HTTP chain's access lines (functions/shared/access.ts) into each person's access log",
    from: 'api',
    match: { field: 'message', equals: ACCESS_MESSAGE },
    target: 'accessLog',
  },
];

export interface Schedule {
  readonly name: string;
  readonly description: string;
  readonly everyMinutes: number;
  readonly target: FunctionName;
}

/** Scheduled consumers: an EventBridge schedule in AWS, a timer in the local runtime. */
export const schedules: readonly Schedule[] = [
  // ── referrals ──
  {
    name: 'referral-sla-sweep',
    description: 'Expires referrals not triaged within the province SLA and re-routes them to another institution with capacity',
    everyMinutes: 5,
    target: 'referralSweeper',
  },

  // ── advice and guidance ──
  {
    name: 'advice-sla-sweep',
    description: 'Re-routes advice requests unanswered within the province SLA to another institution, or closes them when nobody else can answer',
    everyMinutes: 5,
    target: 'adviceSweeper',
  },

  // ── prescriptions ──
  {
    name: 'prescription-expiry',
    description: 'Expires prescriptions past their validity and releases their reserved stock',
    everyMinutes: 5,
    target: 'prescriptionExpiry',
  },
];
