// Everything held about one person (API.md: GET /people/{personId}/export; PIPL Art. 45), read
// through the keys that lead to it, never a scan: the enrolment (masked), the voucher the person's
// pointer names, each record on the person's timeline read by its own context's store (a relative's
// settlement their account helped pay as what it paid, not the relative's purchase), their family
// mutual aid bindings, the text messages sent to them and their access log. tests/e2e/people.test.ts enumerates every item of a
// person in the table and checks each one is here (or says why it is not a record of theirs), so a
// new kind of record cannot be left out quietly.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { notificationRecord, type PersonalExport, type TimelineEntry } from '#schemas/people';
import { mapLimited } from '#shared/concurrency';
import { ddb, queryAll, tableName } from '#shared/db';
import { problem } from '#shared/errors';
import { getAdvice } from '../advice/store.ts';
import { accessLogPage } from '../access/store.ts';
import { getPerson, toEnrolment } from '../institutions/store.ts';
import { notificationKey } from '../notifications/keys.ts';
import { getPrescription } from '../prescriptions/store.ts';
import { viewFor as referralForNobody } from '../referrals/domain.ts';
import { getReferral, toReferral } from '../referrals/store.ts';
import { bindingsOf } from '../vouchers/family.ts';
import { personVoucherKey } from '../vouchers/keys.ts';
import { getSettlement, getVoucher } from '../vouchers/store.ts';
import { timelinePage } from './store.ts';

const PAGE = 200;
/** Records read at once: an export is rare, and stays well under the table's capacity. */
const CONCURRENCY = 8;

async function allPages<T>(page: (nextToken?: string) => Promise<{ items: T[]; nextToken?: string }>): Promise<T[]> {
  const all: T[] = [];
  let next: string | undefined;
  do {
    const p = await page(next);
    all.push(...p.items);
    next = p.nextToken;
  } while (next);
  return all;
}

const present = <T>(list: ReadonlyArray<T | undefined>): T[] => list.filter((x): x is T => x !== undefined);

async function messagesTo(personId: string) {
  const partition = notificationKey(personId, '', '').PK;
  const items = await queryAll({ TableName: tableName(), KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': partition } });
  return items.map((i) => notificationRecord.parse(i));
}

export async function exportPerson(personId: string, now: Date): Promise<PersonalExport> {
  const person = await getPerson(personId);
  if (!person) throw problem('not-found', `no enrolment ${personId}`);
  const [timeline, pointer, notifications, accessLog, familyBindings] = await Promise.all([
    allPages((t) => timelinePage(personId, PAGE, t)),
    ddb.send(new GetCommand({ TableName: tableName(), Key: personVoucherKey(personId) })).then((r) => r.Item),
    messagesTo(personId),
    allPages((t) => accessLogPage(personId, PAGE, t)),
    bindingsOf(personId),
  ]);
  const ids = (kind: TimelineEntry['kind']) => timeline.filter((e) => e.kind === kind).map((e) => e.id);
  const [voucher, settlements, referrals, prescriptions, adviceRequests] = await Promise.all([
    pointer ? getVoucher(String(pointer.voucherId)).then((v) => v?.voucher) : undefined,
    mapLimited(ids('settlement'), CONCURRENCY, getSettlement),
    mapLimited(ids('referral'), CONCURRENCY, async (id) => {
      const r = await getReferral(id);
      // As neither party sees it: no staff user ids in the history.
      return r && referralForNobody(toReferral(r), undefined);
    }),
    mapLimited(ids('prescription'), CONCURRENCY, async (id) => {
      const rx = await getPrescription(id);
      if (!rx) return undefined;
      const { rev: _rev, statusAt: _statusAt, waitingIn: _waitingIn, ...view } = rx;
      return view;
    }),
    mapLimited(ids('advice'), CONCURRENCY, async (id) => {
      const a = await getAdvice(id);
      if (!a) return undefined;
      const { version: _v, ...rest } = a;
      return { ...rest, history: rest.history.map(({ user: _user, ...h }) => h) };
    }),
  ]);
  const onTimeline = present(settlements);
  return {
    personId,
    exportedAt: now.toISOString(),
    enrolment: toEnrolment(person, now),
    vouchers: voucher ? [voucher] : [],
    settlements: onTimeline.filter((s) => s.personId === personId),
    mutualAidPaid: onTimeline
      .filter((s) => s.personId !== personId && s.mutualAidPayerId === personId)
      .map((s) => ({ settlementId: s.settlementId, beneficiaryPersonId: s.personId, institutionId: s.institutionId, mutualAidFen: s.mutualAidFen, status: s.status, settledAt: s.settledAt, ...(s.reversedAt ? { reversedAt: s.reversedAt } : {}) })),
    referrals: present(referrals),
    prescriptions: present(prescriptions),
    adviceRequests: present(adviceRequests),
    familyBindings,
    notifications,
    accessLog,
  };
}
