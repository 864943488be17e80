// Secrets come from Secrets Manager (the local runtime serves the same API), fetched once per
// container. Only the secret's id is in the environment, never its value.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { requireEnv } from './env.ts';

const client = new SecretsManagerClient({});
const cache = new Map<string, Promise<string>>();

/** `envName` holds the secret's id or ARN. */
export function secretFrom(envName: string): Promise<string> {
  const id = requireEnv(envName);
  let value = cache.get(id);
  if (!value) {
    value = client.send(new GetSecretValueCommand({ SecretId: id })).then((r) => {
      if (!r.SecretString) throw new Error(`secret ${envName} has no string value`);
      return r.SecretString;
    });
    // A failed fetch must not stay cached.
    value.catch(() => cache.delete(id));
    cache.set(id, value);
  }
  return value;
}
