// Events of the prescriptions context. Details carry ids, drug codes, quantities and statuses only:
// never names, phones, national IDs, diagnoses, dosages or free-text reasons.
import * as z from 'zod';
import { drugCode } from '../schemas/common.ts';
import { prescriptionStatus as status } from '../schemas/prescriptions.ts';
import { defineEvent, sources } from './catalog.ts';

const items = z.array(z.object({ drugCode, quantity: z.number().int().positive() })).min(1);

/** What every transition event says: which prescription, whose, and the move it made. */
const transition = {
  prescriptionId: z.string(),
  prescriberId: z.string(),
  personId: z.string(),
  status,
  previousStatus: status.optional(),
};

export const PrescriptionIssued = defineEvent({
  source: sources.prescriptions,
  detailType: 'PrescriptionIssued',
  version: 1,
  detail: {
    ...transition,
    items,
    nominatedPharmacyId: z.string().optional(),
    referralId: z.string().optional(),
    expiresAt: z.iso.datetime(),
  },
});

export const PrescriptionRouted = defineEvent({
  source: sources.prescriptions,
  detailType: 'PrescriptionRouted',
  version: 1,
  detail: { ...transition, pharmacyId: z.string(), items, nominated: z.boolean() },
});

export const PrescriptionAccepted = defineEvent({
  source: sources.prescriptions,
  detailType: 'PrescriptionAccepted',
  version: 1,
  detail: { ...transition, pharmacyId: z.string() },
});

/** The router re-routes on this one; the reason stays on the prescription (free text). */
export const PrescriptionRejected = defineEvent({
  source: sources.prescriptions,
  detailType: 'PrescriptionRejected',
  version: 1,
  detail: { ...transition, pharmacyId: z.string(), items },
});

/** No eligible pharmacy: the prescriber is to be notified. */
export const PrescriptionUnroutable = defineEvent({
  source: sources.prescriptions,
  detailType: 'PrescriptionUnroutable',
  version: 1,
  detail: { ...transition, rejectedBy: z.array(z.string()) },
});

export const PrescriptionDispensed = defineEvent({
  source: sources.prescriptions,
  detailType: 'PrescriptionDispensed',
  version: 1,
  detail: { ...transition, pharmacyId: z.string(), settlementId: z.string(), items },
});

/** The pharmacy has the drugs ready: the patient is told to collect. */
export const PrescriptionReady = defineEvent({
  source: sources.prescriptions,
  detailType: 'PrescriptionReady',
  version: 1,
  detail: { ...transition, pharmacyId: z.string() },
});

/** `items`: what was released at `pharmacyId` if the previous status held stock (routed, accepted, partly dispensed). */
export const PrescriptionCancelled = defineEvent({
  source: sources.prescriptions,
  detailType: 'PrescriptionCancelled',
  version: 1,
  detail: { ...transition, pharmacyId: z.string().optional(), items: items.optional() },
});

export const PrescriptionExpired = defineEvent({
  source: sources.prescriptions,
  detailType: 'PrescriptionExpired',
  version: 1,
  detail: { ...transition, pharmacyId: z.string().optional(), items: items.optional() },
});

/**
 * A pharmacy set its stock of these drugs (PUT /pharmacies/{id}/stock): the router routes again the
 * unroutable prescriptions waiting on the pharmacy's district or on the pharmacy itself.
 */
export const PharmacyStockChanged = defineEvent({
  source: sources.prescriptions,
  detailType: 'PharmacyStockChanged',
  version: 1,
  detail: { pharmacyId: z.string(), district: z.string(), drugCodes: z.array(drugCode).min(1) },
});
