// Routing reads one district (DESIGN.md §11): pharmacy candidates come from the person's district,
// referral candidates from the institutions with the department in the sender's district (and the
// sender's consortium), so what a route reads does not grow with the province. Counted with the
// local runtime's per-function tally of items DynamoDB returned (infra/local/lambda.ts).
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { itemsReadBy } from '../../infra/local/lambda.ts';
import { departmentRouteKey, institutionKey } from '../../functions/institutions/keys.ts';
import { backfillRouting } from '../../functions/institutions/store.ts';
import { startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
let operator: Caller;
const tag = randomUUID().slice(0, 6);
const far = `远区-${tag}`;
let seq = 0;

beforeAll(async () => {
  rt = await startTestRuntime();
  operator = await rt.as('operator');
  // A crowded district elsewhere in the province: 60 pharmacies, 40 hospitals with cardiology.
  const crowd = [
    ...Array.from({ length: 60 }, (_, i) => ({ id: `ph-far-${tag}-${i}`, name: `远药房${i}`, type: 'pharmacy', district: far, designated: true })),
    ...Array.from({ length: 40 }, (_, i) => ({
      id: `hosp-far-${tag}-${i}`, name: `远医院${i}`, type: 'hospital', level: 'secondary', district: far, designated: true,
      departments: [{ code: 'CARD', name: '心血管内科', dailyCapacity: 50 }],
    })),
  ];
  for (const inst of crowd) expect((await rt.call(operator, 'POST', '/institutions', inst)).status).toBe(201);
}, 120_000);
afterAll(() => rt?.stop());

async function register(inst: Record<string, unknown>) {
  expect((await rt.call(operator, 'POST', '/institutions', { designated: true, ...inst })).status).toBe(201);
}

async function enrol(district: string): Promise<string> {
  const person = { nationalId: demoNationalId('330106', '19700101', 900 + seq++), name: '读数', district, personalAccountFen: 0 };
  const res = await rt.call(operator, 'POST', '/enrollments', { people: [person] });
  return res.body.personIds[0];
}

/** Items the function read while `run` and everything it set off ran. */
async function readsOf(fn: 'prescriptionRouter', run: () => Promise<void>): Promise<number> {
  await rt.settle();
  const before = itemsReadBy.get(fn) ?? 0;
  await run();
  await rt.settle();
  return (itemsReadBy.get(fn) ?? 0) - before;
}

describe('prescription routing', () => {
  it("reads the person's district's pharmacies, not the province's", async () => {
    const district = `近区-${tag}`;
    const [ph1, ph2] = [`ph-near-${tag}-1`, `ph-near-${tag}-2`];
    await register({ id: ph1, name: '近药房一', type: 'pharmacy', district });
    await register({ id: ph2, name: '近药房二', type: 'pharmacy', district });
    const stock = { items: [{ drugCode: 'XN02BEA001', quantity: 50 }] };
    expect((await rt.call(await rt.as('pharmacy', ph2), 'PUT', `/pharmacies/${ph2}/stock`, stock)).status).toBe(200);
    const personId = await enrol(district);
    const clinic = await rt.as('clinic', 'clinic-lingyin');
    let prescriptionId = '';
    const reads = await readsOf('prescriptionRouter', async () => {
      const res = await rt.call(clinic, 'POST', '/prescriptions', { personId, diagnoses: ['R50.9'], items: [{ drugCode: 'XN02BEA001', quantity: 1, dosage: '必要时服用' }] });
      expect(res.status).toBe(201);
      prescriptionId = res.body.prescriptionId;
    });
    expect((await rt.call(clinic, 'GET', `/prescriptions/${prescriptionId}`)).body).toMatchObject({ status: 'routed', pharmacyId: ph2 });
    // The prescription, the person's district, the prescriber, two pharmacies and their stock of one
    // drug; the 60 pharmacies of the crowded district (and the demo's) are never read.
    expect(reads).toBeGreaterThanOrEqual(5);
    expect(reads).toBeLessThan(15);
  });
});

describe('referral routing', () => {
  it("reads the sender's district's institutions with the department, and finds the province's only when none has a slot", async () => {
    const district = `近区-${tag}-r`;
    await register({ id: `clinic-near-${tag}`, name: '近诊所', type: 'clinic', level: 'primary', district, departments: [{ code: 'GP', name: '全科', dailyCapacity: 10 }] });
    await register({
      id: `hosp-near-${tag}`, name: '近医院', type: 'hospital', level: 'secondary', district,
      departments: [{ code: 'CARD', name: '心血管内科', dailyCapacity: 5 }],
    });
    const clinic = await rt.as('clinic', `clinic-near-${tag}`);
    const personId = await enrol(district);
    const refer = () => rt.call(clinic, 'POST', '/referrals', { personId, direction: 'up', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' });
    const near = await refer();
    expect(near.status).toBe(201);
    expect(near.body.toInstitutionId).toBe(`hosp-near-${tag}`);
    const nearReads = Number(near.headers.get('x-local-dynamodb-items-read'));
    // The 40 hospitals of the crowded district and the demo's are not read.
    expect(nearReads).toBeLessThan(20);

    // A district with no hospital at all: the province's hospitals with the department are the last resort.
    const lonely = `孤区-${tag}`;
    await register({ id: `clinic-lonely-${tag}`, name: '孤诊所', type: 'clinic', level: 'primary', district: lonely });
    const lonelyPerson = await enrol(lonely);
    const res = await rt.call(await rt.as('clinic', `clinic-lonely-${tag}`), 'POST', '/referrals', {
      personId: lonelyPerson, direction: 'up', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine',
    });
    expect(res.status).toBe(201);
    // Most free slots first: one of the crowded district's (50 a day) before the demo's (20 and 6).
    expect(res.body.toInstitutionId).toMatch(new RegExp(`^hosp-far-${tag}-`));
    expect(Number(res.headers.get('x-local-dynamodb-items-read'))).toBeGreaterThan(40);
  });

  it("a hospital's downward referral goes to its consortium's clinic before a clinic of its own district", async () => {
    const district = `近区-${tag}-d`;
    const hospital = `hosp-lead-${tag}`;
    await register({ id: hospital, name: '牵头医院', type: 'hospital', level: 'tertiary', district, departments: [{ code: 'CARD', name: '心血管内科', dailyCapacity: 5 }] });
    // Same district, more capacity, but not in the consortium.
    await register({ id: `clinic-own-${tag}`, name: '本区诊所', type: 'clinic', level: 'primary', district, departments: [{ code: 'GP', name: '全科', dailyCapacity: 90 }] });
    // Another district, in the consortium.
    await register({
      id: `clinic-member-${tag}`, name: '医联体诊所', type: 'clinic', level: 'primary', district: `${district}-外`, leadHospitalId: hospital,
      departments: [{ code: 'GP', name: '全科', dailyCapacity: 10 }],
    });
    const personId = await enrol(district);
    const res = await rt.call(await rt.as('hospital', hospital), 'POST', '/referrals', {
      personId, direction: 'down', department: 'GP', reason: '康复', diagnoses: ['I10'], urgency: 'routine', followUpPlan: '每月随访血压',
    });
    expect(res.status).toBe(201);
    expect(res.body.toInstitutionId).toBe(`clinic-member-${tag}`);
  });

  it('a patient sent down without a named clinic goes to a clinic of their own district, not the hospital\'s', async () => {
    const district = `医院区-${tag}`;
    const home = `家区-${tag}`;
    const hospital = `hosp-town-${tag}`;
    await register({ id: hospital, name: '市医院', type: 'hospital', level: 'tertiary', district, departments: [{ code: 'CARD', name: '心血管内科', dailyCapacity: 5 }] });
    // Beside the hospital, more capacity; the patient lives elsewhere.
    await register({ id: `clinic-beside-${tag}`, name: '医院旁诊所', type: 'clinic', level: 'primary', district, departments: [{ code: 'GP', name: '全科', dailyCapacity: 90 }] });
    await register({ id: `clinic-home-${tag}`, name: '家门口诊所', type: 'clinic', level: 'primary', district: home, departments: [{ code: 'GP', name: '全科', dailyCapacity: 10 }] });
    const res = await rt.call(await rt.as('hospital', hospital), 'POST', '/referrals', {
      personId: await enrol(home), direction: 'down', department: 'GP', reason: '康复', diagnoses: ['I10'], urgency: 'routine',
    });
    expect([res.status, res.body.toInstitutionId]).toEqual([201, `clinic-home-${tag}`]);
  });

  it('institutions registered before routing entries existed are found again once the backfill has run', async () => {
    const district = `旧区-${tag}`;
    const hospital = `hosp-old-${tag}`;
    await register({ id: hospital, name: '旧医院', type: 'hospital', level: 'secondary', district, departments: [{ code: 'CARD', name: '心血管内科', dailyCapacity: 3 }] });
    await register({ id: `clinic-old-${tag}`, name: '旧诊所', type: 'clinic', level: 'primary', district });
    // As a table from before: no district key on the institution, no routing entry.
    await rt.db.send(new DeleteCommand({ TableName: rt.tableName, Key: departmentRouteKey('hospital', 'CARD', district, hospital) }));
    await rt.db.send(new UpdateCommand({ TableName: rt.tableName, Key: institutionKey(hospital), UpdateExpression: 'REMOVE GSI2PK, GSI2SK' }));
    const clinic = await rt.as('clinic', `clinic-old-${tag}`);
    const refer = async () =>
      (await rt.call(clinic, 'POST', '/referrals', { personId: await enrol(district), direction: 'up', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' })).body.toInstitutionId;
    expect(await refer()).not.toBe(hospital);

    let next: Record<string, unknown> | undefined;
    do next = (await backfillRouting(next)).next;
    while (next);
    expect(await refer()).toBe(hospital);
    const { Item } = await rt.db.send(new GetCommand({ TableName: rt.tableName, Key: institutionKey(hospital) }));
    expect(Item).toMatchObject({ GSI2PK: `INSTITUTIONS#hospital#${district}`, GSI2SK: hospital });
  });
});
