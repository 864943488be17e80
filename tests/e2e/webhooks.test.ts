// Webhooks (API.md "Webhooks (v2)") over HTTP against the local runtime, with real receivers: HTTP
// servers on 127.0.0.1 that verify every delivery with the standardwebhooks library. The referral,
// prescription and settlement flows each reach exactly the institutions they are about; a receiver
// failing three times gets the same webhook-id a fourth time; one that never answers is dead-lettered
// without holding up another's deliveries; URLs into private networks are refused.
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { audienceFields, webhookEventNames, webhookEventNamesFor } from '../../events/audience.ts';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { clearOfMidnight } from '../support/calendar.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';

/** Short retries so failures play out in seconds: 4 attempts, 1 s apart, 2 s each at most. */
const TIMEOUT_SECONDS = 2;
let rt: TestRuntime;
let operator: Caller;
let channel: Caller;
const who: Record<string, Caller> = {};
const receivers: Receiver[] = [];

/** Institutions that take part in the flows below, and ones that never do (they subscribe to everything they may). */
const parties = [['clinic', 'clinic-lingyin'], ['hospital', 'hosp-zjph'], ['pharmacy', 'ph-xihu-1']] as const;
const bystanders = [['clinic', 'clinic-beishan'], ['hospital', 'hosp-xihu'], ['pharmacy', 'ph-xihu-2']] as const;
/** Every event an institution may subscribe to (those that can reach its kind). */
const everything = (inst: string) => webhookEventNamesFor([...parties, ...bystanders].find(([, i]) => i === inst)![0]);
const bystanderReceivers: Record<string, Receiver> = {};

beforeAll(async () => {
  rt = await startTestRuntime({ configure: (p) => ({ ...p, webhooks: { ...p.webhooks, retryDelaysSeconds: [1, 1, 1], timeoutSeconds: TIMEOUT_SECONDS } }) });
  operator = await rt.as('operator');
  channel = await rt.as('channel');
  for (const [role, inst] of [...parties, ...bystanders]) who[inst] = await rt.as(role, inst);
  for (const [, inst] of bystanders) bystanderReceivers[inst] = await subscribe(inst, everything(inst));
});
afterAll(async () => {
  await rt?.stop();
  for (const r of receivers) await r.close();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

/** Subscribes a new receiver of `inst` to `events`; the receiver verifies with the secret the API showed. */
async function subscribe(inst: string, events: string[], r?: Receiver): Promise<Receiver & { webhookId?: string }> {
  const target = r ?? (await receiver());
  const res = await rt.call(who[inst], 'POST', '/webhooks', { url: target.url, events });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  target.secret = res.body.secret;
  return Object.assign(target, { webhookId: res.body.webhookId as string });
}

/** The event types a receiver got about one object, sorted (deliveries run in parallel). */
const typesAbout = (r: Receiver, field: string, id: string) => r.received.filter((d) => d.data[field] === id).map((d) => d.type).sort();

let seq = 900;
async function enrolled(): Promise<{ personId: string; nationalId: string; name: string }> {
  const nationalId = demoNationalId('330106', '19700101', seq++);
  const name = `推送测试${seq}`;
  const res = await rt.call(operator, 'POST', '/enrollments', { people: [{ nationalId, name, district: '西湖区', personalAccountFen: 100_000 }] });
  return { personId: res.body.personIds[0], nationalId, name };
}

async function settle(pharmacy: Caller, person: { nationalId: string; name: string }, body: Record<string, unknown>) {
  const voucherId = (await rt.call(channel, 'POST', '/vouchers', { nationalId: person.nationalId, name: person.name, channel: 'wechat' })).body.voucherId;
  const code = (await rt.call(channel, 'POST', `/vouchers/${voucherId}/codes`)).body.code;
  const res = await rt.call(pharmacy, 'POST', '/settlements', { code, ...body }, { 'idempotency-key': `webhook-test-${seq++}-${Date.now()}` });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { settlementId: string; settledAt: string };
}

describe('subscriptions', () => {
  it('are made, listed and deleted by their institution; the secret is shown once and stored only encrypted', async () => {
    const r = await receiver();
    const created = await rt.call(who['clinic-lingyin'], 'POST', '/webhooks', { url: r.url, events: ['ReferralAccepted', 'ReferralSubmitted'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ webhookId: expect.stringMatching(/^wh_/), url: r.url, events: ['ReferralAccepted', 'ReferralSubmitted'], secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/) });
    const { webhookId, secret } = created.body;

    const list = await rt.call(who['clinic-lingyin'], 'GET', '/webhooks');
    const mine = list.body.items.find((w: { webhookId: string }) => w.webhookId === webhookId);
    expect(mine).toEqual({ webhookId, url: r.url, events: ['ReferralAccepted', 'ReferralSubmitted'], createdAt: expect.any(String) });
    expect(JSON.stringify(list.body)).not.toContain('whsec_');

    // At rest: a KMS ciphertext, never the secret or its key bytes.
    const { Items } = await rt.db.send(new QueryCommand({ TableName: rt.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'WEBHOOKS#clinic-lingyin' } }));
    const item = Items!.find((i) => i.webhookId === webhookId)!;
    expect(item.secretCiphertext).toEqual(expect.any(String));
    const stored = JSON.stringify(Items);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice('whsec_'.length));

    expect((await rt.call(who['clinic-lingyin'], 'DELETE', `/webhooks/${webhookId}`)).status).toBe(204);
    expect((await rt.call(who['clinic-lingyin'], 'DELETE', `/webhooks/${webhookId}`)).status).toBe(404);
    const after = await rt.call(who['clinic-lingyin'], 'GET', '/webhooks');
    expect(after.body.items.map((w: { webhookId: string }) => w.webhookId)).not.toContain(webhookId);
  });

  it('take only event names of the catalog, each once, and a strict body', async () => {
    const url = (await receiver()).url;
    const bad = [
      { url, events: ['ReferralSent'] },
      { url, events: [] },
      { url, events: ['ReferralSubmitted', 'ReferralSubmitted'] },
      { url, events: ['VoucherActivated'] }, // about a person, not an institution's object
      { url, events: ['ReferralSubmitted'], institutionId: 'hosp-zjph' },
    ];
    for (const body of bad) {
      const res = await rt.call(who['clinic-lingyin'], 'POST', '/webhooks', body);
      expect([JSON.stringify(body), res.status, slug(res.body)]).toEqual([JSON.stringify(body), 400, 'validation-failed']);
    }
  });

  it('keep only the events that can reach the institution; none at all is 400 naming each, and stores nothing', async () => {
    const url = (await receiver()).url;
    const pharmacy = who['ph-xihu-1']!;
    const before = (await rt.call(pharmacy, 'GET', '/webhooks')).body.items.length;
    // A system asking for everything gets what can reach a pharmacy, and is told which.
    const all = await rt.call(pharmacy, 'POST', '/webhooks', { url, events: [...webhookEventNames] });
    expect(all.status).toBe(201);
    expect(all.body.events).toEqual(webhookEventNamesFor('pharmacy'));
    expect(all.body.events).not.toContain('ReferralSubmitted');
    expect((await rt.call(pharmacy, 'GET', '/webhooks')).body.items.find((w: { webhookId: string }) => w.webhookId === all.body.webhookId).events).toEqual(all.body.events);
    expect((await rt.call(pharmacy, 'DELETE', `/webhooks/${all.body.webhookId}`)).status).toBe(204);
    // Only events that never reach it: a mistake.
    const res = await rt.call(pharmacy, 'POST', '/webhooks', { url, events: ['ReferralSubmitted', 'PrescriptionIssued'] });
    expect([res.status, slug(res.body)]).toEqual([400, 'validation-failed']);
    expect(res.body.errors).toEqual([
      { path: 'body.events.0', message: 'never sent to a pharmacy' },
      { path: 'body.events.1', message: 'never sent to a pharmacy' },
    ]);
    expect(res.body.detail).toContain('ReferralSubmitted, PrescriptionIssued');
    expect((await rt.call(pharmacy, 'GET', '/webhooks')).body.items).toHaveLength(before);
    // A clinic neither settles nor keeps stock; a hospital settles at its outpatient pharmacy.
    const clinic = await rt.call(who['clinic-lingyin']!, 'POST', '/webhooks', { url, events: ['SettlementCompleted'] });
    expect([clinic.status, clinic.body.errors]).toEqual([400, [{ path: 'body.events.0', message: 'never sent to a clinic' }]]);
    const hospital = await rt.call(who['hosp-zjph']!, 'POST', '/webhooks', { url, events: ['SettlementCompleted', 'ReferralSubmitted'] });
    expect([hospital.status, hospital.body.events]).toEqual([201, ['SettlementCompleted', 'ReferralSubmitted']]);
    expect((await rt.call(who['hosp-zjph']!, 'DELETE', `/webhooks/${hospital.body.webhookId}`)).status).toBe(204);
  });

  it('are at most 10 per institution (409), counted exactly', async () => {
    const before = (await rt.call(who['hosp-zjph'], 'GET', '/webhooks')).body.items.length;
    const url = (await receiver()).url;
    const made: string[] = [];
    for (let i = before; i < 10; i++) {
      const res = await rt.call(who['hosp-zjph'], 'POST', '/webhooks', { url, events: ['ReferralCancelled'] });
      expect(res.status).toBe(201);
      made.push(res.body.webhookId);
    }
    const over = await rt.call(who['hosp-zjph'], 'POST', '/webhooks', { url, events: ['ReferralCancelled'] });
    expect([over.status, slug(over.body)]).toEqual([409, 'conflict']);
    for (const id of made) expect((await rt.call(who['hosp-zjph'], 'DELETE', `/webhooks/${id}`)).status).toBe(204);
    expect((await rt.call(who['hosp-zjph'], 'GET', '/webhooks')).body.items).toHaveLength(before);
  });

  it("belong to their institution: another cannot list, delete or read the deliveries of one (404), and the role's others are refused (403)", async () => {
    const mine = await subscribe('clinic-lingyin', ['ReferralCancelled']);
    for (const other of ['clinic-beishan', 'hosp-zjph', 'ph-xihu-2']) {
      expect((await rt.call(who[other], 'GET', '/webhooks')).body.items.map((w: { webhookId: string }) => w.webhookId)).not.toContain(mine.webhookId);
      expect((await rt.call(who[other], 'DELETE', `/webhooks/${mine.webhookId}`)).status).toBe(404);
      expect((await rt.call(who[other], 'GET', `/webhooks/${mine.webhookId}/deliveries`)).status).toBe(404);
    }
    for (const caller of [operator, channel]) {
      expect((await rt.call(caller, 'GET', '/webhooks')).status).toBe(403);
      expect((await rt.call(caller, 'POST', '/webhooks', { url: mine.url, events: ['ReferralCancelled'] })).status).toBe(403);
    }
    expect((await rt.call(who['clinic-lingyin'], 'GET', `/webhooks/${mine.webhookId}/deliveries`)).status).toBe(200);
  });
});

describe('receiver URLs', () => {
  it.each([
    ['http to a public host', 'http://his.example.cn/hooks'],
    ['private 10/8', 'https://10.0.0.8/hooks'],
    ['private 192.168/16', 'https://192.168.10.2:8443/hooks'],
    ['private 172.16/12', 'https://172.31.255.1/hooks'],
    ['loopback other than the allowed 127.0.0.1', 'https://127.0.0.53/hooks'],
    ['loopback IPv6', 'https://[::1]:8443/hooks'],
    ['a name that resolves to loopback', 'https://localhost:8443/hooks'],
    ['link-local', 'https://169.254.1.1/hooks'],
    ['the metadata service', 'https://169.254.169.254/latest/meta-data/iam/'],
    ['the IPv6 metadata service', 'https://[fd00:ec2::254]/'],
    ['IPv4-mapped private', 'https://[::ffff:192.168.0.1]/hooks'],
    ['the unspecified address', 'https://0.0.0.0/hooks'],
    ['credentials in the URL', 'https://user:pass@his.example.cn/hooks'],
    ['a name that does not resolve', 'https://his.consortium.invalid/hooks'],
  ])('refuses %s with 400 on the url field, writing nothing', async (_name, url) => {
    const before = (await rt.call(who['ph-xihu-1'], 'GET', '/webhooks')).body.items.length;
    const res = await rt.call(who['ph-xihu-1'], 'POST', '/webhooks', { url, events: ['PrescriptionRouted'] });
    expect([res.status, slug(res.body)]).toEqual([400, 'validation-failed']);
    expect(res.body.errors[0].path).toBe('body.url');
    expect((await rt.call(who['ph-xihu-1'], 'GET', '/webhooks')).body.items).toHaveLength(before);
  });

  it('a redirect is a failed attempt, never followed', async () => {
    const elsewhere = await subscribe('clinic-lingyin', ['ReferralCancelled']);
    const redirecting = await subscribe('clinic-lingyin', ['ReferralSubmitted']);
    redirecting.answer = () => ({ status: 307, headers: { location: elsewhere.url } });
    const person = await enrolled();
    const ref = (await rt.call(who['clinic-lingyin'], 'POST', '/referrals', { personId: person.personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' })).body;
    await rt.settle();
    expect(typesAbout(redirecting, 'referralId', ref.referralId)).toEqual(Array(4).fill('ReferralSubmitted'));
    expect(elsewhere.received).toEqual([]);
    const deliveries = (await rt.call(who['clinic-lingyin'], 'GET', `/webhooks/${redirecting.webhookId}/deliveries`)).body.items;
    const d = deliveries.find((x: { type: string; status: string }) => x.type === 'ReferralSubmitted');
    expect(d.status).toBe('failed');
    expect(d.attempts.map((a: { statusCode: number; error: string }) => [a.statusCode, a.error])).toEqual(Array(4).fill([307, 'redirect not followed']));
    expect((await rt.call(who['clinic-lingyin'], 'DELETE', `/webhooks/${redirecting.webhookId}`)).status).toBe(204);
  });
});

describe('deliveries follow the flows to the institutions they are about', () => {
  beforeEach(() => clearOfMidnight(30_000));

  it('a referral: the referring clinic and the receiving hospital, each only the events it asked for', async () => {
    const referralEvents = ['ReferralSubmitted', 'ReferralAccepted', 'ReferralArrived', 'ReferralCompleted'];
    const clinic = await subscribe('clinic-lingyin', referralEvents);
    const clinicSubmittedOnly = await subscribe('clinic-lingyin', ['ReferralSubmitted']);
    const hospital = await subscribe('hosp-zjph', referralEvents);
    const pharmacy = await subscribe('ph-xihu-1', everything('ph-xihu-1'));
    const person = await enrolled();
    const ref = (await rt.call(who['clinic-lingyin'], 'POST', '/referrals', { personId: person.personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'urgent' })).body;
    const appointmentAt = new Date(Date.now() + 2 * 86_400_000).toISOString();
    expect((await rt.call(who['hosp-zjph'], 'POST', `/referrals/${ref.referralId}/accept`, { appointmentAt })).status).toBe(200);
    expect((await rt.call(who['hosp-zjph'], 'POST', `/referrals/${ref.referralId}/arrive`)).status).toBe(200);
    expect((await rt.call(who['hosp-zjph'], 'POST', `/referrals/${ref.referralId}/complete`)).status).toBe(200);
    await rt.settle();

    expect(typesAbout(clinic, 'referralId', ref.referralId)).toEqual([...referralEvents].sort());
    expect(typesAbout(hospital, 'referralId', ref.referralId)).toEqual([...referralEvents].sort());
    expect(typesAbout(clinicSubmittedOnly, 'referralId', ref.referralId)).toEqual(['ReferralSubmitted']);
    expect(typesAbout(pharmacy, 'referralId', ref.referralId)).toEqual([]);
    // The message: ids, statuses and times only.
    const accepted = clinic.received.find((d) => d.type === 'ReferralAccepted' && d.data.referralId === ref.referralId)!;
    expect(accepted.data).toEqual({ eventId: expect.stringMatching(/^evt_/), referralId: ref.referralId, fromInstitutionId: 'clinic-lingyin', toInstitutionId: 'hosp-zjph', status: 'accepted', appointmentAt });
    expect(JSON.stringify(clinic.received)).not.toContain(person.personId);
    // The same event to two subscriptions: two webhook-ids, one event id.
    const submitted = [clinic, clinicSubmittedOnly].map((r) => r.received.find((d) => d.type === 'ReferralSubmitted' && d.data.referralId === ref.referralId)!);
    expect(submitted[0]!.id).not.toBe(submitted[1]!.id);
    expect(submitted[0]!.data.eventId).toBe(submitted[1]!.data.eventId);
  });

  it("a question (会诊咨询): the asking clinic and the hospital asked, with ids and statuses, never the question's words", async () => {
    const adviceEvents = ['AdviceRequested', 'AdviceAnswered', 'AdviceConverted'];
    const clinic = await subscribe('clinic-lingyin', adviceEvents);
    const hospital = await subscribe('hosp-zjph', ['AdviceRequested']);
    const otherHospital = bystanderReceivers['hosp-xihu']!; // subscribed to everything a hospital may
    const person = await enrolled();
    const asked = await rt.call(who['clinic-lingyin'], 'POST', '/advice-requests', { personId: person.personId, toInstitutionId: 'hosp-zjph', department: 'CARD', question: '晨起血压仍高，是否调整方案？' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const { adviceId } = asked.body;
    expect((await rt.call(who['hosp-zjph'], 'POST', `/advice-requests/${adviceId}/reply`, { answer: '建议上转评估', recommendation: 'refer' })).status).toBe(200);
    const converted = await rt.call(who['clinic-lingyin'], 'POST', `/advice-requests/${adviceId}/convert`);
    expect(converted.status).toBe(201);
    await rt.settle();

    expect(typesAbout(clinic, 'adviceId', adviceId)).toEqual([...adviceEvents].sort());
    expect(typesAbout(hospital, 'adviceId', adviceId)).toEqual(['AdviceRequested']);
    expect(typesAbout(otherHospital, 'adviceId', adviceId)).toEqual([]);
    const requested = hospital.received.find((d) => d.type === 'AdviceRequested' && d.data.adviceId === adviceId)!;
    expect(requested.data).toEqual({ eventId: expect.stringMatching(/^evt_/), adviceId, fromInstitutionId: 'clinic-lingyin', toInstitutionId: 'hosp-zjph', status: 'open' });
    expect(clinic.received.find((d) => d.type === 'AdviceConverted' && d.data.adviceId === adviceId)!.data.referralId).toBe(converted.body.referralId);
    expect(JSON.stringify([...clinic.received, ...hospital.received])).not.toMatch(new RegExp(`${person.personId}|血压|上转评估`));
  });

  it('a new secret: a day of two signatures, so the receiver switches without refusing any; a second change drops the first secret', async () => {
    const r = await subscribe('clinic-lingyin', ['ReferralSubmitted']);
    const first = r.secret!;
    const refer = async () => {
      const person = await enrolled();
      const ref = (await rt.call(who['clinic-lingyin'], 'POST', '/referrals', { personId: person.personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' })).body;
      await rt.settle();
      const got = r.received.find((d) => d.data.referralId === ref.referralId);
      expect(got, JSON.stringify(r.refused.map((x) => x.error))).toBeDefined();
      return got!;
    };
    const verifies = (secret: string, d: { body: string; headers: Record<string, unknown> }) => {
      try {
        new Webhook(secret).verify(d.body, d.headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    };
    // Another institution's subscription is not there to change.
    expect((await rt.call(who['clinic-beishan'], 'POST', `/webhooks/${r.webhookId}/secret`)).status).toBe(404);

    const changed = await rt.call(who['clinic-lingyin'], 'POST', `/webhooks/${r.webhookId}/secret`);
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const second = changed.body.secret as string;
    expect(second).toMatch(/^whsec_/);
    expect(second).not.toBe(first);
    const until24h = Date.parse(changed.body.previousSecretExpiresAt) - Date.now();
    expect(until24h).toBeGreaterThan(23.9 * 3600_000);
    expect(until24h).toBeLessThanOrEqual(24 * 3600_000);
    const listed = (await rt.call(who['clinic-lingyin'], 'GET', '/webhooks')).body.items.find((w: { webhookId: string }) => w.webhookId === r.webhookId);
    expect(listed).toEqual({ webhookId: r.webhookId, url: r.url, events: ['ReferralSubmitted'], createdAt: expect.any(String), previousSecretExpiresAt: changed.body.previousSecretExpiresAt });
    expect(JSON.stringify(listed)).not.toContain('whsec_');

    // The receiver still holds the first secret: received (it verified), and the second verifies it too.
    const during = await refer();
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect([verifies(first, during), verifies(second, during)]).toEqual([true, true]);

    // Changed again within the day: the second and the third sign; the first no longer does.
    const third = (await rt.call(who['clinic-lingyin'], 'POST', `/webhooks/${r.webhookId}/secret`)).body.secret as string;
    r.secret = third;
    const after = await refer();
    expect([verifies(first, after), verifies(second, after), verifies(third, after)]).toEqual([false, true, true]);
    expect(r.refused).toEqual([]);
  });

  it('a question the platform re-asks elsewhere: the hospital that let it lapse is told (AdviceExpired), then nothing more of it', async () => {
    // A department only these two hospitals have: the sweep can only re-ask the second.
    const dept = 'HOOKLAPSE';
    for (const id of ['hosp-lapse-1', 'hosp-lapse-2']) {
      expect((await rt.call(operator, 'POST', '/institutions', { id, name: `超时医院${id.slice(-1)}`, type: 'hospital', level: 'secondary', district: '西湖区', designated: true, departments: [{ code: dept, name: '咨询科', dailyCapacity: 5 }] })).status).toBe(201);
      who[id] = await rt.as('hospital', id);
    }
    const [lapsed, next] = [await subscribe('hosp-lapse-1', webhookEventNamesFor('hospital')), await subscribe('hosp-lapse-2', webhookEventNamesFor('hospital'))];
    const person = await enrolled();
    const asked = await rt.call(who['clinic-lingyin'], 'POST', '/advice-requests', { personId: person.personId, toInstitutionId: 'hosp-lapse-1', department: dept, question: '是否需要调整方案？' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const { adviceId, slaDueAt } = asked.body;
    await rt.runSchedule('advice-sla-sweep', new Date(Date.parse(slaDueAt) + 60_000));
    await rt.settle();

    expect(typesAbout(lapsed, 'adviceId', adviceId)).toEqual(['AdviceExpired', 'AdviceRequested']);
    expect(lapsed.received.find((d) => d.type === 'AdviceExpired')!.data).toEqual({ eventId: expect.stringMatching(/^evt_/), adviceId, fromInstitutionId: 'clinic-lingyin', toInstitutionId: 'hosp-lapse-1', status: 'open' });
    expect(typesAbout(next, 'adviceId', adviceId)).toEqual(['AdviceRerouted']);
    expect((await rt.call(who['hosp-lapse-1'], 'GET', `/advice-requests/${adviceId}`)).status).toBe(404);

    // Unanswered there too, with nobody left: closed. The first hears nothing more.
    const moved = (await rt.call(who['hosp-lapse-2'], 'GET', `/advice-requests/${adviceId}`)).body;
    await rt.runSchedule('advice-sla-sweep', new Date(Date.parse(moved.slaDueAt) + 60_000));
    await rt.settle();
    expect(typesAbout(next, 'adviceId', adviceId)).toEqual(['AdviceClosed', 'AdviceExpired', 'AdviceRerouted']);
    // Each says the status after its lapse: open again elsewhere, or closed.
    expect(lapsed.received.find((d) => d.type === 'AdviceExpired')!.data.status).toBe('open');
    expect(next.received.find((d) => d.type === 'AdviceExpired')!.data.status).toBe('closed');
    expect(typesAbout(lapsed, 'adviceId', adviceId)).toEqual(['AdviceExpired', 'AdviceRequested']);
  });

  it('a prescription: the prescriber and the pharmacy it is routed to; the settlement only to the pharmacy', async () => {
    const rxEvents = ['PrescriptionIssued', 'PrescriptionRouted', 'PrescriptionAccepted', 'PrescriptionDispensed'];
    const clinic = await subscribe('clinic-lingyin', rxEvents);
    const pharmacy = await subscribe('ph-xihu-1', everything('ph-xihu-1'));
    const hospital = await subscribe('hosp-zjph', everything('hosp-zjph'));
    const person = await enrolled();
    const rx = (await rt.call(who['clinic-lingyin'], 'POST', '/prescriptions', { personId: person.personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 2, dosage: '每日一次' }], nominatedPharmacyId: 'ph-xihu-1' })).body;
    await rt.settle();
    expect((await rt.call(who['ph-xihu-1'], 'POST', `/prescriptions/${rx.prescriptionId}/accept`)).status).toBe(200);
    const stl = await settle(who['ph-xihu-1']!, person, { prescriptionId: rx.prescriptionId, items: [{ drugCode: 'XC08CAA001', quantity: 2, unitPriceFen: 3500 }] });
    expect((await rt.call(who['ph-xihu-1'], 'POST', `/prescriptions/${rx.prescriptionId}/dispense`, { settlementId: stl.settlementId })).status).toBe(200);
    await rt.settle();

    expect(typesAbout(clinic, 'prescriptionId', rx.prescriptionId)).toEqual([...rxEvents].sort());
    // The pharmacy never hears of the prescription before it is routed there.
    expect(typesAbout(pharmacy, 'prescriptionId', rx.prescriptionId)).toEqual(['PrescriptionAccepted', 'PrescriptionDispensed', 'PrescriptionRouted', 'SettlementCompleted']);
    expect(clinic.received.filter((d) => d.type.startsWith('Settlement'))).toEqual([]);
    expect(typesAbout(hospital, 'prescriptionId', rx.prescriptionId)).toEqual([]);
    const settled = pharmacy.received.find((d) => d.type === 'SettlementCompleted')!;
    expect(settled.data).toEqual({ eventId: expect.any(String), settlementId: stl.settlementId, institutionId: 'ph-xihu-1', prescriptionId: rx.prescriptionId });
  });

  it('a settlement and its reversal: only the pharmacy that settled', async () => {
    const pharmacy = await subscribe('ph-xihu-1', ['SettlementCompleted', 'SettlementReversed']);
    const person = await enrolled();
    const stl = await settle(who['ph-xihu-1']!, person, { items: [{ drugCode: 'XA11CCA001', quantity: 1, unitPriceFen: 2000 }] });
    expect((await rt.call(who['ph-xihu-1'], 'POST', `/settlements/${stl.settlementId}/reversal`)).status).toBe(200);
    await rt.settle();
    expect(typesAbout(pharmacy, 'settlementId', stl.settlementId)).toEqual(['SettlementCompleted', 'SettlementReversed']);
    for (const r of Object.values(bystanderReceivers)) expect(typesAbout(r, 'settlementId', stl.settlementId)).toEqual([]);
  });
});

describe('retries and dead letters', () => {
  it('a receiver that answers 500 three times gets the same webhook-id, newly signed, a fourth time', async () => {
    const flaky = await subscribe('hosp-zjph', ['ReferralSubmitted']);
    flaky.answer = (n) => (n < 3 ? 500 : 204);
    const person = await enrolled();
    const ref = (await rt.call(who['clinic-lingyin'], 'POST', '/referrals', { personId: person.personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' })).body;
    await rt.settle();
    const tries = flaky.received.filter((d) => d.data.referralId === ref.referralId);
    expect(tries.map((d) => d.answered)).toEqual([500, 500, 500, 204]);
    expect(new Set(tries.map((d) => d.id)).size).toBe(1);
    expect(new Set(tries.map((d) => d.headers['webhook-signature'])).size).toBeGreaterThan(1); // each attempt signed at its own time
    // Backoff: each retry waited its delay (1 s) after the failure.
    for (let i = 1; i < tries.length; i++) expect(tries[i]!.at - tries[i - 1]!.at).toBeGreaterThanOrEqual(900);
    const d = (await rt.call(who['hosp-zjph'], 'GET', `/webhooks/${flaky.webhookId}/deliveries`)).body.items.find((x: { deliveryId: string }) => x.deliveryId === tries[0]!.id);
    expect(d).toMatchObject({ type: 'ReferralSubmitted', status: 'delivered' });
    // What it was about, as the receiver was told it (and nothing of the person).
    expect(d.data).toEqual(tries[0]!.data);
    expect(d.data.referralId).toBe(ref.referralId);
    expect(JSON.stringify(d)).not.toContain(person.personId);
    expect(d.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 500, 204]);
    expect(d.nextAttemptAt).toBeUndefined();
  });

  it('a receiver that never answers is dead-lettered after its attempts, and another receiver of the same events is not held up', async () => {
    const silent = await subscribe('hosp-zjph', ['ReferralSubmitted']);
    silent.answer = () => 'hang';
    const prompt = await subscribe('hosp-zjph', ['ReferralSubmitted']);
    const deadBefore = rt.queues.webhookSender!.deadLettered;
    const refs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const person = await enrolled();
      refs.push((await rt.call(who['clinic-lingyin'], 'POST', '/referrals', { personId: person.personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' })).body.referralId);
    }
    await rt.settle();
    for (const referralId of refs) {
      const fast = prompt.received.filter((d) => d.data.referralId === referralId);
      const slow = silent.received.filter((d) => d.data.referralId === referralId);
      expect(fast.map((d) => d.answered)).toEqual([204]);
      expect(slow).toHaveLength(4);
      // Both were queued together: the prompt one arrived before the silent one's first attempt could time out.
      expect(fast[0]!.at - slow[0]!.at).toBeLessThan(TIMEOUT_SECONDS * 1000);
    }
    const deliveries = (await rt.call(who['hosp-zjph'], 'GET', `/webhooks/${silent.webhookId}/deliveries?limit=10`)).body.items;
    expect(deliveries).toHaveLength(5);
    for (const d of deliveries) {
      expect(d.status).toBe('failed');
      expect(d.attempts.map((a: { error: string }) => a.error)).toEqual(Array(4).fill(`no answer within ${TIMEOUT_SECONDS} s`));
    }
    // In the dead-letter queue, each with its delivery.
    expect(rt.queues.webhookSender!.deadLettered - deadBefore).toBe(5);
    const dead = readFileSync(join(rt.dataDir, 'queues', 'webhookSender-dead-letters.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(JSON.parse(l).body));
    expect(dead.filter((m) => m.webhookId === silent.webhookId).map((m) => m.deliveryId).sort()).toEqual(deliveries.map((d: { deliveryId: string }) => d.deliveryId).sort());
    expect((await rt.call(who['hosp-zjph'], 'DELETE', `/webhooks/${silent.webhookId}`)).status).toBe(204);
  });

  it('a deleted subscription gets nothing more, queued retries included', async () => {
    const r = await subscribe('clinic-lingyin', ['ReferralSubmitted']);
    r.answer = () => {
      // Deleted while its first attempt fails: the retry a second later finds no subscription.
      void rt.call(who['clinic-lingyin'], 'DELETE', `/webhooks/${r.webhookId}`);
      return 503;
    };
    const person = await enrolled();
    await rt.call(who['clinic-lingyin'], 'POST', '/referrals', { personId: person.personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' });
    await rt.settle();
    expect(r.received.map((d) => d.answered)).toEqual([503]);
    expect((await rt.call(who['clinic-lingyin'], 'GET', `/webhooks/${r.webhookId}/deliveries`)).status).toBe(404);
  });
});

describe('tenancy', () => {
  it('no receiver ever got an event about an object not its own, and every delivery verified', async () => {
    await rt.settle();
    for (const r of Object.values(bystanderReceivers)) expect(r.received).toEqual([]);
    for (const r of receivers) expect(r.refused).toEqual([]);
    // Every delivery named the subscriber's institution in a field that makes it a party.
    const owner = new Map<string, string>();
    for (const inst of Object.keys(who)) {
      for (const w of (await rt.call(who[inst], 'GET', '/webhooks')).body.items as Array<{ url: string }>) owner.set(w.url, inst);
    }
    let checked = 0;
    for (const r of receivers) {
      const inst = owner.get(r.url);
      if (!inst) continue;
      for (const d of r.received) {
        expect(audienceFields.some((f) => d.data[f] === inst), `${inst} got ${d.type} ${JSON.stringify(d.data)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('the count that caps subscriptions is what is listed', async () => {
    const { Item } = await rt.db.send(new GetCommand({ TableName: rt.tableName, Key: { PK: 'WEBHOOKS#hosp-zjph', SK: 'COUNT' } }));
    const listed = (await rt.call(who['hosp-zjph'], 'GET', '/webhooks')).body.items.length;
    expect(Item?.count).toBe(listed);
  });
});
