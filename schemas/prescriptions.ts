// The prescriptions part of API.md: schemas and routes.
import * as z from 'zod';
import { drugCode, freeText, icd10, uniqueDrugCodes, institutionId, isoDateTime, page, pageQuery, patient, serverId } from './common.ts';
import { authProblems, defineRoute, type RouteDef } from './route.ts';

export const prescriptionStatuses = ['issued', 'routed', 'accepted', 'partially-dispensed', 'rejected', 'unroutable', 'dispensed', 'cancelled', 'expired'] as const;
export const prescriptionStatus = z.enum(prescriptionStatuses);
export type PrescriptionStatus = z.infer<typeof prescriptionStatus>;
/** Statuses that have not reached an end: the prescriber can still cancel, or it can expire. */
export const openPrescriptionStatuses = ['issued', 'routed', 'accepted', 'partially-dispensed', 'rejected', 'unroutable'] as const satisfies readonly PrescriptionStatus[];

/** The national prescription rules (处方管理办法) allow at most five drugs on one prescription. */
export const MAX_PRESCRIPTION_ITEMS = 5;
const MAX_PRESCRIPTION_DIAGNOSES = 10;
const rejectReason = freeText(500, { multiline: true });
/** A prescription is handed over in at most this many dispenses (each paid by its own settlement). */
const MAX_DISPENSES = 20;

/** Stock lines per PUT: one transaction of 100 writes, one of them the event. */
export const MAX_STOCK_ITEMS = 99;

export const prescriptionItem = z
  .object({
    drugCode,
    quantity: z.number().int().min(1).max(10_000),
    dosage: freeText(200).meta({ description: 'Dosage and usage, e.g. "5 mg once daily, oral"' }),
  })
  .strict();
export type PrescriptionItem = z.infer<typeof prescriptionItem>;

/** Days of treatment a prescription supplies: normally at most four weeks (the national rules). */
export const DEFAULT_SUPPLY_DAYS = 28;
export const NORMAL_MAX_SUPPLY_DAYS = 28;
/** A long prescription (长期处方) for a stable chronic disease supplies up to twelve weeks. */
export const MAX_SUPPLY_DAYS = 84;
/** A line's quantity is bounded by its supply days: at most this many packs per day supplied. */
export const MAX_PACKS_PER_SUPPLY_DAY = 1;

const supplyDays = z.number().int().min(1).max(MAX_SUPPLY_DAYS);

/** A long prescription's record: the doctor's assessment that the disease is stable, and the patient's consent. */
export const longTerm = z
  .object({
    assessment: freeText(1000, { multiline: true }).meta({ description: 'Why the condition is stable enough for a long prescription' }),
    patientConsent: z.literal(true, { message: 'the patient must consent to a long prescription' }),
  })
  .strict();

export const prescriptionRequest = z
  .object({
    personId: serverId,
    diagnoses: z
      .array(icd10)
      .min(1, 'at least one diagnosis')
      .max(MAX_PRESCRIPTION_DIAGNOSES, `at most ${MAX_PRESCRIPTION_DIAGNOSES} diagnoses`)
      .refine((ds) => new Set(ds).size === ds.length, 'diagnoses must be unique'),
    items: z
      .array(prescriptionItem)
      .min(1, 'at least one item')
      .max(MAX_PRESCRIPTION_ITEMS, `at most ${MAX_PRESCRIPTION_ITEMS} drugs per prescription`)
      .superRefine(uniqueDrugCodes),
    nominatedPharmacyId: institutionId.optional(),
    referralId: serverId.optional(),
    supplyDays: supplyDays.default(DEFAULT_SUPPLY_DAYS).meta({
      description: `Days of treatment supplied (default and normal maximum ${NORMAL_MAX_SUPPLY_DAYS}; up to ${MAX_SUPPLY_DAYS} for a long prescription, with longTerm); every item's quantity is at most ${MAX_PACKS_PER_SUPPLY_DAY} pack per day supplied`,
    }),
    longTerm: longTerm.optional(),
  })
  .strict()
  .superRefine((rx, ctx) => {
    // The rules below follow from supplyDays: an invalid one has its own error, and nothing else said from it.
    if (!supplyDays.safeParse(rx.supplyDays).success) return;
    const most = rx.supplyDays * MAX_PACKS_PER_SUPPLY_DAY;
    rx.items.forEach((item, i) => {
      if (item.quantity > most) ctx.addIssue({ code: 'custom', path: ['items', i, 'quantity'], message: `at most ${most} packs for ${rx.supplyDays} days of supply` });
    });
    if (rx.supplyDays > NORMAL_MAX_SUPPLY_DAYS && !rx.longTerm) {
      ctx.addIssue({ code: 'custom', path: ['longTerm'], message: `more than ${NORMAL_MAX_SUPPLY_DAYS} days is a long prescription: the assessment and the patient's consent are required` });
    }
    if (rx.longTerm && rx.supplyDays <= NORMAL_MAX_SUPPLY_DAYS) {
      ctx.addIssue({ code: 'custom', path: ['supplyDays'], message: `a long prescription supplies more than ${NORMAL_MAX_SUPPLY_DAYS} days` });
    }
  });
export type PrescriptionRequest = z.infer<typeof prescriptionRequest>;

export const historyEntry = z.object({
  status: prescriptionStatus,
  at: isoDateTime,
  /** Institution that made the move; absent for the platform's own (routing, expiry). */
  by: institutionId.optional(),
  reason: rejectReason.optional(),
});

export const prescription = z
  .object({
    prescriptionId: serverId,
    status: prescriptionStatus,
    personId: serverId,
    patient: patient.optional(),
    prescriberId: institutionId,
    diagnoses: z.array(icd10).max(MAX_PRESCRIPTION_DIAGNOSES),
    items: z.array(prescriptionItem).max(MAX_PRESCRIPTION_ITEMS),
    nominatedPharmacyId: institutionId.optional(),
    referralId: serverId.optional(),
    supplyDays: supplyDays.default(DEFAULT_SUPPLY_DAYS),
    longTerm: longTerm.optional(),
    /** Packs handed over so far (partial dispenses add up). */
    dispensed: z.array(z.object({ drugCode, quantity: z.number().int().min(1) })).max(MAX_PRESCRIPTION_ITEMS).optional(),
    /** Each dispense: the settlement it was paid with, and what it handed over. */
    dispenses: z
      .array(z.object({ settlementId: serverId, at: isoDateTime, items: z.array(z.object({ drugCode, quantity: z.number().int().min(1) })).max(MAX_PRESCRIPTION_ITEMS) }))
      .max(MAX_DISPENSES)
      .optional(),
    /** When the pharmacy told the patient the drugs are ready to collect. */
    readyAt: isoDateTime.optional(),
    /** The pharmacy it is routed to (routed, accepted, dispensed, and cancelled/expired after routing). */
    pharmacyId: institutionId.optional(),
    /** Pharmacies that rejected it; it is never routed to them again. Shown to the prescriber only. */
    rejectedBy: z.array(institutionId).optional().meta({
      description: 'Pharmacies that rejected it (never routed to them again). Prescriber only: a pharmacy sees neither this nor other pharmacies\' history entries',
    }),
    settlementId: serverId.optional(),
    issuedAt: isoDateTime,
    expiresAt: isoDateTime,
    updatedAt: isoDateTime,
    history: z.array(historyEntry),
  })
  .meta({ id: 'Prescription' });
export type Prescription = z.infer<typeof prescription>;

export const rejectRequest = z.object({ reason: rejectReason }).strict();
export const dispenseRequest = z
  .object({
    settlementId: serverId,
    /** The packs handed over now; fewer than owing → partially-dispensed, the rest stays reserved. Default: all owing. */
    items: z
      .array(z.object({ drugCode, quantity: z.number().int().min(1).max(10_000) }).strict())
      .min(1)
      .max(MAX_PRESCRIPTION_ITEMS)
      .superRefine(uniqueDrugCodes)
      .optional(),
  })
  .strict();

/** The most units of a drug one stock line holds. */
export const MAX_STOCK_QUANTITY = 1_000_000;

export const stockRequest = z
  .object({
    items: z
      .array(
        z
          .object({
            drugCode,
            quantity: z.number().int().min(0).max(MAX_STOCK_QUANTITY).meta({
              description: 'Units on hand, including units reserved for prescriptions routed here; available = quantity − reserved',
            }),
            /**
             * The on-hand count this edit started from (0 for a drug not stocked yet): if it is no
             * longer so (another desk or system set it, a dispense took some), 412 and nothing changes,
             * so that a delivery added to a stale count does not overwrite another's.
             */
            expectedOnHand: z.number().int().min(0).max(MAX_STOCK_QUANTITY).optional(),
          })
          .strict(),
      )
      .min(1, 'at least one item')
      // One transaction per request, all or nothing: DynamoDB allows 100 writes per transaction, one of
      // which is the PharmacyStockChanged event.
      .max(MAX_STOCK_ITEMS, `at most ${MAX_STOCK_ITEMS} items per request`)
      .superRefine(uniqueDrugCodes),
  })
  .strict();

export const stockLevel = z
  .object({
    drugCode,
    /** available + reserved: what is on the shelf. */
    onHand: z.number().int(),
    /** What new prescriptions can reserve. */
    available: z.number().int(),
    /** Held for prescriptions routed here and not yet dispensed. */
    reserved: z.number().int(),
    /** Units dispensed against prescriptions so far. */
    dispensed: z.number().int(),
  })
  .meta({ id: 'StockLevel' });
export type StockLevel = z.infer<typeof stockLevel>;

const tag = 'prescriptions';
const idParam = z.object({ id: serverId });
const pharmacyParam = z.object({ id: institutionId });

export const prescriptionRoutes = [
  defineRoute({
    operationId: 'issuePrescription',
    method: 'POST',
    path: '/prescriptions',
    fn: 'prescriptions',
    auth: ['clinic', 'hospital'],
    tag,
    summary: 'Issue an e-prescription; it is routed to a pharmacy asynchronously (status becomes routed or unroutable)',
    body: prescriptionRequest,
    // A HIS that lost the answer retries with the same key and gets the same prescription, not a second one.
    idempotencyKey: 'optional',
    responses: { 201: prescription },
    problems: ['validation-failed', 'not-enrolled', 'idempotency-key-reused', 'conflict', 'rate-limited', ...authProblems],
  }),
  defineRoute({
    operationId: 'getPrescription',
    method: 'GET',
    path: '/prescriptions/{id}',
    fn: 'prescriptions',
    auth: ['clinic', 'hospital', 'pharmacy'],
    tag,
    summary: 'One prescription (its prescriber and the pharmacy it is routed to; anyone else gets 404)',
    params: idParam,
    responses: { 200: prescription },
    problems: ['not-found', ...authProblems],
  }),
  defineRoute({
    operationId: 'listPrescriptions',
    method: 'GET',
    path: '/prescriptions',
    fn: 'prescriptions',
    auth: ['clinic', 'hospital', 'pharmacy'],
    tag,
    summary: "The caller's worklist: a pharmacy's routed prescriptions, a prescriber's issued ones; by status, oldest first",
    query: pageQuery.extend({ status: prescriptionStatus.optional() }),
    responses: { 200: page(prescription) },
    problems: ['validation-failed', ...authProblems],
  }),
  defineRoute({
    operationId: 'acceptPrescription',
    method: 'POST',
    path: '/prescriptions/{id}/accept',
    fn: 'prescriptions',
    auth: ['pharmacy'],
    tag,
    summary: 'The routed pharmacy accepts it after review (within its validity; past it → 409 invalid-transition)',
    params: idParam,
    responses: { 200: prescription },
    problems: ['not-found', 'invalid-transition', 'conflict', ...authProblems],
  }),
  defineRoute({
    operationId: 'rejectPrescription',
    method: 'POST',
    path: '/prescriptions/{id}/reject',
    fn: 'prescriptions',
    auth: ['pharmacy'],
    tag,
    summary: 'The routed pharmacy rejects it: stock released, re-routed to another pharmacy (never this one) or unroutable',
    params: idParam,
    body: rejectRequest,
    responses: { 200: prescription },
    problems: ['validation-failed', 'not-found', 'invalid-transition', 'conflict', ...authProblems],
  }),
  defineRoute({
    operationId: 'dispensePrescription',
    method: 'POST',
    path: '/prescriptions/{id}/dispense',
    fn: 'prescriptions',
    auth: ['pharmacy'],
    tag,
    summary:
      'Dispense an accepted prescription, within its validity, against a settlement of the same person at this pharmacy that paid for ' +
      'what is handed over (items; by default every pack owing). Fewer packs than owing → partially-dispensed, the rest stays reserved; ' +
      'a later dispense with another settlement completes it → dispensed. Review is mandatory: accept (review) the prescription before ' +
      'dispensing; a routed one → 409 invalid-transition',
    params: idParam,
    body: dispenseRequest,
    responses: { 200: prescription },
    problems: ['validation-failed', 'not-found', 'invalid-transition', 'conflict', ...authProblems],
  }),
  defineRoute({
    operationId: 'readyPrescription',
    method: 'POST',
    path: '/prescriptions/{id}/ready',
    fn: 'prescriptions',
    auth: ['pharmacy'],
    tag,
    summary:
      'The pharmacy has the drugs ready (after its review): the patient is told to collect, readyAt set. A repeat with nothing handed over ' +
      'since answers the same (the original readyAt), writes nothing and tells nobody again; after a partial dispense, ready tells the patient anew',
    params: idParam,
    responses: { 200: prescription },
    problems: ['not-found', 'invalid-transition', 'conflict', ...authProblems],
  }),
  defineRoute({
    operationId: 'cancelPrescription',
    method: 'POST',
    path: '/prescriptions/{id}/cancel',
    fn: 'prescriptions',
    auth: ['clinic', 'hospital'],
    tag,
    summary: 'The prescriber cancels it before dispensing; reserved stock is released',
    params: idParam,
    responses: { 200: prescription },
    problems: ['not-found', 'invalid-transition', 'conflict', ...authProblems],
  }),
  defineRoute({
    operationId: 'putStock',
    method: 'PUT',
    path: '/pharmacies/{id}/stock',
    fn: 'prescriptions',
    auth: ['pharmacy'],
    tag,
    summary:
      'Set on-hand quantities (that pharmacy only); available = on hand − reserved; below reserved → 409, nothing changed; ' +
      'an item whose on-hand count is no longer its expectedOnHand → 412, nothing changed. ' +
      'Unroutable prescriptions waiting for these drugs in the pharmacy\'s district, or nominating it, are routed again within seconds',
    params: pharmacyParam,
    body: stockRequest,
    responses: { 200: z.object({ pharmacyId: institutionId, items: z.array(stockLevel).max(MAX_STOCK_ITEMS) }) },
    problems: ['validation-failed', 'conflict', 'precondition-failed', 'service-unavailable', ...authProblems],
  }),
  defineRoute({
    operationId: 'getStock',
    method: 'GET',
    path: '/pharmacies/{id}/stock',
    fn: 'prescriptions',
    auth: ['pharmacy'],
    tag,
    summary: "A pharmacy's stock levels (that pharmacy only)",
    params: pharmacyParam,
    query: pageQuery,
    responses: { 200: page(stockLevel) },
    problems: ['validation-failed', ...authProblems],
  }),
] as const satisfies readonly RouteDef[];
