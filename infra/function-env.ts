// The environment of every function, built in one place for the CDK stack (values may be tokens)
// and the local runtime (plain strings). Handlers read only these names.
import { functionCatalog, type FunctionName } from '../functions/catalog.ts';
import type { ProvinceRuntime } from '../schemas/province.ts';

export interface EnvInputs {
  tableName: string;
  eventBusName: string;
  province: ProvinceRuntime;
  jwksUrl: string;
  issuer: string;
  audience: string;
  secretIds: { piiKey: string; voucherKey: string };
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
  if (def.kind === 'authorizer') Object.assign(env, { JWKS_URL: i.jwksUrl, JWT_ISSUER: i.issuer, JWT_AUDIENCE: i.audience });
  return env;
}
