// One ConsortiumFunction per entry of functions/catalog.ts, with exactly the grants the entry
// declares: table actions on the table and the named indexes only, secrets by ARN, PutEvents on
// the province bus.
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionCatalog, type FunctionDef, type FunctionName } from '../../functions/catalog.ts';
import { functionEnvironment, type EnvInputs } from '../function-env.ts';
import { ConsortiumFunction, constructName } from './consortium-function.ts';
import type { Data } from './data.ts';

const READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export class Functions extends Construct {
  readonly byName: Record<FunctionName, ConsortiumFunction>;

  constructor(scope: Construct, id: string, props: { data: Data; bus: events.IEventBus; env: Omit<EnvInputs, 'tableName' | 'eventBusName' | 'secretIds'> }) {
    super(scope, id);
    const { data, bus } = props;
    const envInputs: EnvInputs = {
      ...props.env,
      tableName: data.table.tableName,
      eventBusName: bus.eventBusName,
      secretIds: { piiKey: data.secrets.piiKey.secretArn, voucherKey: data.secrets.voucherKey.secretArn },
    };
    const entries = Object.entries(functionCatalog) as Array<[FunctionName, FunctionDef]>;
    this.byName = Object.fromEntries(
      entries.map(([name, def]) => {
        const f = new ConsortiumFunction(this, constructName(name), {
          def,
          environment: functionEnvironment(name, envInputs),
          key: data.key,
          logRetention: logs.RetentionDays.ONE_YEAR,
        });
        if (def.table) {
          const indexes = (def.indexes ?? []).map((i) => `${data.table.tableArn}/index/${i}`);
          f.role.addToPrincipalPolicy(
            new iam.PolicyStatement({ actions: def.table === 'read' ? READ : [...READ, ...WRITE], resources: [data.table.tableArn, ...indexes] }),
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
        return [name, f];
      }),
    ) as Record<FunctionName, ConsortiumFunction>;
  }
}

