// The access log is never silently dropped (DESIGN.md §12): a line written before the answer is
// delivered even if the process goes away right after answering; a consumer that fails is retried,
// and what still fails is dead-lettered whole, from where it can be redriven.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ddb } from '../../functions/shared/db.ts';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { invoke } from '../../infra/local/lambda.ts';
import { startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';

// One data directory (and so one dev issuer's keys, which the authorizer caches per process) for
// the whole file: the first test stops its runtime and starts the one the others use on the same.
let rt: TestRuntime;
afterEach(() => {
  ddb.middlewareStack.remove('failAccessWrites');
});
afterAll(() => rt?.stop());

let seq = 0;
async function personWithReferral(r: TestRuntime) {
  const operator = await r.as('operator');
  const nationalId = demoNationalId('330106', '19770707', 900 + seq++);
  const personId: string = (await r.call(operator, 'POST', '/enrollments', { people: [{ nationalId, name: '记录', district: '西湖区', personalAccountFen: 1_000 }] })).body.personIds[0];
  const referral = await r.call(await r.as('clinic', 'clinic-lingyin'), 'POST', '/referrals', { personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' });
  return { personId, referralId: referral.body.referralId as string };
}

const reads = async (r: TestRuntime, self: Caller, personId: string) =>
  (await r.call(self, 'GET', `/people/${personId}/access-log?limit=200`)).body.items.filter((e: { operation: string }) => e.operation === 'getReferral').length;

/** Makes the access-log consumer's writes fail (the only BatchWriteItem of the platform), `times` times or for good. */
function failAccessWrites(times = Infinity) {
  let failed = 0;
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      if (/BatchWrite/.test(String(context.commandName)) && failed < times) {
        failed++;
        throw new ProvisionedThroughputExceededException({ message: 'injected: access log writes throttled', $metadata: {} });
      }
      return next(args);
    },
    { step: 'initialize', name: 'failAccessWrites' },
  );
  return () => failed;
}

describe('access log delivery', () => {
  it('a line logged before the answer is delivered after a restart, though the process went away before delivering it', async () => {
    // Lines wait a minute to be batched: stopping right after the answers leaves them all undelivered.
    rt = await startTestRuntime({ logBatchWindowMs: 60_000 });
    const { personId, referralId } = await personWithReferral(rt);
    const hospital = await rt.as('hospital', 'hosp-zjph');
    for (let i = 0; i < 3; i++) expect((await rt.call(hospital, 'GET', `/referrals/${referralId}`)).status).toBe(200);
    const { dataDir, tableName, engine } = rt;
    expect(rt.logs.delivered).toBe(0);
    await rt.stop({ keepEngine: true });

    rt = await startTestRuntime({ dataDir, tableName, engine, logRetryDelaysMs: [30, 60] });
    await rt.settle();
    expect(await reads(rt, await rt.asPerson(personId), personId)).toBe(3);
  });

  it('a failing consumer is retried until the entries are written, once each', async () => {
    const { personId, referralId } = await personWithReferral(rt);
    await rt.settle();
    const failures = failAccessWrites(2);
    expect((await rt.call(await rt.as('hospital', 'hosp-zjph'), 'GET', `/referrals/${referralId}`)).status).toBe(200);
    await rt.settle();
    expect(failures()).toBe(2);
    expect(await reads(rt, await rt.asPerson(personId), personId)).toBe(1);
    expect(rt.logs.deadLettered).toBe(0);
  });

  it('a consumer that keeps failing has the batch dead-lettered whole, and the batch redriven later files every entry', async () => {
    const { personId, referralId } = await personWithReferral(rt);
    await rt.settle();
    failAccessWrites();
    expect((await rt.call(await rt.as('hospital', 'hosp-zjph'), 'GET', `/referrals/${referralId}`)).status).toBe(200);
    await rt.settle();
    expect(rt.logs.deadLettered).toBe(1);
    ddb.middlewareStack.remove('failAccessWrites');
    const self = await rt.asPerson(personId);
    expect(await reads(rt, self, personId)).toBe(0);

    const file = join(rt.dataDir, 'logs', 'dead-letters.jsonl');
    expect(existsSync(file)).toBe(true);
    const [dead] = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(dead).toMatchObject({ subscription: 'person-access-log', target: 'accessLog', error: expect.stringMatching(/throttled/) });
    // Redrive (README: what to do with the dead-letter queue): the same event to the same function.
    await invoke('accessLog', dead.event);
    await invoke('accessLog', dead.event); // twice, as a redrive may: the same entries, not new ones
    expect(await reads(rt, self, personId)).toBe(1);
  });
});
