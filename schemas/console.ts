// The console's runtime configuration: one JSON file deployed next to the built console
// (console-config.json), so one build serves every province. The CDK stack writes it, the local
// runtime serves it, the console parses it with this schema at start.
import * as z from 'zod';

export const consoleConfig = z
  .object({
    /** Where the API is, '' for the console's own origin (CloudFront behaviours, the local runtime). */
    apiBaseUrl: z.string(),
    oidc: z.object({ issuer: z.url(), clientId: z.string().min(1), scope: z.string().default('openid profile') }),
    province: z.object({ code: z.string(), name: z.string() }),
    timeZone: z.string().default('Asia/Shanghai'),
    /** ICP licence number shown at the foot of each page (a site on a domain in mainland China must). */
    icpLicense: z.string().optional(),
  })
  .strict();
export type ConsoleConfig = z.input<typeof consoleConfig>;

export const CONSOLE_CONFIG_FILE = 'console-config.json';
