// CDK assertions on every province stack, and the cdk-nag packs over the whole app.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/bin/app.ts';
import { loadProvinces } from '../../infra/provinces/load.ts';
import { BEARER_HEADER } from '../../functions/authorizer/bearer.ts';
import { functionCatalog } from '../../functions/catalog.ts';
import { routes } from '../../schemas/routes.ts';
import { logSubscriptions, subscriptions } from '../../events/subscriptions.ts';
import { tableKeys } from '../../functions/shared/table.ts';
import type { ProvinceStack } from '../../infra/stack/province-stack.ts';
import { constructName } from '../../infra/stack/consortium-function.ts';

// Skipping bundling keeps these tests fast; bundling itself is exercised by `cdk synth` in CI.
const newApp = (outdir?: string) => new App({ context: { 'aws:cdk:bundling-stacks': [] }, ...(outdir ? { outdir } : {}) });
const provinces = loadProvinces();
const provincesDir = join(import.meta.dirname, '../../infra/provinces');
// Every deployable province is a mainland one in aws-cn; this fixture (Hong Kong, never deployed)
// keeps a stack in the aws partition under the same assertions.
const awsFixture = loadProvinces(join(import.meta.dirname, '../fixtures/provinces'));
const stacked = [...provinces, ...awsFixture];
// The README's operator section: its runbook headings, and the stack outputs its commands read (`$(out Name)`).
const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const operating = readme.slice(readme.indexOf('## Operating a province\n'), readme.indexOf('## Layout\n'));
const runbooks = [...operating.matchAll(/^### (.+)$/gm)].map((m) => m[1]!);
const outputsRead = [...operating.matchAll(/\$\(out ([A-Za-z${}]+)\)/g)].map((m) => m[1]!);

describe.each(stacked.map((p) => [p.code, p] as const))('stack Consortium-%s', (code, province) => {
  let stack: ProvinceStack;
  let template: Template;
  let json: string;
  beforeAll(() => {
    const app = buildApp(newApp(), [province]);
    stack = app.node.findChild(`Consortium-${code}`) as ProvinceStack;
    template = Template.fromStack(stack);
    json = JSON.stringify(template.toJSON());
  });

  it('is in the configured region and names no partition', () => {
    const stack = buildApp(newApp(), [province]).node.findChild(`Consortium-${code}`) as ProvinceStack;
    expect(stack.region).toBe(province.region);
    expect(json).not.toMatch(/arn:aws(-cn)?:/);
  });

  it('has the table from the shared key schema: streams, PITR, CMK, TTL, deletion protection, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: tableKeys.partitionKey, KeyType: 'HASH' },
          { AttributeName: tableKeys.sortKey, KeyType: 'RANGE' },
        ],
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() }),
        TimeToLiveSpecification: { AttributeName: tableKeys.ttlAttribute, Enabled: true },
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: tableKeys.indexes.map((i) => Match.objectLike({ IndexName: i.indexName })),
      }),
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('has the province bus with an archive of every domain event', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: `consortium-${code}` });
    template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 365, EventPattern: { source: Match.arrayWith(['consortium.institutions']) } });
  });

  it('has one function per catalog entry, Node 24 on arm64, traced, with an encrypted log group', () => {
    // Ours: every function but CDK's own deploy-time handler (the console's BucketDeployment).
    const fns = Object.fromEntries(Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => !id.startsWith('CustomCDKBucketDeployment')));
    expect(Object.keys(fns)).toHaveLength(Object.keys(functionCatalog).length);
    for (const f of Object.values(fns)) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    }
    // One per function, plus the API access logs and the WAF logs.
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue(), RetentionInDays: 365 }, Object.keys(fns).length + 2);
    for (const f of Object.values(fns)) expect(f.Properties.KmsKeyArn).toBeDefined();
  });

  it('has one API method per route, the TOKEN authorizer on every non-public one, problem+json gateway responses', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map((m) => m.Properties);
    const real = methods.filter((m) => m.HttpMethod !== 'OPTIONS');
    expect(real).toHaveLength(routes.length);
    for (const r of routes) {
      const m = real.find((x) => x.HttpMethod === r.method && x.OperationName === r.operationId);
      expect(m, r.operationId).toBeDefined();
      expect(m!.AuthorizationType).toBe(r.auth === 'public' ? 'NONE' : 'CUSTOM');
    }
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'TOKEN', IdentitySource: 'method.request.header.Authorization', IdentityValidationExpression: BEARER_HEADER });
    // The gateway checks the header before the authorizer: the scheme in any case (RFC 9110), nothing else.
    const gatewayTakes = (header: string) => new RegExp(BEARER_HEADER).test(header);
    expect(['Bearer a.b.c', 'bearer a.b.c', 'BEARER a.b.c', 'Bearer  a.b.c'].map(gatewayTakes)).toEqual([true, true, true, true]);
    expect(['Basic a.b.c', 'a.b.c', 'Bearera.b.c', 'Bearer a b'].map(gatewayTakes)).toEqual([false, false, false, false]);
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: { 'gatewayresponse.header.Content-Type': "'application/problem+json'" },
    });
    // Refusals of authenticated requests are not cached either.
    const gatewayResponses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse'));
    expect(gatewayResponses.length).toBeGreaterThan(5);
    for (const g of gatewayResponses) expect(g.Properties.ResponseParameters['gatewayresponse.header.Cache-Control']).toBe("'no-store'");
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([Match.objectLike({ DataTraceEnabled: false, ThrottlingRateLimit: Match.anyValue() })]),
    });
  });

  it('has none of the local runtime\'s helpers: no /_local resource, route or reference', () => {
    const parts = Object.values(template.findResources('AWS::ApiGateway::Resource')).map((r) => String(r.Properties.PathPart));
    expect(parts).toContain('institutions');
    expect(parts.filter((p) => p.startsWith('_local'))).toEqual([]);
    expect(routes.filter((r) => r.path.startsWith('/_local'))).toEqual([]);
    expect(json).not.toContain('_local');
  });

  it('wires the relay to inserted outbox items and one rule per subscription, each target with a DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: [{ Pattern: Match.stringLikeRegexp('OUTBOX#') }] },
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventBusName);
    expect(rules).toHaveLength(subscriptions.length);
    for (const r of rules) for (const t of r.Properties.Targets) expect(t.DeadLetterConfig?.Arn).toBeDefined();
    template.allResourcesProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
  });

  it('feeds the access-log consumer from every API function\'s log group, asynchronously, retried, then dead-lettered; API functions log at INFO', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    const logicalId = (name: string) => Object.keys(fns).find((id) => id.startsWith(`Functions${name[0]!.toUpperCase()}${name.slice(1)}Fn`))!;
    const apis = Object.entries(functionCatalog).filter(([, d]) => d.kind === 'api').map(([n]) => n);
    const filters = Object.values(template.findResources('AWS::Logs::SubscriptionFilter')).map((f) => f.Properties);
    expect(filters).toHaveLength(apis.length * logSubscriptions.length);
    for (const f of filters) {
      expect(f).toMatchObject({ FilterPattern: '{ $.message = "person-access" }', FilterName: 'person-access-log' });
      expect(JSON.stringify(f.DestinationArn)).toContain(logicalId('accessLog'));
    }
    // One filter on each API function's own log group.
    const groups = filters.map((f) => JSON.stringify(f.LogGroupName));
    for (const name of apis) {
      const group = (fns[logicalId(name)]!.Properties.LoggingConfig.LogGroup as { Ref: string }).Ref;
      expect(groups.filter((g) => g.includes(group)), name).toHaveLength(1);
      expect(fns[logicalId(name)]!.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' });
    }
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: logicalId('accessLog') }, MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 6 * 3600 });
    expect(fns[logicalId('accessLog')]!.Properties.DeadLetterConfig?.TargetArn).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: Match.stringLikeRegexp('logs'), FunctionName: Match.objectLike({ 'Fn::GetAtt': [logicalId('accessLog'), 'Arn'] }) });
  });

  it('grants each function only what its catalog entry declares', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => JSON.stringify(p.Properties));
    const of = (name: string) => policies.find((p) => p.includes(`Functions${name[0]!.toUpperCase()}${name.slice(1)}Role`)) ?? '';
    expect(of('platform')).not.toContain('dynamodb:');
    expect(of('authorizer')).not.toContain('dynamodb:');
    expect(of('institutions')).toContain('dynamodb:PutItem');
    expect(of('institutions')).toContain('/index/GSI1');
    expect(of('institutions')).not.toContain('/index/GSI2');
    expect(of('institutions')).not.toContain('events:PutEvents');
    // The router reads a district's pharmacies from GSI2 (the local runtime refuses what is not granted).
    expect(of('prescriptionRouter')).toContain('/index/GSI2');
    expect(of('people')).not.toContain('dynamodb:PutItem');
    expect(of('outboxRelay')).toContain('events:PutEvents');
    expect(policies.join()).not.toMatch(/"dynamodb:\*"|"Action":"\*"/);
  });

  it('delivers webhooks from a queue of their own: retried by the sender, dead-lettered after the attempts the province config allows, alarmed', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const [queueId, queue] = Object.entries(queues).find(([id]) => id.startsWith('QueuesWebhookSender') && !id.includes('Dlq'))!;
    const [dlqId] = Object.entries(queues).find(([id]) => id.startsWith('QueuesWebhookSenderDlq'))!;
    // 1 + the retries of the schedule: at least 24 h of backoff (the config refuses less).
    expect(province.webhooks.retryDelaysSeconds.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * 3600);
    expect(queue.Properties).toMatchObject({
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: province.webhooks.retryDelaysSeconds.length + 1 },
      // Longer than the retries, which wait by hiding the message.
      MessageRetentionPeriod: 14 * 86_400,
      VisibilityTimeout: 6 * 30,
      KmsMasterKeyId: expect.anything(),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 10 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => JSON.stringify(a.Properties));
    expect(alarms.filter((a) => a.includes(`"${dlqId}"`) && a.includes('ApproximateNumberOfMessagesVisible'))).toHaveLength(1);
    expect(alarms.filter((a) => a.includes(`"${queueId}"`) && a.includes('ApproximateNumberOfMessagesVisible'))).toHaveLength(1);
    // The rule feeding the fan-out takes every event a subscriber may ask for.
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) => r.Properties.Description?.includes('webhook subscriptions'))!;
    expect(JSON.stringify(rule.Properties.EventPattern)).toContain('PrescriptionRouted');
  });

  it('lets only the subscription API encrypt webhook secrets and only the sender decrypt them, with a key of their own', () => {
    const keyId = Object.keys(template.findResources('AWS::KMS::Key')).find((id) => id.startsWith('DataWebhookSecretsKey'))!;
    expect(keyId).toBeDefined();
    template.hasResourceProperties('AWS::KMS::Key', { Description: Match.stringLikeRegexp('webhook signing secrets'), EnableKeyRotation: true });
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).map(([id, p]) => [id, p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>] as const);
    const onKey = policies.flatMap(([id, statements]) =>
      statements.filter((st) => JSON.stringify(st.Resource).includes(`"${keyId}"`)).map((st) => [id.replace(/RoleDefaultPolicy.*/, ''), st.Action]),
    );
    expect(onKey.sort()).toEqual([['FunctionsWebhookSender', 'kms:Decrypt'], ['FunctionsWebhooks', 'kms:Encrypt']]);
    const queueId = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => id.startsWith('QueuesWebhookSender') && !id.includes('Dlq'))!;
    const statementsOf = (fn: string) => policies.filter(([id]) => id.startsWith(`Functions${fn}Role`)).flatMap(([, st]) => st);
    const queueActions = (fn: string) =>
      statementsOf(fn).filter((st) => JSON.stringify(st.Resource).includes(`"${queueId}"`)).flatMap((st) => [st.Action].flat()).filter((a) => a.startsWith('sqs:')).sort();
    expect(queueActions('WebhookFanout')).toEqual(['sqs:SendMessage']);
    expect(queueActions('WebhookSender')).toEqual(expect.arrayContaining(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']));
    expect(queueActions('WebhookSender')).not.toContain('sqs:SendMessage');
    expect(queueActions('Webhooks')).toEqual([]);
    // The queue URL is in the environment of the functions that use it, the key's ARN in theirs.
    const env = (fn: string) => JSON.stringify(Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(`Functions${fn}Fn`))![1].Properties.Environment);
    expect(env('WebhookFanout')).toContain('WEBHOOK_SENDER_QUEUE_URL');
    expect(env('WebhookSender')).toContain('WEBHOOK_SENDER_QUEUE_URL');
    expect(env('Webhooks')).toContain(`"WEBHOOK_KEY_ID":{"Fn::GetAtt":["${keyId}","Arn"]}`);
    expect(env('Vouchers')).not.toContain('WEBHOOK');
  });

  it('keeps secrets in Secrets Manager under the province key; functions get only their ids', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.allResourcesProperties('AWS::SecretsManager::Secret', { KmsKeyId: Match.anyValue() });
    const envs = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => JSON.stringify(f.Properties.Environment ?? {}));
    for (const e of envs.filter((x) => x.includes('VOUCHER_KEY_SECRET_ID'))) expect(e).toMatch(/"VOUCHER_KEY_SECRET_ID":\{"Ref":"DataVoucherSigningKey/);
  });

  it('puts a WAF web ACL with managed rules and a rate limit in front of the stage, logging without the Authorization header', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet' }) } }),
        Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ AggregateKeyType: 'IP', Limit: province.api.wafRatePer5Minutes }) } }),
      ]),
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', { RedactedFields: [{ SingleHeader: { Name: 'authorization' } }] });
  });

  it('throttles per method where the route table asks (enrolment batches)', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ ResourcePath: '/~1enrollments', HttpMethod: 'POST', ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 })]),
    });
  });

  it('alarms on 5xx rate, p99 latency, throttles, every DLQ, relay iterator age and table throttles, to an encrypted topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const about = (pattern: RegExp) => alarms.filter((a) => pattern.test(JSON.stringify(a)));
    expect(about(/5xx %/)).toHaveLength(1);
    expect(about(/"ExtendedStatistic":"p99"/).length).toBeGreaterThanOrEqual(1);
    expect(about(/"MetricName":"Throttles"/)).toHaveLength(Object.keys(functionCatalog).length);
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(queues.length).toBeGreaterThan(0);
    const depth = about(/ApproximateNumberOfMessagesVisible/);
    for (const q of queues) expect(depth.filter((a) => JSON.stringify(a).includes(`"${q}"`)), q).toHaveLength(1);
    expect(about(/"MetricName":"IteratorAge"/)).toHaveLength(1);
    expect(about(/WriteThrottleEvents/)).toHaveLength(1);
    for (const a of alarms) expect(a.AlarmActions).toHaveLength(1);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: `consortium-${code}` });
  });

  it("names, in each dead-letter alarm, the README runbook for what that queue holds; only a scheduled run's may be purged", () => {
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([id]) => /DlqDepth/.test(id));
    const runbookOf = (name: string) => {
      const [, a] = alarms.find(([id]) => id.startsWith(`Observability${constructName(name)}DlqDepth`))!;
      const description = String(a.Properties.AlarmDescription);
      const section = /\(README: ([^)]+)\)/.exec(description)?.[1];
      expect(runbooks, `${name}: ${description}`).toContain(section);
      return { section, description };
    };
    const expected: Record<string, string> = {
      consumer: "Redriving a consumer's dead letters",
      queue: 'Redriving webhook deliveries',
      logs: 'Redriving the access log',
      stream: 'Republishing the outbox',
      scheduled: 'Dead-lettered scheduled runs',
    };
    const withDlq = Object.entries(functionCatalog).filter(([, d]) => ['consumer', 'queue', 'logs', 'stream', 'scheduled'].includes(d.kind));
    expect(alarms).toHaveLength(withDlq.length);
    for (const [name, def] of withDlq) {
      const { section, description } = runbookOf(name);
      expect(section, name).toBe(expected[def.kind]);
      if (def.kind !== 'scheduled') expect(description, name).not.toMatch(/purge the|then purge|delete the messages/i);
      // Each runbook names the alarms it is for.
      expect(operating.slice(operating.indexOf(`### ${section}`)).split('\n### ')[0], name).toContain(`${constructName(name)}DlqDepth`);
    }
  });

  it('alarms on throttles of the table and of each of its indexes, a missing metric counting as none', () => {
    const [alarm] = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([id]) => id.startsWith('ObservabilityTableThrottles')).map(([, a]) => a.Properties);
    const metrics = alarm.Metrics as Array<{ Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> } } }>;
    const stats = metrics.filter((m) => m.MetricStat);
    const indexOf = (m: (typeof stats)[number]) => m.MetricStat!.Metric.Dimensions.find((d) => d.Name === 'GlobalSecondaryIndexName')?.Value;
    for (const index of [undefined, ...tableKeys.indexes.map((i) => i.indexName)]) {
      expect(stats.filter((m) => indexOf(m) === index).map((m) => m.MetricStat!.Metric.MetricName).sort(), String(index)).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
    }
    const [expression] = metrics.filter((m) => m.Expression);
    expect(expression!.Expression!.split(' + ').sort()).toEqual(stats.map((m) => `FILL(${m.Id}, 0)`).sort());
    // CloudWatch takes at most 10 metrics in an alarm.
    expect(metrics.length).toBeLessThanOrEqual(10);
  });

  it("outputs, with a description, everything the README's runbooks read with out()", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Description?: string }>;
    const consumers = Object.entries(functionCatalog).filter(([, d]) => d.kind === 'consumer').map(([n]) => constructName(n));
    expect(consumers.length).toBeGreaterThan(0);
    const names = outputsRead.flatMap((n) => (n.includes('${C}') ? consumers.map((c) => n.replace('${C}', c)) : [n]));
    expect(names).toEqual(expect.arrayContaining(['TableName', 'EventBusArn', 'EventArchiveArn', 'OutboxRelayDlqUrl', 'WebhookSenderDlqArn', 'AccessLogFunctionName', 'AuditRuleArns']));
    for (const n of names) expect(outputs[n]?.Description, n).toBeTruthy();
    // A URL output per dead-letter queue, a rule output per subscribed consumer.
    const dlqs = Object.keys(template.findResources('AWS::SQS::Queue')).filter((id) => id.includes('Dlq'));
    expect(Object.keys(outputs).filter((o) => o.endsWith('DlqUrl'))).toHaveLength(dlqs.length);
    for (const s of subscriptions) expect(outputs[`${constructName(s.target)}RuleArns`], s.target).toBeDefined();
  });

  it('warns at synthesis when no alarm subscriber is configured', () => {
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('No alarm subscriber'));
    expect(warnings).toHaveLength(province.alarmEmail ? 0 : 1);
  });
});

describe('provinces', () => {
  it('a new config file is a new stack, with no other change', () => {
    const dir = mkdtempSync(join(tmpdir(), 'provinces-'));
    for (const f of readdirSync(provincesDir).filter((x) => x.endsWith('.json'))) copyFileSync(join(provincesDir, f), join(dir, f));
    const nx = JSON.parse(readFileSync(join(provincesDir, 'NX.json'), 'utf8'));
    writeFileSync(join(dir, 'GS.json'), JSON.stringify({ ...nx, code: 'GS', name: 'Gansu', region: 'cn-north-1' }));
    const app = buildApp(newApp(), loadProvinces(dir));
    const stacks = app.node.children.filter((c) => c.node.id.startsWith('Consortium-')).map((c) => c.node.id).sort();
    expect(stacks).toEqual([...provinces.map((p) => `Consortium-${p.code}`), 'Consortium-GS'].sort());
    const gs = Template.fromStack(app.node.findChild('Consortium-GS') as ProvinceStack);
    gs.hasResourceProperties('AWS::Events::EventBus', { Name: 'consortium-GS' });
  });

  it('a province with an alarm email subscribes it to the alarm topic and synthesizes without the warning', () => {
    const nx = provinces.find((p) => p.code === 'NX')!;
    const stack = buildApp(newApp(), [{ ...nx, alarmEmail: 'oncall@nx.consortium.example' }]).node.findChild('Consortium-NX') as ProvinceStack;
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@nx.consortium.example' });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('No alarm subscriber'))).toHaveLength(0);
  });

  it("a large province's capacity settings warm its table and reserve more for the consumers it names, and only those", () => {
    const dir = mkdtempSync(join(tmpdir(), 'provinces-'));
    const nx = JSON.parse(readFileSync(join(provincesDir, 'NX.json'), 'utf8'));
    const capacity = { warmThroughput: { readUnitsPerSecond: 16_000, writeUnitsPerSecond: 11_000 }, reservedConcurrency: { audit: 10, timelineProjector: 10 } };
    writeFileSync(join(dir, 'SD.json'), JSON.stringify({ ...nx, code: 'SD', name: 'Shandong', capacity }));
    const [sd] = loadProvinces(dir);
    const t = Template.fromStack(buildApp(newApp(), [sd!]).node.findChild('Consortium-SD') as ProvinceStack);
    t.hasResourceProperties('AWS::DynamoDB::Table', { WarmThroughput: { ReadUnitsPerSecond: 16_000, WriteUnitsPerSecond: 11_000 } });
    const reserved = (fn: string) => {
      const found = Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Description: functionCatalog[fn as keyof typeof functionCatalog].description } }));
      expect(found).toHaveLength(1);
      return (found[0] as { Properties: { ReservedConcurrentExecutions?: number } }).Properties.ReservedConcurrentExecutions;
    };
    expect([reserved('audit'), reserved('timelineProjector'), reserved('webhookFanout')]).toEqual([10, 10, functionCatalog.webhookFanout.reservedConcurrency]);
    // A province without them keeps the catalog's, and an on-demand table without warm throughput.
    const nxTemplate = Template.fromStack(buildApp(newApp(), [provinces.find((p) => p.code === 'NX')!]).node.findChild('Consortium-NX') as ProvinceStack);
    nxTemplate.hasResourceProperties('AWS::DynamoDB::Table', { WarmThroughput: Match.absent() });
    nxTemplate.hasResourceProperties('AWS::Lambda::Function', { Description: functionCatalog.audit.description, ReservedConcurrentExecutions: functionCatalog.audit.reservedConcurrency });
  });
});

describe('cdk-nag', () => {
  it('AwsSolutions and HIPAA Security report no unacknowledged finding on any province stack', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
    const app = buildApp(newApp(outdir), stacked);
    expect(new Set(stacked.map((p) => p.partition))).toEqual(new Set(['aws', 'aws-cn']));
    let error: unknown;
    try {
      app.synth();
    } catch (err) {
      error = err;
    }
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; violatingResources: Array<{ resourceLogicalId: string }> }>; suppressedViolations: unknown[] }>;
    };
    const open = report.pluginReports.flatMap((r) => r.violations.map((v) => `${r.pluginName} ${v.ruleName}: ${v.violatingResources.map((x) => x.resourceLogicalId).join(', ')}`));
    expect(open).toEqual([]);
    expect(error).toBeUndefined();
    // Both packs ran (CDK's own CloudFormation validation may report too, e.g. warnings CDK itself acknowledges).
    expect(report.pluginReports.map((r) => r.pluginName)).toEqual(expect.arrayContaining(['AwsSolutions', 'HIPAA.Security']));
  });
});
