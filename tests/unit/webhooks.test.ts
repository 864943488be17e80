// Webhook rules without the platform: which events and institutions, what a message says, how it is
// signed (checked with the Standard Webhooks reference library), the retry schedule, and the
// receiver URL checks against SSRF, address class by address class, after DNS resolution too.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { audienceOf, audienceRoles, personFields, webhookData, webhookEventNames, webhookEventNamesFor, webhookEvents } from '../../events/audience.ts';
import { allEvents } from '../../events/all.ts';
import { messageBody, messageId, newSigningSecret, retryDelay, signature, signingSecrets } from '../../functions/webhooks/policy.ts';
import { checkUrl, refusedAddress, resolveChecked, UrlRefused, type Lookup } from '../../functions/webhooks/url-guard.ts';
import { webhookSettings } from '../../schemas/province.ts';
import { routes } from '../../schemas/routes.ts';

describe('events a subscriber may ask for', () => {
  it('are the catalog events about referrals, prescriptions, stock and settlements, and no others', () => {
    expect(webhookEventNames).toEqual(expect.arrayContaining(['ReferralSubmitted', 'ReferralAccepted', 'PrescriptionRouted', 'PrescriptionDispensed', 'SettlementCompleted', 'SettlementReversed']));
    for (const name of ['VoucherActivated', 'VoucherSuspended', 'InstitutionRegistered', 'DrugCatalogChanged']) expect(webhookEventNames).not.toContain(name);
    // Derived from the catalog: every referral and prescription event is there without being listed.
    const contextEvents = allEvents.filter((e) => /^consortium\.(referrals|prescriptions)$/.test(e.source)).map((e) => e.detailType);
    expect(webhookEventNames).toEqual(expect.arrayContaining(contextEvents));
  });

  it('reach the institutions a referral is from and to, a prescription\'s prescriber and pharmacy, a settlement\'s institution; never one the object left', () => {
    expect(audienceOf({ fromInstitutionId: 'clinic-a', toInstitutionId: 'hosp-b', previousInstitutionId: 'hosp-c', personId: 'p_1' }).sort()).toEqual(['clinic-a', 'hosp-b']);
    expect(audienceOf({ prescriberId: 'clinic-a', pharmacyId: 'ph-1', nominatedPharmacyId: 'ph-2', rejectedBy: ['ph-3'] }).sort()).toEqual(['clinic-a', 'ph-1']);
    expect(audienceOf({ institutionId: 'ph-1', prescriptionId: 'rx_1' })).toEqual(['ph-1']);
    expect(audienceOf({ fromInstitutionId: 'x', toInstitutionId: 'x' })).toEqual(['x']);
  });

  it('are offered to a desk only if they can reach its kind of institution, as the routes that make them allow', () => {
    const auth = (op: string) => [...(routes.find((r) => r.operationId === op)!.auth as string[])].sort();
    expect([...audienceRoles.fromInstitutionId].sort()).toEqual(auth('createReferral'));
    expect([...audienceRoles.prescriberId].sort()).toEqual(auth('issuePrescription'));
    expect([...audienceRoles.pharmacyId].sort()).toEqual(auth('putStock'));
    expect([...audienceRoles.institutionId].sort()).toEqual(auth('settle'));

    const pharmacy = webhookEventNamesFor('pharmacy');
    expect(pharmacy).toEqual(expect.arrayContaining(['PrescriptionRouted', 'PrescriptionCancelled', 'PharmacyStockChanged', 'SettlementCompleted', 'TraceCodeReuseAttempted']));
    expect(pharmacy.filter((n) => n.startsWith('Referral') || n.startsWith('Advice') || ['PrescriptionIssued', 'PrescriptionUnroutable'].includes(n))).toEqual([]);
    const clinic = webhookEventNamesFor('clinic');
    expect(clinic).toEqual(expect.arrayContaining(['ReferralSubmitted', 'ReferralCompleted', 'AdviceAnswered', 'PrescriptionIssued', 'PrescriptionDispensed']));
    // A clinic's question reaches the hospital's system as a referral does.
    expect(webhookEventNamesFor('hospital')).toEqual(expect.arrayContaining(['AdviceRequested', 'AdviceExpired', 'AdviceRerouted', 'AdviceConverted', 'AdviceClosed']));
    expect(clinic.filter((n) => n.startsWith('Settlement') || ['PharmacyStockChanged', 'TraceCodeReuseAttempted'].includes(n))).toEqual([]);
    // A hospital refers, prescribes and settles at its own outpatient pharmacy.
    expect(webhookEventNamesFor('hospital')).toEqual(webhookEventNames.filter((n) => n !== 'PharmacyStockChanged'));
  });

  it('name every id field of theirs as a person\'s (never sent) or an object\'s or institution\'s', () => {
    const objectIds = new Set(['referralId', 'adviceId', 'prescriptionId', 'settlementId', 'upwardReferralId', 'fromInstitutionId', 'toInstitutionId', 'prescriberId', 'pharmacyId', 'institutionId', 'nominatedPharmacyId', 'previousInstitutionId', 'expiredAtInstitutionId']);
    // correlationId is the request's, a base field never sent.
    const ids = [...new Set(webhookEvents.flatMap((e) => Object.keys(e.detail.shape)).filter((k) => k.endsWith('Id') && k !== 'correlationId'))];
    expect(ids.filter((k) => !personFields.has(k) && !objectIds.has(k))).toEqual([]);
    // A settlement a relative helped pay: the payer is a person too.
    const data = webhookData({ id: 'evt_2', occurredAt: '2026-01-01T00:00:00Z', settlementId: 'stl_2', institutionId: 'ph-1', personId: 'p_1', mutualAidPayerId: 'p_2', status: 'settled' });
    expect(data).toEqual({ eventId: 'evt_2', settlementId: 'stl_2', institutionId: 'ph-1', status: 'settled' });
  });

  it('carry ids, statuses and times, never the person\'s ids, amounts or codes', () => {
    const data = webhookData({
      id: 'evt_1', occurredAt: '2026-01-01T00:00:00Z', province: 'ZJ', version: 1, correlationId: 'req-1',
      settlementId: 'stl_1', voucherId: 'vch_1', personId: 'p_1', institutionId: 'ph-1', totalFen: 100, cashFen: 100, status: 'settled', drugCodes: ['X1'],
    });
    expect(data).toEqual({ eventId: 'evt_1', settlementId: 'stl_1', institutionId: 'ph-1', status: 'settled' });
  });
});

describe('a message', () => {
  it('is signed so the Standard Webhooks library verifies it: v1, HMAC-SHA256 of id.timestamp.body keyed with the secret\'s bytes', () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const id = messageId('wh_1', 'evt_1');
    const body = messageBody('ReferralSubmitted', '2026-01-01T00:00:00.000Z', { eventId: 'evt_1', referralId: 'ref_1' });
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature(secret, id, ts, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual({ type: 'ReferralSubmitted', timestamp: '2026-01-01T00:00:00.000Z', data: { eventId: 'evt_1', referralId: 'ref_1' } });
    // Another secret, another body, or an old timestamp: refused by the library.
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body.replace('ref_1', 'ref_2'), headers)).toThrow();
    const old = ts - 600;
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-timestamp': String(old), 'webhook-signature': signature(secret, id, old, body) })).toThrow();
  });

  it('is signed for a day after a change of secret with the one it replaced too, then with the new one alone', () => {
    const changed = { secretCiphertext: 'new', previousSecretCiphertext: 'old', previousSecretExpiresAt: '2026-12-03T10:00:00.000Z' };
    expect(signingSecrets(changed, new Date('2026-12-03T09:59:59.999Z'))).toEqual(['new', 'old']);
    expect(signingSecrets(changed, new Date('2026-12-03T10:00:00.000Z'))).toEqual(['new']);
    expect(signingSecrets({ secretCiphertext: 'only' }, new Date())).toEqual(['only']);
  });

  it('has one id per event and subscription, whatever the attempt', () => {
    expect(messageId('wh_1', 'evt_1')).toBe(messageId('wh_1', 'evt_1'));
    expect(messageId('wh_1', 'evt_1')).not.toBe(messageId('wh_2', 'evt_1'));
    expect(messageId('wh_1', 'evt_1')).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});

describe('retries', () => {
  it('follow the Standard Webhooks schedule by default: 8 attempts over more than 24 hours', () => {
    const s = webhookSettings.parse({});
    const waits = [1, 2, 3, 4, 5, 6, 7].map((a) => retryDelay(s, a)!);
    expect(waits).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThan(24 * 3600);
    expect(retryDelay(s, 8)).toBeUndefined(); // the 8th attempt is the last
    expect(s.timeoutSeconds).toBeLessThanOrEqual(5);
  });

  it('never wait longer than SQS can hide a message, nor time out after more than 5 s', () => {
    expect(webhookSettings.safeParse({ retryDelaysSeconds: [12 * 3600] }).success).toBe(false);
    expect(webhookSettings.safeParse({ timeoutSeconds: 6 }).success).toBe(false);
  });
});

describe('receiver URLs (SSRF)', () => {
  const refused = (url: string, allowed: string[] = []) => {
    try {
      checkUrl(url, allowed);
      return 'accepted';
    } catch (err) {
      expect(err).toBeInstanceOf(UrlRefused);
      return (err as Error).message;
    }
  };

  it('must be https, without credentials', () => {
    expect(refused('http://his.example.cn/hook')).toMatch(/https/);
    expect(refused('ftp://his.example.cn/hook')).toMatch(/https/);
    expect(refused('https://user:secret@his.example.cn/hook')).toMatch(/user name or password/);
    expect(refused('https://his.example.cn/hook')).toBe('accepted');
    expect(refused('not a url')).toMatch(/not a URL/);
  });

  it.each([
    ['private 10/8', 'https://10.1.2.3/', /private/],
    ['private 172.16/12', 'https://172.20.0.1/', /private/],
    ['private 192.168/16', 'https://192.168.1.10:8443/', /private/],
    ['loopback', 'https://127.0.0.2/', /loopback/],
    ['loopback, written as a number', 'https://2130706433/', /loopback/],
    ['loopback IPv6', 'https://[::1]/', /loopback/],
    ['link-local', 'https://169.254.10.1/', /link-local/],
    ['link-local IPv6', 'https://[fe80::1]/', /link-local/],
    ['AWS metadata', 'https://169.254.169.254/latest/meta-data/', /metadata/],
    ['AWS metadata IPv6', 'https://[fd00:ec2::254]/', /metadata/],
    ['Alibaba Cloud metadata', 'https://100.100.100.200/', /metadata/],
    ['unique-local IPv6', 'https://[fd12:3456::1]/', /unique-local/],
    ['carrier-grade NAT', 'https://100.64.0.1/', /carrier-grade/],
    ['unspecified', 'https://0.0.0.0/', /unspecified/],
    ['IPv4-mapped private', 'https://[::ffff:10.0.0.1]/', /private/],
    ['NAT64 of a private address', 'https://[64:ff9b::a00:1]/', /reserved/],
    ['multicast', 'https://224.0.0.1/', /multicast/],
    ['IPv4-compatible loopback', 'https://[::127.0.0.1]/', /not a global unicast/],
    ['IPv4-compatible private', 'https://[::a00:1]/', /not a global unicast/],
    ['outside 2000::/3', 'https://[::1:0:0:1]/', /not a global unicast/],
  ])('refuses %s (%s)', (_name, url, why) => {
    expect(refused(url)).toMatch(why);
  });

  it('lets a host the province allows use http and skip the address check (the local runtime: 127.0.0.1)', () => {
    expect(refused('http://127.0.0.1:8080/hook', ['127.0.0.1'])).toBe('accepted');
    expect(refused('http://127.0.0.1:8080/hook')).toMatch(/https/);
    expect(refused('https://127.0.0.2/hook', ['127.0.0.1'])).toMatch(/loopback/);
  });

  it('accepts public unicast addresses only', () => {
    expect(refusedAddress('8.8.8.8')).toBeUndefined();
    expect(refusedAddress('2400:3200::1')).toBeUndefined();
  });

  const answers = (...lists: string[][]): Lookup & { calls: number } => {
    const f = Object.assign(async () => {
      const list = lists[Math.min(f.calls++, lists.length - 1)]!;
      return list.map((address) => ({ address, family: (address.includes(':') ? 6 : 4) as 4 | 6 }));
    }, { calls: 0 });
    return f;
  };

  it('refuses a name whose addresses are private, loopback, link-local or metadata, after resolving it', async () => {
    const check = (lookup: Lookup) => resolveChecked(checkUrl('https://his.example.cn/hook', []), { lookup, timeoutMs: 1000 });
    await expect(check(answers(['10.0.0.5']))).rejects.toThrow(/his\.example\.cn resolves to 10\.0\.0\.5, a private address/);
    await expect(check(answers(['127.0.0.1']))).rejects.toThrow(/loopback/);
    await expect(check(answers(['169.254.169.254']))).rejects.toThrow(/metadata/);
    await expect(check(answers(['fe80::2']))).rejects.toThrow(/link-local/);
    // One inside address among public ones is enough to refuse.
    await expect(check(answers(['8.8.8.8', '192.168.0.1']))).rejects.toThrow(/private/);
    await expect(check(answers([]))).rejects.toThrow(/does not resolve/);
    await expect(check(() => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' })))).rejects.toThrow(/does not resolve/);
    await expect(check(() => new Promise(() => undefined))).rejects.toThrow(/did not resolve within 1000 ms/);
    await expect(check(answers(['8.8.8.8']))).resolves.toEqual({ address: '8.8.8.8', family: 4 });
  });

  it('checks again at every attempt: a name that turns private later (DNS rebinding) is refused then', async () => {
    const lookup = answers(['8.8.8.8'], ['10.0.0.7']);
    const target = checkUrl('https://his.example.cn/hook', []);
    await expect(resolveChecked(target, { lookup, timeoutMs: 1000 })).resolves.toMatchObject({ address: '8.8.8.8' });
    await expect(resolveChecked(target, { lookup, timeoutMs: 1000 })).rejects.toThrow(/resolves to 10\.0\.0\.7/);
  });
});
