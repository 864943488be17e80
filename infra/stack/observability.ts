// Alarms that wake the operator on call, and one dashboard per province. Alarm actions go to an
// encrypted SNS topic (with an email subscription when the province config names an address).
import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FunctionDef, FunctionName } from '../../functions/catalog.ts';
import { tableKeys } from '../../functions/shared/table.ts';
import { constructName, type ConsortiumFunction } from './consortium-function.ts';

export interface ObservabilityProps {
  provinceCode: string;
  key: kms.Key;
  api: apigw.RestApi;
  table: dynamodb.Table;
  functions: Record<FunctionName, ConsortiumFunction>;
  deadLetterQueues: Record<string, sqs.IQueue>;
  /** The queues of queue consumers, by consumer. */
  queues?: Record<string, sqs.IQueue>;
  alarmEmail?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * What a dead-letter queue holds, and so its runbook (a README section under "Operating a province"),
 * by the kind of function it belongs to. Purging loses data for every kind but scheduled runs.
 */
const deadLetterRunbooks: Partial<Record<FunctionDef['kind'], (name: string) => string>> = {
  consumer: (name) =>
    `Events for ${name} failed after Lambda's retries (each message is the event): fix, then invoke ${name} with them (README: Redriving a consumer's dead letters). Do not purge.`,
  queue: (name) =>
    `Messages for ${name} failed every attempt (each carries its webhook delivery): once the receiver is fixed, move them back to its queue (README: Redriving webhook deliveries). Do not purge: replaying events does not queue them again.`,
  logs: (name) =>
    `Log batches for ${name} failed after Lambda's retries (each message is the batch): fix, then invoke ${name} with them (README: Redriving the access log). Do not purge.`,
  stream: (name) =>
    `Table stream records ${name} could not publish were skipped; the messages hold only their stream range: republish those outbox items within 7 days (README: Republishing the outbox).`,
  scheduled: (name) =>
    `Scheduled runs of ${name} failed after Lambda's retries; the next run does their work again: fix, then delete the messages (README: Dead-lettered scheduled runs).`,
};

export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { api, table, functions } = props;
    this.topic = new sns.Topic(this, 'Alarms', { displayName: `Consortium ${props.provinceCode} alarms`, masterKey: props.key, enforceSSL: true });
    // CloudWatch publishes to the encrypted topic.
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    else {
      Annotations.of(Stack.of(this)).addWarningV2(
        '@consortium/observability:noAlarmSubscriber',
        `No alarm subscriber: the alarms of ${props.provinceCode} go to an SNS topic nobody reads. Set alarmEmail in infra/provinces/${props.provinceCode}.json, or subscribe to the topic (output AlarmTopicArn) before relying on this stack (README: Deploying).`,
      );
    }

    const alarm = (name: string, description: string, metric: cloudwatch.IMetric, threshold: number, evaluationPeriods = 1) => {
      const a = new cloudwatch.Alarm(this, name, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new actions.SnsAction(this.topic));
      a.addOkAction(new actions.SnsAction(this.topic));
      this.alarms.push(a);
      return a;
    };

    // API: 5xx rate above 1% (with at least 20 requests), p99 latency above 2 s, for 15 minutes.
    const requests = api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' });
    const errors5xx = api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' });
    alarm(
      'Api5xxRate',
      'More than 1% of API requests fail with 5xx: check the function error alarms and logs, and the authorizer\'s (README: When an alarm fires)',
      new cloudwatch.MathExpression({ expression: 'IF(requests >= 20, 100 * errors / requests, 0)', usingMetrics: { requests, errors: errors5xx }, label: '5xx %', period: FIVE_MINUTES }),
      1,
      3,
    );
    alarm('ApiLatencyP99', 'API p99 latency above 2 s for 15 minutes', api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }), 2000, 3);

    for (const [name, f] of Object.entries(functions)) {
      alarm(`${constructName(name)}Throttles`, `Function ${name} is throttled (reserved or account concurrency exhausted)`, f.fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }), 0);
      if (f.kind !== 'api' && f.kind !== 'authorizer') {
        // Async work fails quietly (the caller is a queue, not a person): any error is worth a look.
        alarm(`${constructName(name)}Errors`, `Function ${name} failed; events are retried, then dead-lettered`, f.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), 0);
      }
    }
    for (const [name, q] of Object.entries(props.deadLetterQueues)) {
      const kind = functions[name as FunctionName]?.kind;
      const runbook = kind && deadLetterRunbooks[kind];
      if (!runbook) throw new Error(`dead-letter queue of ${name} (${kind ?? 'no such function'}): no runbook for it`);
      alarm(`${constructName(name)}DlqDepth`, runbook(name), q.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }), 0);
    }
    for (const [name, q] of Object.entries(props.queues ?? {})) {
      // Visible messages wait for a consumer (retries waiting their turn are invisible): a backlog
      // means the consumer cannot keep up or is failing as a whole.
      alarm(
        `${constructName(name)}QueueBacklog`,
        `Messages for ${name} are waiting: it is throttled, failing or too slow (see its errors and duration)`,
        q.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Minimum' }),
        1000,
        3,
      );
    }
    const iteratorAge = functions.outboxRelay.fn.metric('IteratorAge', { period: FIVE_MINUTES, statistic: 'Maximum' });
    alarm('RelayIteratorAge', 'The outbox relay has been more than a minute behind the table stream for two 5-minute periods: events are delayed (README: When an alarm fires)', iteratorAge, 60_000, 2);
    // Each index reports its own throttle events (one that cannot keep up throttles the table's
    // writes); FILL, or a metric without data (no throttle yet) would blank the sum.
    const throttleMetrics: Record<string, cloudwatch.IMetric> = {};
    for (const [i, index] of [undefined, ...tableKeys.indexes.map((x) => x.indexName)].entries()) {
      const dimensionsMap = { TableName: table.tableName, ...(index ? { GlobalSecondaryIndexName: index } : {}) };
      throttleMetrics[`r${i}`] = table.metric('ReadThrottleEvents', { period: FIVE_MINUTES, statistic: 'Sum', dimensionsMap });
      throttleMetrics[`w${i}`] = table.metric('WriteThrottleEvents', { period: FIVE_MINUTES, statistic: 'Sum', dimensionsMap });
    }
    const throttled = new cloudwatch.MathExpression({
      expression: Object.keys(throttleMetrics).map((id) => `FILL(${id}, 0)`).join(' + '),
      usingMetrics: throttleMetrics,
      label: 'throttle events (table and indexes)',
      period: FIVE_MINUTES,
    });
    alarm('TableThrottles', 'DynamoDB throttled requests on the province table or one of its indexes (README: When an alarm fires)', throttled, 0);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `consortium-${props.provinceCode}` });
    const fns = Object.entries(functions);
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
      new cloudwatch.GraphWidget({ title: 'API requests and errors', left: [requests, api.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' }), errors5xx], width: 12 }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [api.metricLatency({ period: FIVE_MINUTES, statistic: 'p50' }), api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({ title: 'Function errors', left: fns.map(([n, f]) => f.fn.metricErrors({ period: FIVE_MINUTES, label: n })), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Function p99 duration (ms)', left: fns.map(([n, f]) => f.fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99', label: n })), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Function throttles', left: fns.map(([n, f]) => f.fn.metricThrottles({ period: FIVE_MINUTES, label: n })), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Outbox relay iterator age (ms)', left: [iteratorAge], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues (messages)',
        left: Object.entries(props.deadLetterQueues).map(([n, q]) => q.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, label: n })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Table capacity and throttles',
        left: [table.metricConsumedReadCapacityUnits({ period: FIVE_MINUTES }), table.metricConsumedWriteCapacityUnits({ period: FIVE_MINUTES })],
        right: [throttled],
        width: 8,
      }),
    );
  }
}

