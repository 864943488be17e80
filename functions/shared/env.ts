// Configuration comes from environment variables only; the CDK stack and the local runtime set the
// same names (infra/function-env.ts).
import { provinceRuntime, type ProvinceRuntime } from '#schemas/province';

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

let table: string | undefined;
/** The province table's name. Here, not in db.ts: a function that needs only the name (the outbox relay) bundles no DynamoDB client. */
export const tableName = () => (table ??= requireEnv('TABLE_NAME'));

let province: ProvinceRuntime | undefined;
/** The province this stack serves, parsed once per container. */
export function provinceConfig(): ProvinceRuntime {
  province ??= provinceRuntime.parse(JSON.parse(requireEnv('PROVINCE_CONFIG')));
  return province;
}
