// The whole platform on one machine: DynamoDB Local, the table from the shared key schema, the
// local AWS endpoint (EventBridge + Secrets Manager), the stream poller feeding the real outbox
// relay, the local bus invoking the real consumers, and the local API Gateway in front of the real
// authorizer and API functions. `npm start` (main.ts) and the tests both start it through here.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult, DynamoDBBatchResponse } from 'aws-lambda';
import { AUTHORIZER_CACHE_SECONDS, functionCatalog, queueVisibilitySeconds, type FunctionDef, type FunctionName } from '../../functions/catalog.ts';
import { notificationStreamFilter } from '../../functions/notifications/keys.ts';
import { notificationsIn } from '../../functions/notifications/stream.ts';
import { createTableInput, outboxStreamFilter, tableKeys } from '../../functions/shared/table.ts';
import { logSubscriptions, schedules, subscriptions } from '../../events/subscriptions.ts';
import { routes } from '../../schemas/routes.ts';
import { runtimePart, type ProvinceConfig } from '../../schemas/province.ts';
import type { Role } from '../../schemas/common.ts';
import { functionEnvironment } from '../function-env.ts';
import { loadProvince } from '../provinces/load.ts';
import { startApiServer } from './api-server.ts';
import { queueUrlFor, startAwsEndpoint, type AwsEndpoint } from './aws-endpoint.ts';
import { LocalBus, type BusEvent, type RetryPolicy } from './bus.ts';
import { parseJson, problem, refuseScheduleRequest, scheduleRequest } from './local-admin.ts';
import { DEV_AUDIENCE, devIssuerFor, jwks, loadOrCreateKeys, signToken } from './dev-issuer.ts';
import { projectRoot, startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts';
import { invoke } from './lambda.ts';
import { LocalKms } from './kms.ts';
import { LocalQueue } from './queue.ts';
import { LogTap, type LogTapOptions } from './log-tap.ts';
import { consoleFiles } from './console-files.ts';
import { CONSOLE_CLIENT_ID, devOidc } from './oidc.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './private-dir.ts';
import { seedDemoProvince } from './seed.ts';
import { StreamPoller } from './stream-poller.ts';

export interface RuntimeOptions {
  dataDir?: string;
  /** 0 picks a free port. */
  port?: number;
  province?: string;
  /** Use a DynamoDB Local that is already running (tests share one); else start one under dataDir. */
  dynamoEndpoint?: string;
  tableName?: string;
  seed?: boolean;
  log?: (line: string) => void;
  /** The bus's retry policy (default EventBridge's: 186 attempts within 24 h; BUS_MAX_EVENT_AGE_SECONDS for npm start). */
  busRetry?: Partial<RetryPolicy>;
  /** Waits before each retry of a failed log-subscription delivery (default about Lambda's: 1 s, 2 s here). */
  logRetryDelaysMs?: LogTapOptions['retryDelaysMs'];
  /** How long log lines wait to be delivered in one batch (default 100 ms). */
  logBatchWindowMs?: number;
  /** Run scheduled consumers on timers (off in tests, which trigger them with an explicit time). */
  timers?: boolean;
  /** Lifetime of the access tokens the dev OIDC provider gives the console (default 8 h). */
  consoleSessionSeconds?: number;
  /** Tests only: adjust the province's configuration (e.g. low prescribing limits) before anything starts. */
  configure?: (province: ProvinceConfig) => ProvinceConfig;
}

/**
 * Webhooks on this machine: receivers on http://127.0.0.1 are allowed, and a failing delivery is
 * retried over minutes, not a day (WEBHOOK_RETRY_DELAYS_SECONDS=5,60,600 to choose).
 */
export const LOCAL_WEBHOOK_RETRY_DELAYS = [5, 30, 120, 600];
function localWebhooks(p: ProvinceConfig): ProvinceConfig {
  const fromEnv = process.env.WEBHOOK_RETRY_DELAYS_SECONDS?.split(',').map(Number);
  const retryDelaysSeconds = fromEnv?.length && fromEnv.every((n) => Number.isInteger(n) && n >= 0) ? fromEnv : LOCAL_WEBHOOK_RETRY_DELAYS;
  return { ...p, webhooks: { ...p.webhooks, allowedHosts: [...new Set([...p.webhooks.allowedHosts, '127.0.0.1'])], retryDelaysSeconds } };
}

export interface Runtime {
  url: string;
  /** The DynamoDB Local endpoint (inspect the table with any SDK or the AWS CLI's --endpoint-url). */
  dynamoEndpoint: string;
  dataDir: string;
  tableName: string;
  province: ProvinceConfig;
  bus: LocalBus;
  /** The SQS queue of each queue consumer (kind 'queue'), by the consumer's name. */
  queues: Record<string, LocalQueue>;
  poller: StreamPoller;
  /** The log subscriptions' stand-in (access lines into the access log). */
  logs: LogTap;
  token(role: Role, institution?: string, opts?: { ttlSeconds?: number; subject?: string; person?: string }): Promise<string>;
  /** Runs a scheduled consumer now, as if its schedule fired at `time`. */
  runSchedule(name: string, time?: Date): Promise<void>;
  /** Waits until the stream is drained and the bus has nothing in flight. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

let active: Runtime | undefined;

/**
 * The functions' AWS credentials, new in every process: the local AWS endpoint serves only requests
 * signed with this key id. (Once per process, not per start: SDK clients built at module load keep
 * the credentials they first read.)
 */
const credentials = { accessKeyId: `local${randomBytes(8).toString('hex')}`, secretAccessKey: randomBytes(16).toString('hex') };
/**
 * The local AWS endpoint's port, kept for the process for the same reason: a runtime started again in
 * the same process (a test's restart) must be reachable by the clients the first one's functions built.
 */
let awsEndpointPort = 0;

/** How long settle() waits for everything to come to rest before it says what is still moving. */
const SETTLE_LIMIT_MS = 120_000;

export async function startRuntime(o: RuntimeOptions = {}): Promise<Runtime> {
  if (active) throw new Error('a local runtime is already running in this process (functions share process.env)');
  const log = o.log ?? (() => undefined);
  const dataDir = resolve(o.dataDir ?? process.env.DATA_DIR ?? join(projectRoot, '.data'));
  ensurePrivateDir(dataDir);
  const loaded = localWebhooks(loadProvince(o.province ?? process.env.PROVINCE ?? 'ZJ'));
  const province = o.configure ? o.configure(loaded) : loaded;
  const tableName = o.tableName ?? `consortium-${province.code}`;
  const busName = `consortium-${province.code}`;
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch((e: Error) => log(`stop: ${e.message}`));
  };

  try {
    let ddbEndpoint = o.dynamoEndpoint;
    if (!ddbEndpoint) {
      const ddbLocal: DynamoDbLocal = await startDynamoDbLocal({ dbPath: join(dataDir, 'dynamodb'), pidFile: join(dataDir, 'dynamodb.pid') });
      stops.push(() => ddbLocal.stop());
      ddbEndpoint = ddbLocal.endpoint;
    }

    const secretValues = loadOrCreateSecrets(dataDir);
    const secretIds = { piiKey: `consortium/${province.code}/pii-hash-key`, voucherKey: `consortium/${province.code}/voucher-signing-key` };
    const keys = await loadOrCreateKeys(dataDir);

    const bus = new LocalBus({
      busName,
      rules: subscriptions.map((s) => ({ name: s.rule, pattern: s.pattern, target: s.target })),
      invoke: async (target, event) => {
        await invoke(target as FunctionName, event);
      },
      journalPath: join(dataDir, 'bus', 'journal.jsonl'),
      deadLetterPath: join(dataDir, 'bus', 'dead-letters.jsonl'),
      region: province.region,
      retry: { ...busRetryFromEnv(), ...o.busRetry },
      log,
    });
    stops.push(() => bus.stop());
    // One SQS queue per queue consumer, with the redrive and visibility settings the stack gives it.
    const queueConsumers = (Object.entries(functionCatalog) as Array<[FunctionName, FunctionDef]>).filter(([, d]) => d.kind === 'queue' && d.queue);
    const queues = Object.fromEntries(
      queueConsumers.map(([name, def]) => [
        name,
        new LocalQueue({
          name: `consortium-${province.code}-${name}`,
          visibilityTimeoutSeconds: queueVisibilitySeconds(def),
          maxReceiveCount: def.queue!.attempts(runtimePart(province)),
          journalPath: join(dataDir, 'queues', `${name}.jsonl`),
          deadLetterPath: join(dataDir, 'queues', `${name}-dead-letters.jsonl`),
          log,
        }),
      ]),
    ) as Record<string, LocalQueue>;
    stops.push(async () => {
      for (const q of Object.values(queues)) await q.stop();
    });
    const webhookKeyId = `arn:aws:kms:${province.region}:000000000000:key/local-webhook-secrets`;
    const startEndpoint = (port: number) =>
      startAwsEndpoint(
        bus,
        { [secretIds.piiKey]: secretValues.piiKey, [secretIds.voucherKey]: secretValues.voucherKey },
        { accessKeyId: credentials.accessKeyId, region: province.region },
        {
          kms: new LocalKms({ [webhookKeyId]: Buffer.from(secretValues.webhookKey, 'base64') }),
          queues: Object.fromEntries(Object.values(queues).map((q) => [q.o.name, q])),
        },
        port,
      );
    // The process's port again if it is free (another runtime of this process may still hold it).
    const endpoint: AwsEndpoint = await startEndpoint(awsEndpointPort).catch(() => startEndpoint(0));
    awsEndpointPort = Number(new URL(endpoint.url).port);
    stops.push(() => endpoint.close());

    let apiUrl = '';
    const oidc = devOidc({
      dataDir,
      province,
      accessTokenSeconds: o.consoleSessionSeconds,
      institutions: async () => {
        const token = await signToken(keys, { role: 'operator', province, subject: 'dev-oidc' });
        const all = [];
        let next: string | undefined;
        do {
          const res = await fetch(`${apiUrl}/institutions?limit=200${next ? `&nextToken=${next}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
          const page = (await res.json()) as { items: import('../../schemas/institutions.ts').Institution[]; nextToken?: string };
          all.push(...page.items);
          next = page.nextToken;
        } while (next);
        return all;
      },
    });
    const server: Server = await startApiServer(o.port ?? Number(process.env.PORT ?? 3000), {
      routes,
      region: province.region,
      account: '000000000000',
      authorizerCacheSeconds: AUTHORIZER_CACHE_SECONDS,
      log,
      invoke: (fn, event) => invoke(fn, event) as Promise<APIGatewayProxyResult>,
      authorize: (event) => invoke('authorizer', event) as Promise<APIGatewayAuthorizerResult>,
      files: consoleFiles((url) => ({
        apiBaseUrl: '',
        oidc: { issuer: `${url.origin}/_local/oidc`, clientId: CONSOLE_CLIENT_ID },
        province: { code: province.code, name: province.console.displayName ?? province.name },
        timeZone: province.timeZone,
      })),
      local: async (req, body, url) => {
        if (url.pathname === '/_local/jwks.json') return { status: 200, body: jwks(keys) };
        if (url.pathname.startsWith('/_local/oidc/')) return oidc.handle(req, body, url);
        const m = /^\/_local\/schedules\/([\w-]+)$/.exec(url.pathname);
        if (m && req.method === 'POST') {
          const refused = await refuseScheduleRequest(req, url, (event) => invoke('authorizer', event) as Promise<APIGatewayAuthorizerResult>);
          if (refused) return refused;
          const parsed = scheduleRequest.safeParse(body ? parseJson(body) : {});
          if (!parsed.success) return problem('validation-failed', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
          if (!schedules.some((s) => s.name === m[1])) return problem('not-found', `no schedule ${m[1]}`);
          await runtime.runSchedule(m[1]!, parsed.data.time ? new Date(parsed.data.time) : undefined);
          return { status: 202, body: { triggered: m[1] } };
        }
        return undefined;
      },
    });
    stops.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
    const { port } = server.address() as { port: number };
    apiUrl = `http://127.0.0.1:${port}`;

    // Function configuration: the same variable names the CDK stack sets, with local endpoints.
    const envInputs = {
      tableName,
      eventBusName: busName,
      province: runtimePart(province),
      jwksUrl: `${apiUrl}/_local/jwks.json`,
      issuer: devIssuerFor(province.code),
      audience: DEV_AUDIENCE,
      secretIds,
      webhookKeyId,
      queueUrls: Object.fromEntries(Object.entries(queues).map(([name, q]) => [name, queueUrlFor(endpoint.url, q.o.name)])),
      logLevel: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    };
    for (const name of Object.keys(functionCatalog) as FunctionName[]) Object.assign(process.env, functionEnvironment(name, envInputs));
    Object.assign(process.env, {
      POWERTOOLS_SERVICE_NAME: 'consortium-local',
      AWS_REGION: province.region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: ddbEndpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint.url,
      AWS_ENDPOINT_URL_KMS: endpoint.url,
      AWS_ENDPOINT_URL_SQS: endpoint.url,
    });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;

    await ensureTable(ddbEndpoint, province.region, tableName);

    const poller = new StreamPoller({
      endpoint: ddbEndpoint,
      tableName,
      filter: outboxStreamFilter,
      handler: (event) => invoke('outboxRelay', event) as Promise<DynamoDBBatchResponse>,
      checkpointPath: join(dataDir, `stream-checkpoint-${tableName}.json`),
      log,
    });
    poller.start();
    stops.push(() => poller.stop());
    // The notifications outbox: inserted NOTIFICATION# items, one printed line each. In AWS the
    // same filter on the table stream is where an SMS provider's sender function attaches.
    const smsPrinter = new StreamPoller({
      endpoint: ddbEndpoint,
      tableName,
      filter: notificationStreamFilter,
      handler: async (event) => {
        for (const n of notificationsIn(event)) log(n.channel === 'sms' ? `sms to ${n.phoneMasked}: ${n.text}` : `message to ${n.institutionId}: ${n.text}`);
      },
      checkpointPath: join(dataDir, `stream-checkpoint-${tableName}-notifications.json`),
      idleMs: 250,
      log,
    });
    smsPrinter.start();
    stops.push(() => smsPrinter.stop());
    // Log subscriptions: the access lines the API functions log, into the access-log consumer.
    const logs = new LogTap({
      subscriptions: logSubscriptions,
      dir: join(dataDir, 'logs'),
      invoke: async (target, event) => {
        await invoke(target as FunctionName, event);
      },
      retryDelaysMs: o.logRetryDelaysMs,
      batchWindowMs: o.logBatchWindowMs,
      log,
    });
    logs.start();
    stops.push(() => logs.stop());
    const recovered = bus.recover();
    if (recovered) log(`bus: re-queued ${recovered} deliveries accepted before the last stop`);
    // The event source mappings of the queue consumers.
    for (const [name, def] of queueConsumers) {
      const q = queues[name]!;
      const left = q.recover();
      if (left) log(`queue ${q.o.name}: ${left} messages kept from the last run`);
      q.startConsumer((event) => invoke(name, event), { batchSize: def.queue!.batchSize, maxConcurrency: def.queue!.maxConcurrency, region: province.region });
    }

    const runtime: Runtime = {
      url: apiUrl,
      dynamoEndpoint: ddbEndpoint,
      dataDir,
      tableName,
      province,
      bus,
      queues,
      poller,
      logs,
      token: (role, institution, opts) => signToken(keys, { role, institution, province, ...opts }),
      async runSchedule(name, time = new Date()) {
        const s = schedules.find((x) => x.name === name);
        if (!s) throw new Error(`no schedule ${name}`);
        const event: BusEvent = {
          version: '0', id: randomBytes(16).toString('hex'), 'detail-type': 'Scheduled Event', source: 'aws.events',
          account: '000000000000', time: time.toISOString(), region: province.region, resources: [`schedule/${name}`], detail: {},
        };
        await invoke(s.target, event);
      },
      async settle() {
        // Two quiet passes in a row (both stream pollers read to the end of the stream, nothing in
        // flight on the bus, the log subscriptions or a queue, retries included, and no counter
        // moved) mean nothing is moving. Waiting for the pollers' own empty pass, not a fixed time,
        // holds on a slow machine.
        // A consumer that fails for good keeps the counters moving; say so instead of waiting forever.
        const giveUpAt = Date.now() + SETTLE_LIMIT_MS;
        let quiet = 0;
        let seen = '';
        while (quiet < 2) {
          if (Date.now() > giveUpAt) {
            throw new Error(`settle: still moving after ${SETTLE_LIMIT_MS / 1000} s (stream poller: ${poller.lastError ?? 'ok'}; text messages: ${smsPrinter.lastError ?? 'ok'})`);
          }
          await new Promise((r) => setTimeout(r, 100));
          await Promise.all([poller.drained(), smsPrinter.drained()]);
          await bus.idle();
          for (const q of Object.values(queues)) await q.idle();
          await logs.idle();
          const now = `${poller.handled}/${smsPrinter.handled}/${logs.delivered}/${Object.values(queues).map((q) => q.delivered + q.deadLettered).join('/')}`;
          quiet = now === seen ? quiet + 1 : 0;
          seen = now;
        }
      },
      async stop() {
        active = undefined;
        await stopAll();
      },
    };
    active = runtime;

    if (o.seed ?? true) await seedDemoProvince(runtime, ddbEndpoint, log);

    if (o.timers) {
      for (const s of schedules) {
        const t = setInterval(() => {
          runtime.runSchedule(s.name).catch((e: Error) => log(`schedule ${s.name} failed: ${e.message}`));
        }, s.everyMinutes * 60_000);
        stops.push(async () => clearInterval(t));
      }
    }
    return runtime;
  } catch (err) {
    active = undefined;
    await stopAll();
    throw err;
  }
}

/** `BUS_MAX_EVENT_AGE_SECONDS=600 npm start`: dead-letter sooner than EventBridge's 24 h while developing a consumer. */
function busRetryFromEnv(): Partial<RetryPolicy> {
  const seconds = Number(process.env.BUS_MAX_EVENT_AGE_SECONDS);
  return seconds > 0 ? { maxEventAgeMs: seconds * 1000 } : {};
}

type LocalSecrets = { piiKey: string; voucherKey: string; webhookKey: string };
/** The local secrets and key material; one missing from an older DATA_DIR is made and added. */
function loadOrCreateSecrets(dataDir: string): LocalSecrets {
  const file = join(dataDir, 'secrets.json');
  const kept = (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}) as Partial<LocalSecrets>;
  const secrets: LocalSecrets = {
    piiKey: kept.piiKey ?? randomBytes(32).toString('base64'),
    voucherKey: kept.voucherKey ?? randomBytes(32).toString('base64'),
    // The local KMS key that encrypts webhook signing secrets.
    webhookKey: kept.webhookKey ?? randomBytes(32).toString('base64'),
  };
  if (Object.keys(kept).length !== Object.keys(secrets).length) writeFileSync(file, JSON.stringify(secrets), { mode: PRIVATE_FILE_MODE });
  return secrets;
}

async function ensureTable(endpoint: string, region: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region });
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  await client.send(
    new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: tableKeys.ttlAttribute } }),
  );
}
