// One SQS queue per queue consumer of the function catalog (kind 'queue'), encrypted with the
// province key, with a dead-letter queue it redrives to after the consumer's attempts. Made before
// the functions, whose environment names the queues they send to; Wiring attaches the consumers.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { functionCatalog, queueVisibilitySeconds, type FunctionDef, type FunctionName } from '../../functions/catalog.ts';
import type { ProvinceRuntime } from '../../schemas/province.ts';
import { constructName } from './consortium-function.ts';

export interface ConsumerQueue {
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
}

export class Queues extends Construct {
  readonly byConsumer: Partial<Record<FunctionName, ConsumerQueue>> = {};

  constructor(scope: Construct, id: string, props: { key: kms.IKey; province: ProvinceRuntime }) {
    super(scope, id);
    for (const [name, def] of Object.entries(functionCatalog) as Array<[FunctionName, FunctionDef]>) {
      if (def.kind !== 'queue' || !def.queue) continue;
      const common = { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.key, enforceSSL: true, removalPolicy: RemovalPolicy.RETAIN };
      // SQS keeps a dead-lettered message by its first enqueue time: the longest retention, so
      // messages that took their whole retry window still wait two weeks here.
      const deadLetterQueue = new sqs.Queue(this, `${constructName(name)}Dlq`, { ...common, retentionPeriod: Duration.days(14) });
      Validations.of(deadLetterQueue).acknowledge({ id: 'AwsSolutions::AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the consumer queue beside it' });
      const queue = new sqs.Queue(this, constructName(name), {
        ...common,
        // Longer than any retry schedule the province config admits (12 waits of at most 11 h).
        retentionPeriod: Duration.days(14),
        visibilityTimeout: Duration.seconds(queueVisibilitySeconds(def)),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: def.queue.attempts(props.province) },
      });
      this.byConsumer[name] = { queue, deadLetterQueue };
    }
  }
}
