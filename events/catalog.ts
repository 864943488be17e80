// The event catalog: one definition per event (source, detail-type, version, zod detail schema).
// The outbox writer, the rule patterns, the consumers' validation and the tests all derive from it;
// a detail-type string is never typed twice.
import * as z from 'zod';

export const sources = {
  institutions: 'consortium.institutions',
  vouchers: 'consortium.vouchers',
  referrals: 'consortium.referrals',
  prescriptions: 'consortium.prescriptions',
  advice: 'consortium.advice',
} as const;
export type Source = (typeof sources)[keyof typeof sources];

/** Fields every detail carries. Never raw personal data: ids, codes, amounts, statuses. */
export const detailBase = z.object({
  id: z.string().min(1),
  occurredAt: z.iso.datetime(),
  province: z.string(),
  version: z.number().int().positive(),
  /** Request id of the API call that caused the event, to follow one action through logs. */
  correlationId: z.string().optional(),
});
export type DetailBase = z.infer<typeof detailBase>;

export interface EventDef<S extends Source = Source, T extends string = string, D extends z.ZodObject = z.ZodObject> {
  readonly source: S;
  readonly detailType: T;
  readonly version: number;
  /** Full detail schema, base fields included. */
  readonly detail: D;
}

export function defineEvent<const S extends Source, const T extends string, const Shape extends z.ZodRawShape>(def: {
  source: S;
  detailType: T;
  version: number;
  detail: Shape;
}) {
  return {
    source: def.source,
    detailType: def.detailType,
    version: def.version,
    detail: detailBase.extend(def.detail),
  };
}

/** The part of a detail the producer supplies; the outbox adds the base fields. */
export type DetailInput<E extends EventDef> = Omit<z.input<E['detail']>, keyof DetailBase>;
export type Detail<E extends EventDef> = z.output<E['detail']>;

/** EventBridge pattern matching exactly these events. */
export function patternFor(...defs: EventDef[]) {
  const bySource = new Map<string, string[]>();
  for (const d of defs) bySource.set(d.source, [...(bySource.get(d.source) ?? []), d.detailType]);
  if (bySource.size !== 1) {
    return { $or: [...bySource].map(([source, types]) => ({ source: [source], 'detail-type': types })) };
  }
  const [[source, types]] = [...bySource] as [[string, string[]]];
  return { source: [source], 'detail-type': types };
}
