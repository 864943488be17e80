// Secrets come from Secrets Manager (the local runtime serves the same API). Only the secret's id
// is in the environment, never its value. The current value is cached for five minutes, so a
// rotation reaches warm containers without a deploy; a given version is immutable and cached for
// good (verifiers look up the version a signature names).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { cached } from './cache.ts';
import { requireEnv } from './env.ts';

// Built on first use: most requests of a function that may read a secret do not read one.
let client: SecretsManagerClient | undefined;
const secretsManager = () => (client ??= new SecretsManagerClient({}));
const CURRENT_TTL_MS = 5 * 60_000;

export interface SecretValue {
  value: string;
  versionId: string;
}

function fetchSecret(id: string, versionId?: string): Promise<SecretValue> {
  return secretsManager().send(new GetSecretValueCommand({ SecretId: id, VersionId: versionId })).then((r) => {
    if (!r.SecretString || !r.VersionId) throw new Error(`secret ${id} has no string value`);
    return { value: r.SecretString, versionId: r.VersionId };
  });
}

const current = cached(CURRENT_TTL_MS, (id: string) => fetchSecret(id));
const versions = cached(Number.POSITIVE_INFINITY, (idAndVersion: `${string}|${string}`) => {
  const [id, versionId] = idAndVersion.split('|') as [string, string];
  return fetchSecret(id, versionId);
});

/** The AWSCURRENT value of the secret whose id or ARN is in `envName`. */
export const currentSecret = (envName: string): Promise<SecretValue> => current(requireEnv(envName));

/** One version of the secret (e.g. the one that signed a code during a rotation). */
export const secretVersion = (envName: string, versionId: string): Promise<SecretValue> => versions(`${requireEnv(envName)}|${versionId}`);

export const secretFrom = async (envName: string) => (await currentSecret(envName)).value;
