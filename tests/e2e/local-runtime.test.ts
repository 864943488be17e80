// The local runtime is reachable only from this machine's user: DynamoDB Local on loopback with no
// web origin allowed, DATA_DIR private, the schedule hook behind an operator token and JSON with a
// bounded time (which never moves the id clock), the AWS endpoint behind the runtime's credentials.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptions } from '../../events/subscriptions.ts';
import { idTime } from '../../functions/shared/ids.ts';
import { matches } from '../../infra/local/event-pattern.ts';
import { demoNationalId } from '../../infra/local/demo-province.ts';
import { ensurePrivateDir } from '../../infra/local/private-dir.ts';
import { slug, startTestRuntime, type Caller, type TestRuntime } from '../support/runtime.ts';
import { outboxEvents } from '../support/table.ts';

const SWEEP = 'referral-sla-sweep';
const dataDir = mkdtempSync(join(tmpdir(), 'consortium-local-'));
let rt: TestRuntime;
let operator: Caller;
let clinic: Caller;
let personIds: string[];

beforeAll(async () => {
  // A DATA_DIR from before the rule: world-readable, with a world-readable file in it.
  chmodSync(dataDir, 0o755);
  mkdirSync(join(dataDir, 'bus'), { mode: 0o755 });
  writeFileSync(join(dataDir, 'bus', 'dead-letters.jsonl'), '', { mode: 0o644 });
  // The runtime's own DynamoDB Local (not a test's in-memory one), with its database under DATA_DIR.
  rt = await startTestRuntime({ dataDir, dynamoEndpoint: undefined });
  [operator, clinic] = await Promise.all([rt.as('operator'), rt.as('clinic', 'clinic-lingyin')]);
  const people = Array.from({ length: 3 }, (_, i) => ({ nationalId: demoNationalId('330106', '19700101', 900 + i), name: `本地${i}`, district: '西湖区', personalAccountFen: 0 }));
  personIds = (await rt.call(operator, 'POST', '/enrollments', { people })).body.personIds;
}, 180_000);
afterAll(() => rt?.stop());

const refer = async (personId: string) =>
  (await rt.call(clinic, 'POST', '/referrals', { personId, direction: 'up', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'urgent' })).body as {
    referralId: string;
    slaDueAt: string;
    toInstitutionId: string;
  };

/** Listening sockets of a port, from the kernel's tables: their local addresses as hex. */
function listeners(port: number): string[] {
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue; // 0A: LISTEN
      const [address, hexPort] = local.split(':') as [string, string];
      if (parseInt(hexPort, 16) === port) found.push(address);
    }
  }
  return found;
}
const LOOPBACK_V4 = '0100007F';
const LOOPBACK_V4_IN_V6 = '0000000000000000FFFF00000100007F';

describe('DynamoDB Local', () => {
  it('listens on 127.0.0.1 only', async () => {
    const port = Number(new URL(rt.dynamoEndpoint).port);
    const addresses = listeners(port);
    expect(addresses.length).toBeGreaterThan(0);
    for (const a of addresses) expect([LOOPBACK_V4, LOOPBACK_V4_IN_V6]).toContain(a);
    // And from this machine's other addresses it is not there at all.
    const others = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4');
    for (const i of others) {
      const error = await new Promise<string>((resolve) => {
        const s = connect({ host: i!.address, port }, () => (s.destroy(), resolve('connected')));
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      expect([i!.address, error]).toEqual([i!.address, 'ECONNREFUSED']);
    }
  });

  it('allows no web origin: no Access-Control-Allow-Origin, whatever the Origin', async () => {
    const signed = {
      'x-amz-target': 'DynamoDB_20120810.ListTables',
      'content-type': 'application/x-amz-json-1.0',
      authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/cn-north-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
    };
    for (const origin of ['https://evil.example', '*', 'null']) {
      const preflight = await fetch(rt.dynamoEndpoint, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-amz-target' },
      });
      expect([origin, preflight.headers.get('access-control-allow-origin')]).toEqual([origin, null]);
      const res = await fetch(rt.dynamoEndpoint, { method: 'POST', headers: { ...signed, origin }, body: '{}' });
      expect(res.status).toBe(200); // the engine answered: only the browser's permission is missing
      expect([origin, res.headers.get('access-control-allow-origin')]).toEqual([origin, null]);
    }
  });
});

describe('DATA_DIR', () => {
  it('is 0700, and every directory and file the runtime wrote under it 0700/0600, old ones tightened', async () => {
    await refer(personIds[0]!); // events through the stream, the relay and the bus: checkpoints, journal
    await rt.settle();
    const seen: string[] = [];
    const walk = (path: string) => {
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) return; // a temporary file renamed since the listing (a checkpoint, SQLite's journal)
      seen.push(path.slice(dataDir.length) || '/');
      expect([path, (st.mode & 0o777).toString(8)]).toEqual([path, st.isDirectory() ? '700' : '600']);
      if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    };
    walk(dataDir);
    // What the runtime keeps there: the dev issuer's key, the secrets, DynamoDB Local's database,
    // the bus journal, the stream checkpoints.
    expect(seen).toEqual(
      expect.arrayContaining(['/', '/dev-issuer.json', '/secrets.json', '/dynamodb', '/dynamodb/shared-local-instance.db', '/bus/journal.jsonl', '/bus/dead-letters.jsonl']),
    );
    expect(seen.some((p) => p.startsWith('/stream-checkpoint-'))).toBe(true);
  });

  it('must belong to this user', () => {
    const foreign = mkdtempSync(join(tmpdir(), 'consortium-foreign-'));
    if (process.getuid!() === 0) chownSync(foreign, 65534, 65534); // as root: give it to nobody
    const dir = process.getuid!() === 0 ? foreign : '/';
    expect(() => ensurePrivateDir(dir)).toThrow(/not to this user/);
  });
});

describe('POST /_local/schedules/<name>', () => {
  const post = (headers: Record<string, string>, body?: string) => fetch(`${rt.url}/_local/schedules/${SWEEP}`, { method: 'POST', headers, body });
  const problemOf = async (res: Response) => [res.status, res.headers.get('content-type'), slug((await res.json()) as { type?: string })];

  it('needs an operator token and JSON, and a time within 31 days of now; a refused request runs nothing', async () => {
    const r = await refer(personIds[1]!);
    const due = new Date(Date.parse(r.slaDueAt) + 60_000).toISOString();
    const json = { 'content-type': 'application/json' };
    const auth = (c: Caller) => ({ authorization: `Bearer ${c.token}` });

    // What a web page could send without a preflight: no token, text/plain.
    expect(await problemOf(await post({ 'content-type': 'text/plain' }, JSON.stringify({ time: due })))).toEqual([401, 'application/problem+json', 'unauthorized']);
    expect(await problemOf(await post({ ...json, authorization: 'Bearer x.y.z' }, JSON.stringify({ time: due })))).toEqual([401, 'application/problem+json', 'unauthorized']);
    expect(await problemOf(await post({ ...json, ...auth(clinic) }, JSON.stringify({ time: due })))).toEqual([403, 'application/problem+json', 'forbidden']);
    expect(await problemOf(await post({ 'content-type': 'text/plain', ...auth(operator) }, JSON.stringify({ time: due })))).toEqual([400, 'application/problem+json', 'validation-failed']);
    for (const body of [{ time: '2099-01-01T00:00:00Z' }, { time: new Date(Date.now() - 32 * 86_400_000).toISOString() }, { time: 'tomorrow' }, { time: due, extra: 1 }]) {
      expect([body, ...(await problemOf(await post({ ...json, ...auth(operator) }, JSON.stringify(body))))]).toEqual([body, 400, 'application/problem+json', 'validation-failed']);
    }
    expect(await problemOf(await post({ ...json, ...auth(operator) }, '{"time":'))).toEqual([400, 'application/problem+json', 'validation-failed']);
    const unknown = await fetch(`${rt.url}/_local/schedules/no-such-schedule`, { method: 'POST', headers: { ...json, ...auth(operator) }, body: '{}' });
    expect(await problemOf(unknown)).toEqual([404, 'application/problem+json', 'not-found']);
    await rt.settle();
    expect((await rt.call(clinic, 'GET', `/referrals/${r.referralId}`)).body.toInstitutionId).toBe(r.toInstitutionId); // nothing ran

    // The README's call: an operator token, JSON, a time past the SLA.
    const ok = await post({ ...json, ...auth(operator) }, JSON.stringify({ time: due }));
    expect([ok.status, await ok.json()]).toEqual([202, { triggered: SWEEP }]);
    const moved = (await rt.call(clinic, 'GET', `/referrals/${r.referralId}`)).body;
    expect(moved.history.map((h: { status: string }) => h.status)).toContain('expired');
  });
});

describe('the id clock', () => {
  it('a run as of 2099 makes ids of now, and later ids stay in the present', async () => {
    const r = await refer(personIds[2]!);
    const before = Date.now();
    await rt.runSchedule(SWEEP, new Date('2099-01-01T00:00:00Z')); // in-process: the tests' own, unbounded hook
    const expired = await outboxEvents(rt, { referralId: r.referralId }, 'ReferralExpired');
    expect(expired).toHaveLength(1);
    expect(expired[0]!.detail.occurredAt).toBe('2099-01-01T00:00:00.000Z'); // the run's time is the event's ...
    const made = idTime(expired[0]!.detail.id); // ... but its id carries when it was made
    expect(made).toBeGreaterThanOrEqual(before);
    expect(made).toBeLessThanOrEqual(Date.now());
    const next = await refer(personIds[2]!);
    expect(idTime(next.referralId)).toBeLessThanOrEqual(Date.now());
  });
});

describe('the local AWS endpoint (EventBridge, Secrets Manager, KMS, SQS)', () => {
  const secretId = 'consortium/ZJ/pii-hash-key';
  const endpoint = () => process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!;
  const region = () => process.env.AWS_REGION!;
  const secrets = (credentials?: { accessKeyId: string; secretAccessKey: string }, r = region()) =>
    new SecretsManagerClient({ endpoint: endpoint(), region: r, ...(credentials ? { credentials } : {}), maxAttempts: 1 });
  const failure = (p: Promise<unknown>) => p.then(() => 'served', (e: Error) => e.name);

  it('serves the runtime credentials only: unsigned, another key or another region is refused', async () => {
    // The runtime's own credentials (process.env, as the functions use them) are served.
    expect((await secrets().send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString).toMatch(/^[A-Za-z0-9+/=]{40,}$/);

    const unsigned = await fetch(endpoint(), { method: 'POST', headers: { 'x-amz-target': 'secretsmanager.GetSecretValue', 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ SecretId: secretId }) });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).not.toContain('SecretString');
    expect(await failure(secrets({ accessKeyId: 'local', secretAccessKey: 'local' }).send(new GetSecretValueCommand({ SecretId: secretId })))).toBe('UnrecognizedClientException');
    expect(await failure(secrets(undefined, 'eu-west-1').send(new GetSecretValueCommand({ SecretId: secretId })))).toBe('InvalidSignatureException');

    const marker = `injected-${Date.now()}`;
    const events = new EventBridgeClient({ endpoint: process.env.AWS_ENDPOINT_URL_EVENTBRIDGE, region: region(), credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    const put = new PutEventsCommand({ Entries: [{ Source: 'consortium.referrals', DetailType: 'ReferralSubmitted', Detail: JSON.stringify({ marker }), EventBusName: `consortium-ZJ` }] });
    expect(await failure(events.send(put))).toBe('UnrecognizedClientException');
    // Accepted, it would be journaled for delivery: a subscription routes this source and type.
    expect(subscriptions.some((s) => matches(s.pattern, { source: 'consortium.referrals', 'detail-type': 'ReferralSubmitted', detail: { marker } }))).toBe(true);
    await rt.settle();
    expect(readFileSync(join(dataDir, 'bus', 'journal.jsonl'), 'utf8')).not.toContain(marker);
  });
  it('serves KMS and SQS to the runtime credentials only: another key can neither decrypt a webhook secret nor queue a delivery', async () => {
    const stranger = { region: region(), credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };
    const own = new KMSClient({ endpoint: process.env.AWS_ENDPOINT_URL_KMS, region: region(), maxAttempts: 1 });
    const context = { purpose: 'webhook-signing-secret', webhookId: 'wh_x', institutionId: 'clinic-lingyin' };
    const { CiphertextBlob } = await own.send(new EncryptCommand({ KeyId: process.env.WEBHOOK_KEY_ID, Plaintext: Buffer.from('whsec_x'), EncryptionContext: context }));
    expect(Buffer.from((await own.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context }))).Plaintext!).toString()).toBe('whsec_x');
    expect(await failure(own.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { ...context, institutionId: 'hosp-zjph' } })))).toBe('InvalidCiphertextException');
    const kms = new KMSClient({ endpoint: process.env.AWS_ENDPOINT_URL_KMS, ...stranger });
    expect(await failure(kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context })))).toBe('UnrecognizedClientException');
    const sqs = new SQSClient({ endpoint: process.env.AWS_ENDPOINT_URL_SQS, ...stranger });
    expect(await failure(sqs.send(new SendMessageCommand({ QueueUrl: process.env.WEBHOOK_SENDER_QUEUE_URL, MessageBody: '{}' })))).toBe('UnrecognizedClientException');
    expect(rt.queues.webhookSender!.depth).toBe(0);
  });
});
