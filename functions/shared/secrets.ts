// Secrets come from Secrets Manager (the local runtime serves the same API). Only the secret's id
// is in the environment, never its value. The current value is cached for five minutes, so a
// rotation reaches warm containers without a deploy; a given version is immutable and cached for
// good (verifiers look up the version a signature names).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { requireEnv } from './env.ts';

const client = new SecretsManagerClient({});
const CURRENT_TTL_MS = 5 * 60_000;

export interface SecretValue {
  value: string;
  versionId: string;
}

const current = new Map<string, { at: number; value: Promise<SecretValue> }>();
const versions = new Map<string, Promise<SecretValue>>();

function fetchSecret(id: string, versionId?: string): Promise<SecretValue> {
  return client.send(new GetSecretValueCommand({ SecretId: id, VersionId: versionId })).then((r) => {
    if (!r.SecretString || !r.VersionId) throw new Error(`secret ${id} has no string value`);
    return { value: r.SecretString, versionId: r.VersionId };
  });
}

/** The AWSCURRENT value of the secret whose id or ARN is in `envName`. */
export function currentSecret(envName: string): Promise<SecretValue> {
  const id = requireEnv(envName);
  const hit = current.get(id);
  if (hit && Date.now() - hit.at < CURRENT_TTL_MS) return hit.value;
  const value = fetchSecret(id);
  value.catch(() => current.delete(id)); // a failed fetch must not stay cached
  current.set(id, { at: Date.now(), value });
  return value;
}

/** One version of the secret (e.g. the one that signed a code during a rotation). */
export function secretVersion(envName: string, versionId: string): Promise<SecretValue> {
  const id = requireEnv(envName);
  const cacheKey = `${id}|${versionId}`;
  let value = versions.get(cacheKey);
  if (!value) {
    value = fetchSecret(id, versionId);
    value.catch(() => versions.delete(cacheKey));
    versions.set(cacheKey, value);
  }
  return value;
}

export const secretFrom = async (envName: string) => (await currentSecret(envName)).value;
