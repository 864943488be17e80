// Province configuration. infra/provinces/*.json are parsed with `provinceConfig` at synth time; the
// part functions need at run time (`provinceRuntime`) reaches them as the PROVINCE_CONFIG variable.
import * as z from 'zod';
import { fen, settlementFen } from './common.ts';

const ratio = z.number().min(0).max(1);

/**
 * The 31 provincial-level divisions of mainland China (ISO 3166-2:CN codes). Their personal
 * information stays in the mainland (PIPL Art. 38–40): only the aws-cn partition's regions.
 */
export const mainlandProvinceCodes = [
  'AH', 'BJ', 'CQ', 'FJ', 'GD', 'GS', 'GX', 'GZ', 'HA', 'HB', 'HE', 'HI', 'HL', 'HN', 'JL', 'JS',
  'JX', 'LN', 'NM', 'NX', 'QH', 'SC', 'SD', 'SH', 'SN', 'SX', 'TJ', 'XJ', 'XZ', 'YN', 'ZJ',
] as const;
/** Hong Kong, Macao and Taiwan: not mainland, with their own data-protection law. */
export const otherProvinceCodes = ['HK', 'MO', 'TW'] as const;
export const mainlandRegions = ['cn-north-1', 'cn-northwest-1'] as const;

export const reimbursementPolicy = z
  .object({
    /** Share of category-B spend the person always pays (self-pay first), in percent. */
    categoryBSelfPayPercent: z.number().int().min(0).max(100),
    /** Eligible spend per calendar year before the pooled fund pays anything. */
    annualDeductibleFen: fen,
    /** Most the pooled fund pays for one person per calendar year. */
    annualCapFen: fen,
    /** Pooled-fund ratio by institution level, for people referred there (accepted/completed upward referral). */
    referredRatio: z.object({ primary: ratio, secondary: ratio, tertiary: ratio }).strict(),
    /** Pooled-fund ratio by institution level, without such a referral (hospitals), and for pharmacies. */
    ratio: z.object({ primary: ratio, secondary: ratio, tertiary: ratio, pharmacy: ratio }).strict(),
    /** The most one settlement may total (a counter's purchase, not a year's care); larger → 400. */
    maxSettlementFen: settlementFen,
    /**
     * Drug trace codes (药品追溯码) required for the insurance to pay: a pack sold without one is paid
     * in cash only (national rule since July 2025).
     */
    traceCodesRequired: z.boolean().default(true),
  })
  .strict();
export type ReimbursementPolicy = z.infer<typeof reimbursementPolicy>;

/**
 * Waits before each retry of a webhook delivery after a failed attempt (seconds): the Standard
 * Webhooks schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), eight attempts over 27.6 hours.
 */
export const STANDARD_WEBHOOK_RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 36000];
/** A retry waits by hiding its SQS message, at most 12 h after each receive: 11 h leaves room. */
const MAX_WEBHOOK_RETRY_DELAY = 11 * 3600;
/** API.md: retried with backoff for at least 24 h in AWS before it is dead-lettered. */
export const MIN_WEBHOOK_RETRY_WINDOW = 24 * 3600;

/** Outbound webhooks (functions/webhooks): which hosts, how long an attempt waits, the retries. */
export const webhookSettings = z
  .object({
    /**
     * Hosts (as the URL writes them) that may be called over http and whose addresses are not
     * checked against the private ranges: none in AWS; the local runtime allows 127.0.0.1.
     */
    allowedHosts: z.array(z.string().min(1).max(253)).max(20).default([]),
    /** The longest one attempt may take: connecting, sending and the answer's head. */
    timeoutSeconds: z.number().int().min(1).max(5).default(5),
    /** Wait before each retry; attempts = length + 1, then the delivery is dead-lettered. */
    retryDelaysSeconds: z.array(z.number().int().min(0).max(MAX_WEBHOOK_RETRY_DELAY)).min(1).max(12).default(STANDARD_WEBHOOK_RETRY_DELAYS),
  })
  .strict();
export type WebhookSettings = z.infer<typeof webhookSettings>;

/** Attempts in all before a delivery is dead-lettered (the delivery queue's maxReceiveCount). */
export const webhookAttempts = (s: WebhookSettings) => s.retryDelaysSeconds.length + 1;

const slaFigure = z.number().positive().max(24 * 14);
/**
 * Hours a hospital has to triage a referral (a department to answer an advice request) before the
 * platform re-routes it: one figure for every urgency, or one each, since an emergency cannot wait
 * the day a routine visit may. Always an object once parsed.
 */
const referralSlaHours = z
  .union([slaFigure, z.object({ routine: slaFigure, urgent: slaFigure, emergency: slaFigure }).strict()])
  .transform((h) => (typeof h === 'number' ? { routine: h, urgent: h, emergency: h } : h))
  .refine((h) => h.emergency <= h.urgent && h.urgent <= h.routine, 'a more urgent referral cannot have longer: emergency <= urgent <= routine');

/** The window of the identityChecks limits. */
export const IDENTITY_CHECK_WINDOW_SECONDS = 15 * 60;

export const provinceRuntime = z
  .object({
    code: z.string().regex(/^[A-Z]{2,8}$/, 'upper-case letters, 2..8'),
    name: z.string().min(1),
    timeZone: z.string().default('Asia/Shanghai'),
    policy: reimbursementPolicy,
    referralSlaHours,
    prescriptionValidityHours: z.number().positive().max(24 * 30).default(72),
    /** A long prescription (长期处方) is dispensed in portions over its course: valid this long. */
    longPrescriptionValidityHours: z.number().positive().max(24 * 84).default(24 * 28),
    voucherCodeTtlSeconds: z.number().int().min(10).max(600).default(60),
    /** Oldest access token (by its iat) the authorizer accepts, whatever its exp says. */
    tokenMaxAgeHours: z.number().int().min(1).max(24).default(12),
    /**
     * Identity checks that failed (activation, naming a relative: a national ID with the wrong name,
     * or an unknown one) in 15 minutes, per channel app and per national ID within an app (the
     * person's own attempts apart): then 429. An app serves many people, so its limit is the larger;
     * one person's ID is guessed only a few times, and others' guesses never lock the person out.
     */
    identityChecks: z
      .object({
        failuresPerAppPer15Minutes: z.number().int().min(1).max(1_000_000).default(100),
        failuresPerIdPer15Minutes: z.number().int().min(1).max(100).default(5),
        /**
         * National IDs looked up (POST /people/lookup) that are nobody enrolled, per staff member and
         * per institution: the lookup answers a name for an ID, so it is not to be walked through. Per
         * member first, so that one careless or hostile account does not lock out a hospital's desks
         * (a patient insured in another province is a miss too).
         */
        lookupMissesPerUserPer15Minutes: z.number().int().min(1).max(10_000).default(30),
        lookupMissesPerInstitutionPer15Minutes: z.number().int().min(1).max(100_000).default(300),
      })
      .strict()
      .prefault({}),
    /**
     * Against message flooding by a sender: each referral texts the patient and alerts the hospital,
     * and a cancel texts again. Counted when made, per institution and per person from it.
     */
    referring: z
      .object({
        perSenderPerMinute: z.number().int().min(1).max(100_000).default(300),
        perPersonPerSenderPerDay: z.number().int().min(1).max(1_000).default(10),
      })
      .strict()
      .prefault({}),
    /** Against stock hoarding and message flooding by a prescriber (issue per minute, per person per day, alerts). */
    prescribing: z
      .object({
        perPrescriberPerMinute: z.number().int().min(1).max(100_000).default(300),
        perPersonPerPrescriberPerDay: z.number().int().min(1).max(1_000).default(10),
        /** An operator alert when one prescriber holds at least this share of a district's stock of a drug… */
        hoardingShare: ratio.default(0.5),
        /** …and at least this many units of it. */
        hoardingMinUnits: z.number().int().min(1).max(1_000_000).default(20),
      })
      .strict()
      .prefault({}),
    webhooks: webhookSettings.prefault({}),
  })
  .strict();
export type ProvinceRuntime = z.infer<typeof provinceRuntime>;

/**
 * The console (工作台) the stack deploys: S3 + CloudFront, logging in at the province identity
 * provider. In aws-cn, CloudFront serves only a domain with an ICP licence (ICP备案), over a
 * certificate the operator uploads to IAM (ACM certificates are not available to CloudFront there).
 */
export const consoleSettings = z
  .object({
    /** Shown in the console's header, e.g. 浙江省. */
    displayName: z.string().min(1).optional(),
    /** The console's client id at the identity provider (a public client using PKCE). */
    clientId: z.string().min(1).default('consortium-console'),
    /** Where the console logs in (OIDC issuer); default auth.issuer. */
    oidcIssuer: z.url({ protocol: /^https$/ }).optional(),
    /** The console's own host name, an alias of the CloudFront distribution (DNS is the operator's). */
    domainName: z.string().regex(/^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a lower-case host name such as console.zj.example.cn').optional(),
    /** aws: an ACM certificate in us-east-1 for domainName. aws-cn: the id of an IAM server certificate uploaded with path /cloudfront/. */
    certificate: z
      .union([
        z.object({ acmCertificateArn: z.string().regex(/^arn:aws:acm:us-east-1:\d{12}:certificate\/[\w-]+$/, 'an ACM certificate ARN in us-east-1 (CloudFront reads certificates from there)') }).strict(),
        z.object({ iamCertificateId: z.string().regex(/^[A-Z0-9]{16,128}$/, 'the ServerCertificateId of an IAM server certificate (aws iam list-server-certificates)') }).strict(),
      ])
      .optional(),
    /** ICP licence number (ICP备案号), shown at the foot of every console page as Chinese law requires. */
    icpLicense: z.string().min(1).optional(),
  })
  .strict();

export const provinceConfig = provinceRuntime
  .extend({
    partition: z.enum(['aws', 'aws-cn']),
    account: z.string().regex(/^\d{12}$/, '12-digit AWS account id').optional(),
    region: z.string().regex(/^(cn|us|eu|ap|sa|ca|me|af|il)-[a-z]+-\d$/, 'an AWS region such as cn-northwest-1'),
    auth: z
      .object({
        jwksUrl: z.url({ protocol: /^https$/ }),
        issuer: z.string().min(1),
        audience: z.string().min(1),
      })
      .strict(),
    /** Where alarms are sent (an SNS email subscription); optional. */
    alarmEmail: z.email().optional(),
    api: z
      .object({
        /** Stage-wide steady requests per second; bursts to twice that. */
        rateLimit: z.number().int().min(1).max(10_000).default(200),
        /** WAF: requests one IP may make in 5 minutes. */
        wafRatePer5Minutes: z.number().int().min(100).max(2_000_000_000).default(10_000),
      })
      .strict()
      .prefault({}),
    console: consoleSettings.prefault({}),
    /** What a province of Shandong's size sets from docs/capacity.md; a small one leaves it out. */
    capacity: z
      .object({
        /**
         * What the table serves from its first minute (DynamoDB warm throughput), units per second. A new
         * on-demand table serves 4,000 writes and 12,000 reads at once and doubles its previous peak within
         * 30 minutes; these are the floors. Raised once, billed once, never lowered.
         */
        warmThroughput: z
          .object({
            readUnitsPerSecond: z.number().int().min(12_000).max(40_000),
            writeUnitsPerSecond: z.number().int().min(4_000).max(40_000),
          })
          .strict()
          .optional(),
        /** Reserved concurrency by function name (functions/catalog.ts), instead of the catalog's own. */
        reservedConcurrency: z.record(z.string(), z.number().int().min(1).max(1_000)).optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    // A code outside the list could slip a mainland province past the residency rule.
    if (![...mainlandProvinceCodes, ...otherProvinceCodes].includes(c.code as never)) {
      ctx.addIssue({ code: 'custom', path: ['code'], message: `${c.code} is not an ISO 3166-2:CN province code (${mainlandProvinceCodes.join(', ')}; ${otherProvinceCodes.join(', ')})` });
    }
    if (mainlandProvinceCodes.includes(c.code as never) && c.partition !== 'aws-cn') {
      ctx.addIssue({ code: 'custom', path: ['partition'], message: `${c.code} is a mainland province: its data stays in the aws-cn partition (PIPL cross-border rules)` });
    }
    if (c.partition === 'aws-cn' && !mainlandRegions.includes(c.region as never)) {
      ctx.addIssue({ code: 'custom', path: ['region'], message: `region ${c.region} is not in partition aws-cn (${mainlandRegions.join(' or ')})` });
    }
    if (c.partition === 'aws' && c.region.startsWith('cn-')) {
      ctx.addIssue({ code: 'custom', path: ['region'], message: `region ${c.region} is not in partition aws` });
    }
    const retryWindow = c.webhooks.retryDelaysSeconds.reduce((a, b) => a + b, 0);
    if (retryWindow < MIN_WEBHOOK_RETRY_WINDOW) {
      ctx.addIssue({ code: 'custom', path: ['webhooks', 'retryDelaysSeconds'], message: `retries span ${retryWindow} s: a deployed province retries webhook deliveries for at least 24 h (${MIN_WEBHOOK_RETRY_WINDOW} s)` });
    }
    const con = c.console;
    const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: ['console', field], message });
    if (c.partition === 'aws-cn') {
      // CloudFront in China has no default *.cloudfront.cn domain for viewers: it serves ICP-licensed domains only.
      if (!con.domainName) issue('domainName', 'required in aws-cn: CloudFront in China serves only an ICP-licensed domain (ICP备案)');
      if (!con.icpLicense) issue('icpLicense', 'required in aws-cn: the ICP licence number of console.domainName');
      if (!con.certificate || !('iamCertificateId' in con.certificate)) {
        issue('certificate', 'required in aws-cn: {"iamCertificateId": ...} of a certificate for console.domainName uploaded to IAM with --path /cloudfront/ (CloudFront in China cannot use ACM)');
      }
    } else {
      if (con.certificate && !('acmCertificateArn' in con.certificate)) issue('certificate', 'in aws, an ACM certificate: {"acmCertificateArn": "arn:aws:acm:us-east-1:…"}');
      if (!!con.domainName !== !!con.certificate) issue(con.domainName ? 'certificate' : 'domainName', 'console.domainName and console.certificate go together');
    }
  });
export type ProvinceConfig = z.infer<typeof provinceConfig>;

export function runtimePart(c: ProvinceConfig): ProvinceRuntime {
  const { code, name, timeZone, policy, referralSlaHours, prescriptionValidityHours, longPrescriptionValidityHours, voucherCodeTtlSeconds, tokenMaxAgeHours, identityChecks, referring, prescribing, webhooks } = c;
  return { code, name, timeZone, policy, referralSlaHours, prescriptionValidityHours, longPrescriptionValidityHours, voucherCodeTtlSeconds, tokenMaxAgeHours, identityChecks, referring, prescribing, webhooks };
}
