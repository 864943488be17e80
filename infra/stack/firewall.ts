// WAF web ACL in front of the API stage (WAF is regional in both partitions, aws and aws-cn):
// AWS managed rule groups, a per-IP rate limit, and logs with the Authorization header redacted.
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface FirewallProps {
  stage: apigw.Stage;
  key: kms.IKey;
  provinceCode: string;
  /** Requests one IP may make in 5 minutes (pharmacies behind one NAT share an address). */
  ratePer5Minutes: number;
}

export class Firewall extends Construct {
  readonly acl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: FirewallProps) {
    super(scope, id);
    const metric = (name: string) => ({ cloudWatchMetricsEnabled: true, metricName: `consortium-${props.provinceCode}-${name}`, sampledRequestsEnabled: false });
    const managed = (name: string, priority: number, countOnly: string[] = []) => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ruleActionOverrides: countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } })),
        },
      },
      visibilityConfig: metric(name),
    });
    this.acl = new wafv2.CfnWebACL(this, 'Acl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: `Consortium ${props.provinceCode} API`,
      // Sampled requests would keep request headers (bearer tokens) for hours: off.
      visibilityConfig: metric('acl'),
      rules: [
        // Enrolment batches (up to 500 people) exceed the group's 8 KB body limit; body size is
        // limited per route by the functions instead (413 payload-too-large).
        managed('AWSManagedRulesCommonRuleSet', 1, ['SizeRestrictions_BODY']),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
        managed('AWSManagedRulesAmazonIpReputationList', 3),
        {
          name: 'per-ip-rate',
          priority: 4,
          action: { block: {} },
          statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: props.ratePer5Minutes } },
          visibilityConfig: metric('per-ip-rate'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', { resourceArn: props.stage.stageArn, webAclArn: this.acl.attrArn });

    // WAF requires the log group name to start with aws-waf-logs-.
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `aws-waf-logs-consortium-${props.provinceCode}-${Stack.of(this).region}`,
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.acl.attrArn,
      logDestinationConfigs: [logGroup.logGroupArn],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
    });
  }
}
