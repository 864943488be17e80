// Crash: the local runtime's processes (API, authorizer, relay, bus, consumers) killed with SIGKILL
// in the middle of a settlement and prescription load, then restarted on the same DATA_DIR. The
// database outlives them as DynamoDB would: its engine, DynamoDB Local, stops gracefully once its
// runtime is gone (infra/local/dynamodb-local.ts says why it must not be killed with -9). Every acknowledged
// settlement is there exactly once, an unanswered request retried with its Idempotency-Key settles
// exactly once, balances add up, and every outbox event is delivered and applied once.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateKeys, signToken } from '../../infra/local/dev-issuer.ts';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { freePort, projectRoot } from '../../infra/local/dynamodb-local.ts';
import type { Role } from '../../schemas/common.ts';
import { loadProvince } from '../../infra/provinces/load.ts';
import { clearOfMidnight, provinceDays } from '../support/calendar.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'consortium-crash-'));
let child: ChildProcess | undefined;

async function start(port: number) {
  child = spawn('npm', ['start'], { cwd: projectRoot, env: { ...process.env, PORT: String(port), DATA_DIR: dataDir }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening within 90 s:\n${out}`)), 90_000);
    child!.stdout!.on('data', () => /listening on/.test(out) && (clearTimeout(timer), resolve()));
    child!.once('exit', (code) => reject(new Error(`npm start exited ${code}:\n${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, dynamo: /DynamoDB Local on (\S+)/.exec(out)![1]! };
}

afterAll(() => {
  if (child?.pid) process.kill(-child.pid, 'SIGKILL');
});

describe('crash and restart', () => {
  it('SIGKILL mid-load: nothing acknowledged is lost or doubled, retries settle once, every event is applied once', async () => {
    // Balances are checked against this year's pooled-fund use: the whole run within one province day.
    await clearOfMidnight(90_000);
    const port = await freePort();
    let { url } = await start(port);
    const keys = await loadOrCreateKeys(dataDir);
    const token = (role: Role, institution?: string) => signToken(keys, { role, institution, province: loadProvince('ZJ') });
    const call = async (who: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${who}`, 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const [operator, channel, pharmacy, clinic] = await Promise.all([token('operator'), token('channel'), token('pharmacy', 'ph-xihu-1'), token('clinic', 'clinic-lingyin')]);

    const people = Array.from({ length: 8 }, (_, i) => ({ nationalId: demoNationalId('330106', '19820202', 300 + i), name: `崩溃${i}`, district: '西湖区', personalAccountFen: 100_000, annualPooledUsedFen: 1 }));
    const personIds: string[] = (await call(operator, 'POST', '/enrollments', { people })).body.personIds;
    const vouchers: string[] = [];
    for (const p of people) vouchers.push((await call(channel, 'POST', '/vouchers', { nationalId: p.nationalId, name: p.name, channel: 'wechat' })).body.voucherId);
    const codes = await Promise.all(Array.from({ length: 80 }, (_, i) => call(channel, 'POST', `/vouchers/${vouchers[i % vouchers.length]}/codes`).then((r) => r.body.code as string)));

    // A referral whose reads by the hospital go on during the load: each answered read is in the
    // person's access log after the restart (logged before the answer; delivered after the crash).
    const referralId = (await call(clinic, 'POST', '/referrals', { personId: personIds[0], direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' })).body.referralId as string;
    const hospital = await token('hospital', 'hosp-zjph');
    let readsAnswered = 0;
    let readsSent = 0;

    // The load: settlements and prescriptions (and those reads), until the crash.
    const settlementRequests = codes.map((code, i) => ({ key: `crash-${i}-${randomUUID()}`, body: { code, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1_000 + i }] } }));
    const acknowledged = new Map<string, any>(); // eslint-disable-line @typescript-eslint/no-explicit-any
    const prescriptions: string[] = [];
    let crashed = false;
    const settleLoad = (async () => {
      await Promise.all(
        [0, 1, 2, 3].map(async (w) => {
          for (let i = w; i < settlementRequests.length && !crashed; i += 4) {
            const r = settlementRequests[i]!;
            try {
              const res = await call(pharmacy, 'POST', '/settlements', r.body, { 'idempotency-key': r.key });
              if (res.status === 201) acknowledged.set(r.key, res.body);
            } catch {
              // connection dropped by the crash: unanswered
            }
          }
        }),
      );
    })();
    const rxLoad = (async () => {
      for (let i = 0; !crashed; i++) {
        try {
          const res = await call(clinic, 'POST', '/prescriptions', { personId: personIds[i % personIds.length], diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '每日一次' }] });
          if (res.status === 201) prescriptions.push(res.body.prescriptionId);
        } catch {
          // unanswered
        }
      }
    })();
    const readLoad = (async () => {
      while (!crashed) {
        readsSent++;
        try {
          if ((await call(hospital, 'GET', `/referrals/${referralId}`)).status === 200) readsAnswered++;
        } catch {
          // unanswered
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 1_500));
    crashed = true;
    process.kill(-child!.pid!, 'SIGKILL'); // every process of the runtime, mid-flight
    await Promise.all([settleLoad, rxLoad, readLoad]);
    child = undefined;
    expect(acknowledged.size).toBeGreaterThan(0);
    console.log(`crash after ${acknowledged.size} acknowledged settlements of ${settlementRequests.length}, ${prescriptions.length} prescriptions`);

    const restarted = await start(port);
    url = restarted.url;
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: restarted.dynamo, region: 'cn-north-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
    const scan = async (prefix: string) => {
      const items: Array<Record<string, any>> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
      let start: Record<string, unknown> | undefined;
      do {
        const res = await db.send(new ScanCommand({ TableName: 'consortium-ZJ', FilterExpression: 'begins_with(PK, :p)', ExpressionAttributeValues: { ':p': prefix }, ExclusiveStartKey: start }));
        items.push(...(res.Items ?? []));
        start = res.LastEvaluatedKey;
      } while (start);
      return items;
    };

    // Every request is sent again with its key and body, as a pharmacy whose answers were lost
    // would: answered ones replay their answer, the others settle now. Each settles exactly once.
    const all = new Map<string, any>(); // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const r of settlementRequests) {
      const res = await call(pharmacy, 'POST', '/settlements', r.body, { 'idempotency-key': r.key });
      expect([r.key, res.status]).toEqual([r.key, 201]);
      if (acknowledged.has(r.key)) expect(res.body).toEqual(acknowledged.get(r.key)); // the original answer
      all.set(r.key, res.body);
    }
    for (const [key, s] of acknowledged) expect((await call(pharmacy, 'GET', `/settlements/${s.settlementId}`)).body, key).toEqual(s);

    // Exactly once: the day's list holds each settlement once, and nothing else.
    const listed: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const day of provinceDays([...all.values()].map((s) => s.settledAt))) {
      let next: string | undefined;
      do {
        const page = await call(pharmacy, 'GET', `/settlements?date=${day}&limit=200${next ? `&nextToken=${next}` : ''}`);
        listed.push(...page.body.items);
        next = page.body.nextToken;
      } while (next);
    }
    expect(listed.map((s) => s.settlementId).sort()).toEqual([...all.values()].map((s) => s.settlementId).sort());

    // Balances: each person's account moved by exactly the sum of their settlements.
    for (const [i, personId] of personIds.entries()) {
      const mine = listed.filter((s) => s.personId === personId);
      const person = (await call(operator, 'GET', `/enrollments/${personId}`)).body;
      expect([i, person.personalAccountFen]).toEqual([i, 100_000 - mine.reduce((t, s) => t + s.personalAccountFen, 0)]);
      expect([i, person.annualPooledUsedFen]).toEqual([i, 1 + mine.reduce((t, s) => t + s.pooledFundFen, 0)]);
    }

    // Every prescription is routed (or unroutable) once: reservations add up. That is every one the
    // clinic issued, acknowledged or not: a request cut off by the crash may have been written.
    const issuedByClinic = async () => {
      const all: Array<{ prescriptionId: string; status: string; pharmacyId?: string }> = [];
      let next: string | undefined;
      do {
        const page = await call(clinic, 'GET', `/prescriptions?limit=200${next ? `&nextToken=${next}` : ''}`);
        all.push(...page.body.items);
        next = page.body.nextToken;
      } while (next);
      return all;
    };
    const deadline = Date.now() + 30_000;
    let issued = await issuedByClinic();
    while (issued.some((rx) => rx.status === 'issued') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      issued = await issuedByClinic();
    }
    expect(issued.filter((rx) => rx.status === 'issued')).toEqual([]);
    expect(issued.map((rx) => rx.prescriptionId)).toEqual(expect.arrayContaining(prescriptions));
    const routedTo = new Map<string, number>();
    for (const rx of issued) if (rx.status === 'routed') routedTo.set(rx.pharmacyId!, (routedTo.get(rx.pharmacyId!) ?? 0) + 1);
    for (const ph of ['ph-xihu-1', 'ph-xihu-2', 'ph-xihu-3']) {
      const stock = (await call(await token('pharmacy', ph), 'GET', `/pharmacies/${ph}/stock?limit=200`)).body.items;
      expect([ph, stock.find((x: { drugCode: string }) => x.drugCode === 'XC08CAA001')?.reserved ?? 0]).toEqual([ph, routedTo.get(ph) ?? 0]);
    }

    // Every event in the outbox reaches the audit projection, once.
    let missing: string[] = [];
    const until = Date.now() + 30_000;
    do {
      const audited = new Map<string, number>();
      for (const row of await scan('AUDIT#')) audited.set(row.detail.id, (audited.get(row.detail.id) ?? 0) + 1);
      const outbox = (await scan('OUTBOX#')).map((o) => JSON.parse(o.detail).id as string);
      expect([...audited.values()].every((n) => n === 1)).toBe(true);
      missing = outbox.filter((id) => !audited.has(id));
      if (!missing.length) break;
      await new Promise((r) => setTimeout(r, 500));
    } while (Date.now() < until);
    // On failure, say where the missing events went: dead-lettered by the local bus, or never published.
    const deadLetters = join(dataDir, 'bus', 'dead-letters.jsonl');
    const why = existsSync(deadLetters) ? readFileSync(deadLetters, 'utf8') : 'no dead letters';
    expect(missing, why).toEqual([]);

    // Every read the hospital got an answer to is in the person's access log (a read cut off by the
    // crash after it was logged is there too: at least the answered ones, at most those sent).
    expect(readsAnswered).toBeGreaterThan(0);
    const self = await signToken(keys, { role: 'channel', province: loadProvince('ZJ'), person: personIds[0] });
    let logged = 0;
    const logDeadline = Date.now() + 15_000;
    do {
      // Every page: a loaded run answers more reads than one page of 200 entries holds.
      logged = 0;
      let next: string | undefined;
      do {
        const page = (await call(self, 'GET', `/people/${personIds[0]}/access-log?limit=200${next ? `&nextToken=${encodeURIComponent(next)}` : ''}`)).body as { items: Array<{ operation: string }>; nextToken?: string };
        logged += page.items.filter((e) => e.operation === 'getReferral').length;
        next = page.nextToken;
      } while (next);
      if (logged >= readsAnswered) break;
      await new Promise((r) => setTimeout(r, 250));
    } while (Date.now() < logDeadline);
    expect(logged).toBeGreaterThanOrEqual(readsAnswered);
    expect(logged).toBeLessThanOrEqual(readsSent);

    await new Promise<void>((r) => {
      child!.once('exit', () => r());
      process.kill(-child!.pid!, 'SIGTERM');
    });
    child = undefined;
  });
});
