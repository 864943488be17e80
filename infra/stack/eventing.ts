// The province bus with its archive, the outbox relay reading the table stream, and one rule per
// row of the subscription table (plus the schedules), each consumer with a dead-letter queue.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { logSubscriptions, schedules, subscriptions } from '../../events/subscriptions.ts';
import { sources } from '../../events/catalog.ts';
import { functionCatalog, type FunctionDef, type FunctionName } from '../../functions/catalog.ts';
import { outboxStreamFilter } from '../../functions/shared/table.ts';
import { constructName, type ConsortiumFunction } from './consortium-function.ts';
import type { Data } from './data.ts';
import type { ConsumerQueue } from './queues.ts';

export class Bus extends Construct {
  readonly bus: events.EventBus;
  readonly archive: events.Archive;

  constructor(scope: Construct, id: string, props: { provinceCode: string }) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `consortium-${props.provinceCode}` });
    // Every domain event for a year: the replay source after a consumer bug (README: replaying events).
    this.archive = this.bus.archive('Archive', {
      description: 'All domain events of the province',
      eventPattern: { source: Object.values(sources) },
      retention: Duration.days(365),
    });
  }
}

export class Wiring extends Construct {
  readonly deadLetterQueues: Partial<Record<FunctionName | 'outboxRelay', sqs.Queue>> = {};
  /** The subscription rules on the bus, by consumer: a replay's FilterArns (README: Replaying events). */
  readonly rules: Partial<Record<FunctionName, events.Rule[]>> = {};

  constructor(
    scope: Construct,
    id: string,
    props: { data: Data; bus: events.EventBus; functions: Record<FunctionName, ConsortiumFunction>; queues: Partial<Record<FunctionName, ConsumerQueue>> },
  ) {
    super(scope, id);
    const { data, bus, functions } = props;
    const dlq = (name: string) => {
      const q = new sqs.Queue(this, `${name}Dlq`, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: data.key as kms.IKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(q).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SQS3',
        reason: 'This queue is itself a dead-letter queue (of a Lambda function, event source mapping or rule target, which cdk-nag does not trace)',
      });
      return q;
    };

    // Relay: inserted outbox items only; retry a failed record (it blocks its shard, which the
    // iterator-age alarm shows) rather than skip it; what still fails lands in its DLQ.
    const relayDlq = dlq('OutboxRelay');
    this.deadLetterQueues.outboxRelay = relayDlq;
    functions.outboxRelay.fn.addEventSource(
      new DynamoEventSource(data.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        retryAttempts: 10_000,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(relayDlq),
        filters: [{ pattern: JSON.stringify(outboxStreamFilter) }],
      }),
    );
    Validations.of(functions.outboxRelay.role).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: 'Granted by CDK\'s SqsDlq on-failure destination on the province key only, to send to the encrypted relay DLQ' },
      { id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason: 'Granted by CDK\'s SqsDlq on-failure destination on the province key only, to send to the encrypted relay DLQ' },
    );

    const consumerDlq = (target: FunctionName) => {
      let q = this.deadLetterQueues[target];
      if (!q) {
        q = dlq(constructName(target));
        this.deadLetterQueues[target] = q;
        // Failures inside the function (after Lambda's async retries) land here too.
        const fn = functions[target].fn;
        (fn.node.defaultChild as lambda.CfnFunction).deadLetterConfig = { targetArn: q.queueArn };
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [q.queueArn] }));
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [data.key.keyArn] }));
      }
      return q;
    };
    const target = (name: FunctionName) =>
      new targets.LambdaFunction(functions[name].fn, {
        deadLetterQueue: consumerDlq(name),
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
      });

    for (const s of subscriptions) {
      const rule = new events.Rule(this, `Rule-${s.rule}`, {
        eventBus: bus,
        description: s.description,
        eventPattern: s.pattern as events.EventPattern,
        targets: [target(s.target)],
      });
      (this.rules[s.target] ??= []).push(rule);
    }
    // Queue consumers: batches from their queue; what they report failed stays for a retry (the
    // consumer sets when), and SQS redrives a message past its attempts to the DLQ.
    for (const [name, def] of Object.entries(functionCatalog) as Array<[FunctionName, FunctionDef]>) {
      const q = props.queues[name];
      if (def.kind !== 'queue' || !def.queue || !q) continue;
      functions[name].fn.addEventSource(
        new SqsEventSource(q.queue, { batchSize: def.queue.batchSize, maxConcurrency: def.queue.maxConcurrency, reportBatchItemFailures: true }),
      );
      this.deadLetterQueues[name] = q.deadLetterQueue;
    }

    for (const s of schedules) {
      new events.Rule(this, `Schedule-${s.name}`, {
        description: s.description,
        schedule: events.Schedule.rate(Duration.minutes(s.everyMinutes)),
        targets: [target(s.target)],
      });
    }

    // Log subscriptions: CloudWatch Logs invokes the target asynchronously with the lines a filter
    // selects; Lambda retries a failed batch twice, keeps trying a throttled one for six hours, then
    // puts it in the target's dead-letter queue (alarmed; README: redriving the access log).
    for (const s of logSubscriptions) {
      const fn = functions[s.target].fn;
      consumerDlq(s.target);
      fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });
      const destination = new LambdaDestination(fn);
      for (const [name, source] of Object.entries(functions) as Array<[FunctionName, ConsortiumFunction]>) {
        if (source.kind !== s.from) continue;
        new logs.SubscriptionFilter(this, `LogSub-${s.name}-${constructName(name)}`, {
          logGroup: source.logGroup,
          destination,
          filterPattern: logs.FilterPattern.stringValue(`$.${s.match.field}`, '=', s.match.equals),
          filterName: s.name,
        });
      }
    }
  }
}
