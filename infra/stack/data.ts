// The province's data: a customer-managed KMS key, the single table (from the shared key schema),
// and the secrets functions read at cold start.
import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { tableKeys } from '../../functions/shared/table.ts';
import type { SecretName } from '../../functions/catalog.ts';

const attr = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });

export class Data extends Construct {
  readonly key: kms.Key;
  /** Encrypts webhook signing secrets: only the subscription API encrypts and only the sender decrypts with it. */
  readonly webhookKey: kms.Key;
  readonly table: dynamodb.Table;
  readonly secrets: Record<SecretName, secretsmanager.Secret>;

  constructor(scope: Construct, id: string, props: { provinceCode: string; warmThroughput?: dynamodb.WarmThroughput }) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `Consortium ${props.provinceCode}: table, logs, queues, secrets`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // A key of its own, not the province key every table function may decrypt with.
    this.webhookKey = new kms.Key(this, 'WebhookSecretsKey', {
      description: `Consortium ${props.provinceCode}: webhook signing secrets (encryption context: webhookId, institutionId)`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts the functions' and the API's log groups with this key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
      }),
    );
    // EventBridge delivers to encrypted dead-letter queues.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: attr(tableKeys.partitionKey),
      sortKey: attr(tableKeys.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      stream: dynamodb.StreamViewType[tableKeys.streamView],
      timeToLiveAttribute: tableKeys.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
      // A large province's busiest hour from its first day (docs/capacity.md); the indexes' own floors suffice.
      warmThroughput: props.warmThroughput,
    });
    for (const index of tableKeys.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attr(index.partitionKey),
        sortKey: attr(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    const secret = (name: string, description: string) =>
      new secretsmanager.Secret(this, name, {
        description,
        encryptionKey: this.key,
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.secrets = {
      piiKey: secret('PiiHashKey', 'Key of the national-ID hash (personId). Never rotate in place: ids derive from it.'),
      voucherKey: secret('VoucherSigningKey', 'HS256 key that signs e-voucher QR codes'),
    };
    Validations.of(this.secrets.piiKey).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-SMG4', reason: 'Every personId is derived from this key; rotating it would orphan all enrolments. Protected by the CMK and least-privilege reads instead' },
      { id: 'HIPAA.Security::HIPAA.Security-SecretsManagerRotationEnabled', reason: 'Every personId is derived from this key; rotating it would orphan all enrolments' },
    );
    Validations.of(this.secrets.voucherKey).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-SMG4', reason: 'Rotated by the operator procedure in README (codes live 60 s, so a rotation only needs a minute of overlap); no Lambda rotator to maintain' },
      { id: 'HIPAA.Security::HIPAA.Security-SecretsManagerRotationEnabled', reason: 'Rotated by the operator procedure in README; codes live 60 s' },
    );

    // Daily backups kept 35 days on top of PITR, in a vault encrypted with the province key.
    const vault = new backup.BackupVault(this, 'Vault', { encryptionKey: this.key, removalPolicy: RemovalPolicy.RETAIN });
    const plan = new backup.BackupPlan(this, 'Backups', { backupVault: vault });
    plan.addRule(backup.BackupPlanRule.daily());
    const selection = plan.addSelection('Table', { resources: [backup.BackupResource.fromDynamoDbTable(this.table)] });
    Validations.of(selection).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      reason: 'The service role AWS Backup documents for taking backups; scoped by the selection to this table',
    });
  }
}
