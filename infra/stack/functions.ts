// One ConsortiumFunction per entry of functions/catalog.ts, with exactly the grants the entry
// declares: table actions on the table and the named indexes only, secrets by ARN, PutEvents on
// the province bus.
import type * as events from 'aws-cdk-lib/aws-events';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionCatalog, tableActions, type FunctionDef, type FunctionName } from '../../functions/catalog.ts';
import { functionEnvironment, type EnvInputs } from '../function-env.ts';
import { ConsortiumFunction, constructName } from './consortium-function.ts';
import type { Data } from './data.ts';

export class Functions extends Construct {
  readonly byName: Record<FunctionName, ConsortiumFunction>;

  constructor(
    scope: Construct,
    id: string,
    props: {
      data: Data;
      bus: events.IEventBus;
      queues: Partial<Record<FunctionName, { queue: sqs.IQueue }>>;
      env: Omit<EnvInputs, 'tableName' | 'eventBusName' | 'secretIds' | 'webhookKeyId' | 'queueUrls'>;
      /** The province's reserved concurrency by function, over the catalog's. */
      reservedConcurrency?: Readonly<Record<string, number>>;
    },
  ) {
    super(scope, id);
    const { data, bus, queues } = props;
    const envInputs: EnvInputs = {
      ...props.env,
      tableName: data.table.tableName,
      eventBusName: bus.eventBusName,
      secretIds: { piiKey: data.secrets.piiKey.secretArn, voucherKey: data.secrets.voucherKey.secretArn },
      webhookKeyId: data.webhookKey.keyArn,
      queueUrls: Object.fromEntries(Object.entries(queues).map(([name, q]) => [name, q.queue.queueUrl])),
    };
    const entries = Object.entries(functionCatalog) as Array<[FunctionName, FunctionDef]>;
    this.byName = Object.fromEntries(
      entries.map(([name, def]) => {
        const f = new ConsortiumFunction(this, constructName(name), {
          def: { ...def, reservedConcurrency: props.reservedConcurrency?.[name] ?? def.reservedConcurrency },
          environment: functionEnvironment(name, envInputs),
          key: data.key,
          logRetention: logs.RetentionDays.ONE_YEAR,
        });
        if (def.table) {
          const indexes = (def.indexes ?? []).map((i) => `${data.table.tableArn}/index/${i}`);
          f.role.addToPrincipalPolicy(
            new iam.PolicyStatement({ actions: [...tableActions[def.table]], resources: [data.table.tableArn, ...indexes] }),
          );
          f.role.addToPrincipalPolicy(
            new iam.PolicyStatement({
              actions: def.table === 'read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
              resources: [data.key.keyArn],
            }),
          );
        }
        for (const s of def.secrets ?? []) data.secrets[s].grantRead(f.role);
        if (def.publishesEvents) bus.grantPutEventsTo(f.role);
        // One action on the webhook key: the API encrypts new secrets, the sender decrypts them.
        if (def.webhookKey) {
          f.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [def.webhookKey === 'encrypt' ? 'kms:Encrypt' : 'kms:Decrypt'], resources: [data.webhookKey.keyArn] }));
        }
        for (const consumer of def.sendsTo ?? []) {
          const q = queues[consumer as FunctionName];
          if (!q) throw new Error(`${name} sends to ${consumer}, which has no queue`);
          f.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [q.queue.queueArn] }));
          // The queue is encrypted with the province key.
          f.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [data.key.keyArn] }));
        }
        return [name, f];
      }),
    ) as Record<FunctionName, ConsortiumFunction>;
  }
}

