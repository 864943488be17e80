// The console (工作台): its built files in a private, encrypted, SSL-only bucket behind CloudFront,
// the security headers of infra/console-headers.ts, access logs, console-config.json generated from
// the province config (one build serves every province), and the API on the same origin through
// one CloudFront behaviour per top-level path of the route table: no CORS, no preflight round trip
// at the pharmacy counter, CSP connect-src 'self', exactly as the local runtime serves it.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AssetHashType, CfnOutput, DockerImage, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONSOLE_CONFIG_FILE, consoleConfig, type ConsoleConfig } from '../../schemas/console.ts';
import type { ProvinceConfig } from '../../schemas/province.ts';
import type { RouteDef } from '../../schemas/route.ts';
import { consoleCsp, consoleHeaders, HSTS } from '../console-headers.ts';

const root = join(import.meta.dirname, '../..');
/** What the console bundle is built from (its asset hash): its sources and what it imports from the repo. */
const inputs = ['console', 'schemas', 'events', 'functions/referrals/domain.ts', 'functions/shared', 'package-lock.json'];
/** Top-level paths of the console itself; no API route may use one (checked below and in the tests). */
export const CONSOLE_PATHS = ['/', '/index.html', '/assets', `/${CONSOLE_CONFIG_FILE}`] as const;

export interface ConsoleHostingProps {
  province: ProvinceConfig;
  api: apigw.RestApi;
  routes: readonly RouteDef[];
}

/** The top-level path segments of the API ("/referrals", "/health", …): one CloudFront behaviour each. */
export function apiPathPatterns(routes: readonly RouteDef[]): string[] {
  const firsts = [...new Set(routes.map((r) => `/${r.path.split('/')[1]}`))].sort();
  for (const f of firsts) if ((CONSOLE_PATHS as readonly string[]).includes(f)) throw new Error(`the API path ${f} would shadow the console's`);
  // "/referrals*" covers /referrals and /referrals/…: one behaviour per segment keeps well under CloudFront's 25.
  return firsts.map((f) => `${f}*`);
}

const hashes = new Map<string, string>();
function hashOf(paths: readonly string[]): string {
  const key = paths.join('|');
  if (!hashes.has(key)) hashes.set(key, computeHash(paths));
  return hashes.get(key)!;
}

function computeHash(paths: readonly string[]): string {
  const h = createHash('sha256');
  const walk = (p: string) => {
    const abs = join(root, p);
    if (statSync(abs).isDirectory()) {
      for (const f of readdirSync(abs).sort()) if (f !== 'dist' && f !== 'node_modules') walk(join(p, f));
    } else h.update(relative(root, abs)).update(readFileSync(abs));
  };
  paths.forEach(walk);
  return h.digest('hex');
}

/** console/dist as an asset: built by Vite at synthesis (local bundling; no Docker), hashed by its inputs. */
function consoleAsset(): s3deploy.ISource {
  return s3deploy.Source.asset(join(root, 'console'), {
    assetHash: hashOf(inputs),
    assetHashType: AssetHashType.CUSTOM,
    exclude: ['dist', 'node_modules'],
    bundling: {
      // Never pulled: local bundling below always succeeds or throws.
      image: DockerImage.fromRegistry('node:22-alpine'),
      local: {
        tryBundle(outputDir: string) {
          execFileSync('npx', ['vite', 'build', '--config', 'console/vite.config.ts', '--outDir', outputDir, '--emptyOutDir'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
          return true;
        },
      },
    },
  });
}

export class ConsoleHosting extends Construct {
  readonly bucket: s3.Bucket;
  readonly logs: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly config: ConsoleConfig;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    const p = props.province;
    const china = p.partition === 'aws-cn';
    const issuer = p.console.oidcIssuer ?? p.auth.issuer;

    this.logs = new s3.Bucket(this, 'Logs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      // CloudFront standard logs are delivered with an ACL: the log bucket must accept object-writer ownership.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logs).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-S1', reason: 'This is the log bucket of the console bucket and distribution; logging it into itself would loop' },
      { id: 'HIPAA.Security::HIPAA.Security-S3BucketLoggingEnabled', reason: 'This is the log bucket; logging it into itself would loop' },
      { id: 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled', reason: 'Access logs of static files, kept a year in-region; no cross-region copy needed' },
      { id: 'HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS', reason: 'CloudFront standard logging cannot deliver to a bucket encrypted with SSE-KMS; SSE-S3 encrypts at rest' },
    );

    this.bucket = new s3.Bucket(this, 'Files', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.logs,
      serverAccessLogsPrefix: 's3/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge(
      { id: 'HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled', reason: 'The console\'s static files hold no data and are rebuilt from source on every deploy' },
      { id: 'HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS', reason: 'Public static files of the console (no personal data); SSE-S3 encrypts at rest without a KMS call per file served' },
    );

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: `Console ${p.code}: CSP without inline scripts, HSTS, no framing`,
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleCsp({ connect: [new URL(issuer).origin] }), override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.seconds(Number(/max-age=(\d+)/.exec(HSTS)![1])), includeSubdomains: true, preload: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
      customHeadersBehavior: { customHeaders: [{ header: 'Permissions-Policy', value: consoleHeaders['permissions-policy'], override: true }] },
    });

    // OAC where CloudFront has it; CloudFront in the China regions has been reported without the
    // OriginAccessControl resource type (awslabs/aws-solutions-constructs#1050), so there an origin
    // access identity keeps the bucket private the older way.
    const s3Origin = china ? origins.S3BucketOrigin.withOriginAccessIdentity(this.bucket) : origins.S3BucketOrigin.withOriginAccessControl(this.bucket);

    // The API stage behind the same origin. The stage URL is https://<id>.execute-api.<region>.<suffix>/<stage>/.
    const apiOrigin = new origins.HttpOrigin(Fn.select(2, Fn.split('/', props.api.url)), {
      originPath: `/${props.api.deploymentStage.stageName}`,
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    });
    const apiBehaviour: cloudfront.BehaviorOptions = {
      origin: apiOrigin,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      // Every answer is per caller: never cached; every viewer header but Host (Authorization, Idempotency-Key) forwarded.
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: headers,
    };

    const certificate = p.console.certificate;
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Console ${p.code}`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: s3Origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      additionalBehaviors: Object.fromEntries(apiPathPatterns(props.routes).map((pattern) => [pattern, apiBehaviour])),
      ...(p.console.domainName ? { domainNames: [p.console.domainName] } : {}),
      // TLS 1.2 needs a certificate of our own (the default *.cloudfront.net one is fixed at TLSv1).
      ...(certificate && 'acmCertificateArn' in certificate
        ? { certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', certificate.acmCertificateArn), minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 }
        : {}),
      httpVersion: china ? cloudfront.HttpVersion.HTTP2 : cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: this.logs,
      logFilePrefix: 'cloudfront/',
    });
    if (certificate && 'iamCertificateId' in certificate) {
      // CloudFront in China takes certificates from IAM only; the L2 construct knows ACM only.
      (this.distribution.node.defaultChild as cloudfront.CfnDistribution).addPropertyOverride('DistributionConfig.ViewerCertificate', {
        IamCertificateId: certificate.iamCertificateId,
        SslSupportMethod: 'sni-only',
        MinimumProtocolVersion: 'TLSv1.2_2021',
      });
    }
    const acks = [
      { id: 'AwsSolutions::AwsSolutions-CFR1', reason: 'Staff of the province\'s institutions sign in from wherever they work; access is by login, not by country' },
      { id: 'AwsSolutions::AwsSolutions-CFR2', reason: 'Static files need no WAF; API requests through the distribution pass the regional WAF on the API stage (infra/stack/firewall.ts)' },
    ];
    if (!certificate) {
      acks.push({ id: 'AwsSolutions::AwsSolutions-CFR4', reason: 'Without console.domainName the distribution serves *.cloudfront.net, whose default certificate CloudFront pins to TLSv1; a province with its own domain and certificate gets TLS 1.2 (TLSv1.2_2021)' });
    } else if ('iamCertificateId' in certificate) {
      acks.push({ id: 'AwsSolutions::AwsSolutions-CFR4', reason: 'The IAM server certificate is set by a property override with MinimumProtocolVersion TLSv1.2_2021 (tested), which the rule does not see' });
    }
    if (china) acks.push({ id: 'AwsSolutions::AwsSolutions-CFR7', reason: 'CloudFront in the China regions: origin access identity, as OAC has been reported missing there; the bucket stays private either way' });
    Validations.of(this.distribution).acknowledge(...acks);

    this.config = consoleConfig.parse({
      apiBaseUrl: '',
      oidc: { issuer, clientId: p.console.clientId },
      province: { code: p.code, name: p.console.displayName ?? p.name },
      timeZone: p.timeZone,
      ...(p.console.icpLicense ? { icpLicense: p.console.icpLicense } : {}),
    });

    // Hashed assets never change: cached a year. index.html and the config: revalidated every time.
    const files = consoleAsset();
    const assets = new s3deploy.BucketDeployment(this, 'Assets', {
      destinationBucket: this.bucket,
      sources: [files],
      include: ['assets/*'],
      exclude: ['*'],
      prune: false,
      cacheControl: [s3deploy.CacheControl.fromString('public, max-age=31536000, immutable')],
    });
    const entry = new s3deploy.BucketDeployment(this, 'Entry', {
      destinationBucket: this.bucket,
      sources: [files, s3deploy.Source.jsonData(CONSOLE_CONFIG_FILE, this.config)],
      exclude: ['assets/*'],
      prune: false,
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/index.html', `/${CONSOLE_CONFIG_FILE}`],
    });
    // The entry point names the new assets: upload them first.
    entry.node.addDependency(assets);
    this.acknowledgeDeploymentHandler();

    new CfnOutput(Stack.of(this), 'ConsoleUrl', { value: `https://${p.console.domainName ?? this.distribution.distributionDomainName}/` });
  }

  /** BucketDeployment's handler: one function per stack that CDK owns and runs only while CloudFormation deploys. */
  private acknowledgeDeploymentHandler() {
    const stack = Stack.of(this);
    const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!handler) return;
    const why = 'CDK\'s BucketDeployment handler: runs only during a deploy, copying the console build into its bucket';
    const files = stack.resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId) as string;
    Validations.of(handler).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-L1', reason: `${why}; its runtime is chosen by the CDK version` },
      { id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: `${why}; it writes its own logs` },
      ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((a) => ({ id: `AwsSolutions::AwsSolutions-IAM5[Action::${a}]`, reason: `${why}; the S3 actions CDK grants it on the console bucket and the asset bucket` })),
      { id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', reason: `${why}; CloudFront invalidations have no resource-level permissions` },
      { id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${files}.Arn>/*]`, reason: `${why}; it writes every object of the console bucket` },
      { id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${stack.region}/*]`, reason: `${why}; it reads the build from the CDK asset bucket` },
      { id: 'HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy', reason: `${why}; CDK attaches its grants inline` },
      { id: 'HIPAA.Security::HIPAA.Security-LambdaConcurrency', reason: `${why}; one invocation per deploy` },
      { id: 'HIPAA.Security::HIPAA.Security-LambdaDLQ', reason: `${why}; invoked synchronously by CloudFormation, which reports a failure and rolls back` },
      { id: 'HIPAA.Security::HIPAA.Security-LambdaInsideVPC', reason: `${why}; it touches only S3 and CloudFront, no data of the platform` },
    );
  }
}
