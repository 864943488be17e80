// The project's Lambda function: NodejsFunction with the platform's defaults (Node 24 on arm64,
// bundled with the local esbuild as bundling.ts says, X-Ray, an encrypted log group with retention)
// and a role of its own holding only what its catalog entry asks for.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import type { FunctionDef } from '../../functions/catalog.ts';
import { functionBundling, LAMBDA_RUNTIME, NODE_OPTIONS, projectRoot } from './bundling.ts';

/** Construct id of a catalog name (outboxRelay → OutboxRelay): functions, their DLQs and alarms alike. */
export const constructName = (name: string) => name[0]!.toUpperCase() + name.slice(1);

export interface ConsortiumFunctionProps {
  def: FunctionDef;
  environment: Record<string, string>;
  key: kms.IKey;
  logRetention: logs.RetentionDays;
}

export class ConsortiumFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly kind: FunctionDef['kind'];

  constructor(scope: Construct, id: string, props: ConsortiumFunctionProps) {
    super(scope, id);
    const { def } = props;
    this.kind = def.kind;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${id}: ${def.description}`,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): this group only.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    );

    this.fn = new NodejsFunction(this, 'Fn', {
      entry: join(projectRoot, def.entry),
      handler: 'handler',
      description: def.description,
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: def.memoryMb ?? 512,
      timeout: Duration.seconds(def.timeoutSeconds ?? 10),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // INFO, stated: the access lines of the person's access log are INFO lines of the API
      // functions (functions/shared/access.ts); a higher level here would drop them at the source.
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      tracing: lambda.Tracing.ACTIVE,
      environment: { ...props.environment, NODE_OPTIONS: NODE_OPTIONS.join(' ') },
      environmentEncryption: props.key,
      reservedConcurrentExecutions: def.reservedConcurrency,
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      bundling: functionBundling,
    });

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) has no resource-level permissions',
      },
      {
        id: 'AwsSolutions::AwsSolutions-L1',
        reason: 'Pinned to nodejs24.x, the runtime the bundles target (esbuild target node24) and CI runs the suite on; upgrades are deliberate',
      },
      def.internetEgress
        ? {
            id: 'HIPAA.Security::HIPAA.Security-LambdaInsideVPC',
            reason: 'It calls institutions\' public HTTPS endpoints and AWS APIs; no private resource is reachable or wanted: functions/webhooks/url-guard.ts refuses private, loopback, link-local and metadata addresses (after DNS, connecting to the checked address), and a VPC would only add a NAT',
          }
        : {
            id: 'HIPAA.Security::HIPAA.Security-LambdaInsideVPC',
            reason: 'The function reaches only AWS APIs (DynamoDB, EventBridge, Secrets Manager, KMS, SQS) over TLS with IAM auth; there is no private network resource to protect',
          },
      {
        id: 'HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy',
        reason: 'The policy belongs to this function\'s own role and lists only its actions and resources; a managed policy would be reusable by roles it was not written for',
      },
    );
    if (def.kind === 'api' || def.kind === 'authorizer') {
      Validations.of(this).acknowledge(
        { id: 'HIPAA.Security::HIPAA.Security-LambdaDLQ', reason: 'Invoked synchronously by API Gateway: the caller gets the error; there is nothing to dead-letter' },
        {
          id: 'HIPAA.Security::HIPAA.Security-LambdaConcurrency',
          reason: 'Bounded by the API stage throttle; reserving concurrency for request paths would take it from the account pool that other provinces share',
        },
      );
    }
    if (def.kind === 'queue') {
      Validations.of(this).acknowledge({
        id: 'HIPAA.Security::HIPAA.Security-LambdaDLQ',
        reason: 'Invoked by an SQS event source mapping: a message that keeps failing goes to the queue\'s own dead-letter queue (redrive policy), not a function DLQ',
      });
    }
    if (def.kind === 'stream') {
      Validations.of(this).acknowledge(
        { id: 'HIPAA.Security::HIPAA.Security-LambdaDLQ', reason: 'Stream-invoked: failed records go to the event source mapping\'s on-failure SQS queue, not a function DLQ' },
        { id: 'HIPAA.Security::HIPAA.Security-LambdaConcurrency', reason: 'Stream-invoked: concurrency is one batch per shard, set by the event source mapping' },
      );
    }
  }

}
