// The environment of every function, built in one place for the CDK stack (values may be tokens)
// and the local runtime (plain strings). Handlers read only these names.
import { functionCatalog, queueUrlEnv, type FunctionName } from '../functions/catalog.ts';
import type { ProvinceRuntime } from '../schemas/province.ts';

export interface EnvInputs {
  tableName: string;
  eventBusName: string;
  province: ProvinceRuntime;
  jwksUrl: string;
  issuer: string;
  audience: string;
  secretIds: { piiKey: string; voucherKey: string };
  /** The webhook secrets key (KMS key ARN in AWS; the local endpoint's key id locally). */
  webhookKeyId: string;
  /** The queue of each queue consumer (kind 'queue'), by the consumer's name. */
  queueUrls: Record<string, string>;
  logLevel?: string;
}

const secretEnv = { piiKey: 'PII_KEY_SECRET_ID', voucherKey: 'VOUCHER_KEY_SECRET_ID' } as const;

export function functionEnvironment(name: FunctionName, i: EnvInputs): Record<string, string> {
  const def = functionCatalog[name] as import('../functions/catalog.ts').FunctionDef;
  const env: Record<string, string> = {
    PROVINCE_CONFIG: JSON.stringify(i.province),
    POWERTOOLS_SERVICE_NAME: `consortium-${name}`,
    POWERTOOLS_LOG_LEVEL: i.logLevel ?? 'INFO',
  };
  if (def.table) env.TABLE_NAME = i.tableName;
  if (def.publishesEvents) env.EVENT_BUS_NAME = i.eventBusName;
  for (const s of def.secrets ?? []) env[secretEnv[s]] = i.secretIds[s];
  if (def.webhookKey) env.WEBHOOK_KEY_ID = i.webhookKeyId;
  for (const consumer of [...(def.sendsTo ?? []), ...(def.kind === 'queue' ? [name] : [])]) {
    const url = i.queueUrls[consumer];
    if (!url) throw new Error(`${name}: no queue for ${consumer}`);
    env[queueUrlEnv(consumer)] = url;
  }
  if (def.kind === 'authorizer') Object.assign(env, { JWKS_URL: i.jwksUrl, JWT_ISSUER: i.issuer, JWT_AUDIENCE: i.audience });
  return env;
}
