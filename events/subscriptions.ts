// The event subscription table: which consumer gets which events. EventBridge rules in the CDK
// stack and the local bus's rules are both built from it.
import type { FunctionName } from '../functions/catalog.ts';
import { patternFor, sources } from './catalog.ts';
import {
  PharmacyStockChanged, PrescriptionCancelled, PrescriptionDispensed, PrescriptionExpired, PrescriptionIssued, PrescriptionRejected, PrescriptionRouted,
} from './prescriptions.ts';
import { notifiedEvents } from '../functions/notifications/templates.ts';
import { referralEvents, settlementEvents } from '../functions/overview/counters.ts';
import { webhookEvents } from './audience.ts';

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
    description: 'Issued prescriptions, rejected ones to route again, and stock changes that may route waiting (unroutable) ones',
    pattern: patternFor(PrescriptionIssued, PrescriptionRejected, PharmacyStockChanged),
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

  // ── prescriptions ──
  {
    name: 'prescription-expiry',
    description: 'Expires prescriptions past their validity and releases their reserved stock',
    everyMinutes: 5,
    target: 'prescriptionExpiry',
  },
];
