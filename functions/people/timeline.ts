// Which events make and move a person's timeline entries, and what each says (pure). Read off the
// event catalog: every event of the referrals, prescriptions and advice contexts that names the
// record, the person and its status after the move is one, so an event a context adds later
// (another prescription status, say) moves the timeline without a row written here. Settlements'
// events say no status: their two are listed. A settlement a relative's personal account helped pay
// (family mutual aid) is on that relative's timeline too: their account paid it.
import { allEvents } from '#events/all';
import type { EventDef } from '#events/catalog';
import { SettlementCompleted, SettlementReversed } from '#events/vouchers';
import type { TimelineKind } from '#schemas/people';

export interface TimelineChange {
  personId: string;
  kind: TimelineKind;
  id: string;
  status: string;
  institutionId: string;
  /** When the move happened (the event's occurredAt). */
  updatedAt: string;
  /** Later moves win: occurredAt, then the event id (ULIDs sort by creation, in order within a transaction). */
  order: string;
  /** On the payer's entry for a relative's settlement under family mutual aid: the relative. */
  beneficiaryPersonId?: string;
  /** A settlement's: what it came to; on the payer's entry, what their account paid. */
  amountFen?: number;
}

type Detail = Record<string, unknown> & { id: string; occurredAt: string; personId: string };

interface Source {
  kind: TimelineKind;
  idField: string;
  /** Where it happened, as the person would say: the hospital referred to, the prescriber, the institution asked. */
  institutionField: string;
  status: (d: Detail) => string;
}

const moving: Record<string, Source> = {
  'consortium.referrals': { kind: 'referral', idField: 'referralId', institutionField: 'toInstitutionId', status: (d) => String(d.status) },
  'consortium.prescriptions': { kind: 'prescription', idField: 'prescriptionId', institutionField: 'prescriberId', status: (d) => String(d.status) },
  'consortium.advice': { kind: 'advice', idField: 'adviceId', institutionField: 'toInstitutionId', status: (d) => String(d.status) },
};
const settlementSource = (status: string): Source => ({ kind: 'settlement', idField: 'settlementId', institutionField: 'institutionId', status: () => status });

const sourceOf = new Map<EventDef, Source>();
for (const def of allEvents) {
  const s = moving[def.source];
  const shape = def.detail.shape as Record<string, unknown>;
  if (s && shape[s.idField] && shape.personId && shape.status && shape[s.institutionField]) sourceOf.set(def, s);
}
sourceOf.set(SettlementCompleted, settlementSource('settled'));
sourceOf.set(SettlementReversed, settlementSource('reversed'));

/** The events the projection consumes (its subscription's pattern is made of them). */
export const timelineEvents: readonly EventDef[] = [...sourceOf.keys()];

/** The entries an event puts or moves: the person's, and the paying relative's for a settlement under family mutual aid. */
export function timelineChanges(def: EventDef, raw: unknown): TimelineChange[] {
  const s = sourceOf.get(def);
  if (!s) throw new Error(`${def.detailType} does not move a timeline`);
  const d = raw as Detail;
  const change = changeOf(s, d);
  const payer = s.kind === 'settlement' && Number(d.mutualAidFen ?? 0) > 0 && typeof d.mutualAidPayerId === 'string' ? d.mutualAidPayerId : undefined;
  if (s.kind !== 'settlement') return [change];
  const own = { ...change, amountFen: Number(d.totalFen) };
  return payer ? [own, { ...change, personId: payer, beneficiaryPersonId: d.personId, amountFen: Number(d.mutualAidFen) }] : [own];
}

function changeOf(s: Source, d: Detail): TimelineChange {
  return {
    personId: d.personId,
    kind: s.kind,
    id: String(d[s.idField]),
    status: s.status(d),
    institutionId: String(d[s.institutionField]),
    updatedAt: d.occurredAt,
    order: `${d.occurredAt}#${d.id}`,
  };
}
