// The stock watch: how many units of each drug each prescriber holds reserved in each district, kept
// from the routing and release events, and an operator alert when one prescriber holds a large share
// of a district's stock of a drug (a clinic once reserved three pharmacies' whole stock for a person
// it had never seen, and a genuine prescription became unroutable). Idempotent: each event's change
// and its once-only marker are one transaction; an alert is raised once per prescriber, district,
// drug and day.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  PrescriptionCancelled, PrescriptionDispensed, PrescriptionExpired, PrescriptionRejected, PrescriptionRouted,
} from '#events/prescriptions';
import { cached } from '#shared/cache';
import { calendarDay } from '#shared/clock';
import { applyOnce, eventConsumer } from '#shared/consumer';
import { ddb, tableName, type TxItem } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { logger } from '#shared/logger';
import { raiseAlertOnce } from '../alerts/store.ts';
import { getInstitution } from '../institutions/store.ts';
import { holdsStock, type PharmacyInfo } from './domain.ts';
import { heldKey } from './keys.ts';
import * as store from './store.ts';

const CONSUMER = 'stock-watch';
const districtOf = cached(5 * 60_000, async (pharmacyId: string) => (await getInstitution(pharmacyId))?.district);

type Held = { drugCode: string; quantity: number };

/** Whether holding `held` units of a district stock of `onHand` is the kind of share an operator looks into. */
export function isHoarding(held: number, onHand: number, p: { hoardingShare: number; hoardingMinUnits: number }): boolean {
  return held >= p.hoardingMinUnits && onHand > 0 && held / onHand >= p.hoardingShare;
}

/**
 * What is on the shelves of the district's designated pharmacies (available + reserved), as of at
 * most a minute ago: reading every shelf of the district (a hundred and more pharmacies in a city
 * district) for each routed prescription cost more than the routing itself in a burst. The held
 * units it is compared with are always read fresh; a share of a minute-old total is good enough for
 * an alert an operator looks into.
 */
const districtOnHand = cached(60_000, async (drugAndDistrict: `${string}#${string}`): Promise<number> => {
  const [drugCode, district] = drugAndDistrict.split('#') as [string, string];
  const pharmacies: PharmacyInfo[] = (await store.districtPharmacies(district)).filter((p) => p.designated);
  const stock = await store.stockOnHand(pharmacies.map((p) => p.id), drugCode);
  return [...stock.values()].reduce((t, n) => t + n, 0);
});

async function watch(prescriberId: string, district: string, drugCode: string, eventId: string, now: Date): Promise<void> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: heldKey(district, drugCode, prescriberId), ConsistentRead: true }));
  const held = Number(Item?.units ?? 0);
  // Below the minimum no share is an alert: the district's stock is not read at all.
  if (held < provinceConfig().prescribing.hoardingMinUnits) return;
  const onHand = await districtOnHand(`${drugCode}#${district}`);
  if (!isHoarding(held, onHand, provinceConfig().prescribing)) return;
  const day = calendarDay(now, provinceConfig().timeZone);
  const raised = await raiseAlertOnce({
    type: 'stock-hoarding',
    institutionId: prescriberId,
    details: { district, drugCode, heldUnits: held, districtOnHandUnits: onHand, eventId },
    now,
    once: `stock-hoarding#${day}#${prescriberId}#${district}#${drugCode}`,
  });
  if (raised) logger.warn('stock hoarding alert', { prescriberId, drugCode, held, onHand });
}

export const handler = eventConsumer(
  [PrescriptionRouted, PrescriptionRejected, PrescriptionDispensed, PrescriptionCancelled, PrescriptionExpired],
  async ({ detailType, detail }) => {
    // Routed reserves; a rejection, a dispense, or a cancellation or expiry of a prescription that held stock releases.
    const sign = detailType === 'PrescriptionRouted' ? 1 : -1;
    const released = detailType === 'PrescriptionCancelled' || detailType === 'PrescriptionExpired' ? (detail.previousStatus && holdsStock(detail.previousStatus) ? detail.items : undefined) : detail.items;
    const items: Held[] = (sign > 0 ? detail.items : released) ?? [];
    if (!items.length || !detail.pharmacyId) return;
    const district = await districtOf(detail.pharmacyId);
    if (!district) return;
    const changes: TxItem[] = items.map(({ drugCode, quantity }) => ({
      write: {
        Update: {
          TableName: tableName(),
          Key: heldKey(district, drugCode, detail.prescriberId),
          UpdateExpression: 'ADD units :q',
          ExpressionAttributeValues: { ':q': sign * quantity },
        },
      },
    }));
    if (!(await applyOnce(CONSUMER, detail.id, changes))) return;
    if (sign > 0) for (const { drugCode } of items) await watch(detail.prescriberId, district, drugCode, detail.id, new Date());
  },
);
