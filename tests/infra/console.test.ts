// CDK assertions on the console's hosting in both partitions: a private SSL-only bucket behind
// CloudFront (OAC in aws, OAI in aws-cn), the security headers, access logs, the generated
// console-config.json, the API on the same origin, and in aws-cn the ICP domain with an IAM certificate.
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/bin/app.ts';
import { loadProvinces } from '../../infra/provinces/load.ts';
import { apiPathPatterns, CONSOLE_PATHS } from '../../infra/stack/console.ts';
import type { ProvinceStack } from '../../infra/stack/province-stack.ts';
import { routes } from '../../schemas/routes.ts';
import type { RouteDef } from '../../schemas/route.ts';

// ZJ and NX deploy to aws-cn; the aws partition is the test fixture HK (never deployed).
const provinces = [...loadProvinces(), ...loadProvinces(join(import.meta.dirname, '../fixtures/provinces'))];
const synth = (code: string) => {
  const app = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), provinces.filter((p) => p.code === code));
  const stack = app.node.findChild(`Consortium-${code}`) as ProvinceStack;
  return { stack, template: Template.fromStack(stack) };
};
const distributionConfig = (t: Template) => Object.values(t.findResources('AWS::CloudFront::Distribution'))[0]!.Properties.DistributionConfig;

describe('console hosting', () => {
  describe('in aws (the HK fixture)', () => {
    let t: Template;
    let stack: ProvinceStack;
    beforeAll(() => ({ stack, template: t } = synth('HK')));

    it('keeps the files in a private, encrypted, versioned, SSL-only bucket that logs its access', () => {
      t.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 's3/' }),
      });
      const policy = Object.values(t.findResources('AWS::S3::BucketPolicy')).find((p) => String(p.Properties.Bucket.Ref).startsWith('ConsoleFiles'))!;
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toMatch(/"aws:SecureTransport":"false"/);
      // Readable by this distribution only, through origin access control.
      const read = policy.Properties.PolicyDocument.Statement.find((st: { Effect: string }) => st.Effect === 'Allow');
      expect(read).toMatchObject({ Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' }, Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } } });
      t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
      const s3Origin = distributionConfig(t).Origins.find((o: { S3OriginConfig?: unknown }) => o.S3OriginConfig);
      expect(s3Origin.OriginAccessControlId).toBeDefined();
    });

    it('sends a CSP without unsafe-inline scripts, HSTS, no framing, and logs every request', () => {
      const policy = Object.values(t.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0]!.Properties.ResponseHeadersPolicyConfig;
      const csp: string = policy.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy;
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      // The identity provider's origin is the only other place the console talks to.
      expect(csp).toContain(`connect-src 'self' ${new URL(provinces.find((p) => p.code === 'HK')!.auth.issuer).origin}`);
      expect(policy.SecurityHeadersConfig).toMatchObject({
        StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Preload: true, Override: true },
        FrameOptions: { FrameOption: 'DENY', Override: true },
        ContentTypeOptions: { Override: true },
      });
      const config = distributionConfig(t);
      expect(config.Logging).toMatchObject({ Prefix: 'cloudfront/' });
      expect(config.DefaultCacheBehavior).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https' });
      expect(config.DefaultRootObject).toBe('index.html');
    });

    it('puts every API path on the same origin, uncached, with the Authorization header forwarded', () => {
      const config = distributionConfig(t);
      const patterns = config.CacheBehaviors.map((b: { PathPattern: string }) => b.PathPattern).sort();
      expect(patterns).toEqual(apiPathPatterns(routes));
      for (const r of routes) expect(patterns.some((p: string) => r.path === p.slice(0, -1) || r.path.startsWith(p.slice(0, -1) + '/')), r.path).toBe(true);
      for (const b of config.CacheBehaviors) {
        // The managed CachingDisabled and AllViewerExceptHostHeader policies.
        expect(b).toMatchObject({ CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', ViewerProtocolPolicy: 'https-only' });
        expect(b.AllowedMethods).toContain('POST');
      }
      const api = config.Origins.find((o: { CustomOriginConfig?: unknown }) => o.CustomOriginConfig);
      expect(api).toMatchObject({ CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] } });
      // The API's own stage, at its execute-api host.
      expect(JSON.stringify(api.OriginPath)).toMatch(/"\/",\{"Ref":"ApiDeploymentStage/);
      expect(JSON.stringify(api.DomainName)).toContain('.execute-api.');
    });

    it('deploys console-config.json generated from the province config, invalidating the entry files', () => {
      const hk = provinces.find((p) => p.code === 'HK')!;
      expect(stack.console.config).toEqual({
        apiBaseUrl: '',
        oidc: { issuer: hk.auth.issuer, clientId: 'consortium-console', scope: 'openid profile' },
        province: { code: 'HK', name: hk.console?.displayName ?? hk.name },
        timeZone: hk.timeZone,
      });
      t.hasResourceProperties('Custom::CDKBucketDeployment', { DistributionPaths: ['/index.html', '/console-config.json'], Prune: false });
      t.hasOutput('ConsoleUrl', {});
    });
  });

  describe('in aws-cn (NX)', () => {
    let t: Template;
    let stack: ProvinceStack;
    beforeAll(() => ({ stack, template: t } = synth('NX')));

    it('serves the ICP-licensed domain with the IAM server certificate, TLS 1.2', () => {
      const nx = provinces.find((p) => p.code === 'NX')!;
      const config = distributionConfig(t);
      expect(config.Aliases).toEqual([nx.console.domainName]);
      expect(config.ViewerCertificate).toEqual({ IamCertificateId: 'ASCAEXAMPLECONSOLENX1', SslSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' });
      expect(stack.console.config.icpLicense).toBe(nx.console.icpLicense);
      expect(stack.console.config.province.name).toBe('宁夏回族自治区');
    });

    it('keeps the bucket private through an origin access identity', () => {
      t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 0);
      t.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 1);
      const s3Origin = distributionConfig(t).Origins.find((o: { S3OriginConfig?: unknown }) => o.S3OriginConfig);
      expect(JSON.stringify(s3Origin.S3OriginConfig.OriginAccessIdentity)).toContain('origin-access-identity/cloudfront/');
    });
  });

  it('in aws with a domain of its own: the ACM certificate and TLS 1.2', () => {
    const hk = provinces.find((p) => p.code === 'HK')!;
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0f7c1a2b-3c4d-5e6f-7a8b-9c0d1e2f3a4b';
    const withDomain = { ...hk, console: { ...hk.console, domainName: 'console.hk.example.com', certificate: { acmCertificateArn: arn } } };
    const app = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), [withDomain]);
    const config = distributionConfig(Template.fromStack(app.node.findChild('Consortium-HK') as ProvinceStack));
    expect(config.Aliases).toEqual(['console.hk.example.com']);
    expect(config.ViewerCertificate).toMatchObject({ AcmCertificateArn: arn, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
  });

  it('no API path can shadow the console: a route under one of its paths is refused', () => {
    expect(() => apiPathPatterns([...routes, { ...routes[0]!, path: '/assets/x' } as RouteDef])).toThrow(/would shadow/);
    expect(CONSOLE_PATHS).toContain('/console-config.json');
  });
});
