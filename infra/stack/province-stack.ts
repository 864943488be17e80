// One province: data, bus, functions, wiring, API, firewall and observability, each a construct of its own.
import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { routes } from '../../schemas/routes.ts';
import { runtimePart, type ProvinceConfig } from '../../schemas/province.ts';
import type { FunctionName } from '../../functions/catalog.ts';
import { Api } from './api.ts';
import { Data } from './data.ts';
import { ConsoleHosting } from './console.ts';
import { constructName } from './consortium-function.ts';
import { Bus, Wiring } from './eventing.ts';
import { Firewall } from './firewall.ts';
import { Functions } from './functions.ts';
import { Observability } from './observability.ts';
import { Queues } from './queues.ts';
import { acknowledgeFindings } from './nag.ts';

export interface ProvinceStackProps extends StackProps {
  province: ProvinceConfig;
}

export class ProvinceStack extends Stack {
  readonly data: Data;
  readonly bus: Bus;
  readonly queues: Queues;
  readonly functions: Functions;
  readonly wiring: Wiring;
  readonly api: Api;
  readonly firewall: Firewall;
  readonly observability: Observability;
  readonly console: ConsoleHosting;

  constructor(scope: Construct, id: string, props: ProvinceStackProps) {
    super(scope, id, {
      ...props,
      description: `Medical consortium platform: ${props.province.name} (${props.province.code})`,
      env: { account: props.province.account, region: props.province.region },
      tags: { project: 'consortium', province: props.province.code },
    });
    const p = props.province;
    this.data = new Data(this, 'Data', { provinceCode: p.code, warmThroughput: p.capacity.warmThroughput });
    this.bus = new Bus(this, 'Events', { provinceCode: p.code });
    this.queues = new Queues(this, 'Queues', { key: this.data.key, province: runtimePart(p) });
    this.functions = new Functions(this, 'Functions', {
      data: this.data,
      bus: this.bus.bus,
      queues: this.queues.byConsumer,
      env: { province: runtimePart(p), jwksUrl: p.auth.jwksUrl, issuer: p.auth.issuer, audience: p.auth.audience },
      reservedConcurrency: p.capacity.reservedConcurrency,
    });
    this.wiring = new Wiring(this, 'Wiring', { data: this.data, bus: this.bus.bus, functions: this.functions.byName, queues: this.queues.byConsumer });
    this.api = new Api(this, 'Api', { routes, functions: this.functions.byName, key: this.data.key, provinceCode: p.code, rateLimit: p.api.rateLimit });
    this.firewall = new Firewall(this, 'Firewall', { stage: this.api.api.deploymentStage, key: this.data.key, provinceCode: p.code, ratePer5Minutes: p.api.wafRatePer5Minutes });
    this.observability = new Observability(this, 'Observability', {
      provinceCode: p.code,
      key: this.data.key,
      api: this.api.api,
      table: this.data.table,
      functions: this.functions.byName,
      deadLetterQueues: this.wiring.deadLetterQueues as Record<string, sqs.IQueue>,
      queues: Object.fromEntries(Object.entries(this.queues.byConsumer).map(([n, q]) => [n, q.queue])),
      alarmEmail: p.alarmEmail,
    });
    this.console = new ConsoleHosting(this, 'Console', { province: p, api: this.api.api, routes });
    this.runbookOutputs();
    acknowledgeFindings(this);
  }

  /** What the README's runbooks (Operating a province) name by output: `aws cloudformation describe-stacks`. */
  private runbookOutputs() {
    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('TableName', this.data.table.tableName, 'The province table (TABLE_NAME of the infra/ops scripts)');
    out('EventBusArn', this.bus.bus.eventBusArn, 'The province event bus (a replay\'s destination; EVENT_BUS_NAME of infra/ops/republish-outbox.ts)');
    out('EventArchiveArn', this.bus.archive.archiveArn, 'The archive of every domain event, a year (a replay\'s source)');
    out('AlarmTopicArn', this.observability.topic.topicArn, 'The SNS topic every alarm notifies');
    out('VoucherSigningKeyArn', this.data.secrets.voucherKey.secretArn, 'The e-voucher signing key secret (rotated by put-secret-value)');
    const fns = this.functions.byName;
    for (const [name, q] of Object.entries(this.wiring.deadLetterQueues) as Array<[FunctionName, sqs.Queue]>) {
      const n = constructName(name);
      out(`${n}DlqUrl`, q.queueUrl, `Dead-letter queue of ${name}`);
      const kind = fns[name].kind;
      if (kind === 'queue') out(`${n}DlqArn`, q.queueArn, `Dead-letter queue of ${name} (start-message-move-task's source)`);
      // Their runbooks redrive the messages by invoking the function.
      if (kind === 'consumer' || kind === 'logs') out(`${n}FunctionName`, fns[name].fn.functionName, `The ${name} function`);
    }
    for (const [name, rules] of Object.entries(this.wiring.rules) as Array<[FunctionName, NonNullable<Wiring['rules'][FunctionName]>]>) {
      out(`${constructName(name)}RuleArns`, Fn.join(',', rules.map((r) => r.ruleArn)), `The bus rules feeding ${name} (a replay's FilterArns)`);
    }
  }
}
