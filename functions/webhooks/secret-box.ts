// Signing secrets at rest: encrypted with the province's webhook key in KMS (a key of its own, which
// only the subscription API may encrypt with and only the sender may decrypt with), bound by the
// encryption context to the subscription and its institution, so a ciphertext copied onto another
// subscription's item does not decrypt. The local runtime's AWS endpoint serves the same two calls.
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { requireEnv } from '#shared/env';

// Built on first use: the subscription API encrypts only when a webhook is added.
let client: KMSClient | undefined;
const kms = () => (client ??= new KMSClient({}));
/** The key's id or ARN (WEBHOOK_KEY_ID); never its material. */
const keyId = () => requireEnv('WEBHOOK_KEY_ID');

const context = (owner: { webhookId: string; institutionId: string }) => ({
  purpose: 'webhook-signing-secret',
  webhookId: owner.webhookId,
  institutionId: owner.institutionId,
});

/** base64 of the KMS ciphertext. */
export async function encryptSecret(secret: string, owner: { webhookId: string; institutionId: string }): Promise<string> {
  const res = await kms().send(new EncryptCommand({ KeyId: keyId(), Plaintext: Buffer.from(secret, 'utf8'), EncryptionContext: context(owner) }));
  if (!res.CiphertextBlob) throw new Error('KMS returned no ciphertext');
  return Buffer.from(res.CiphertextBlob).toString('base64');
}

export async function decryptSecret(ciphertext: string, owner: { webhookId: string; institutionId: string }): Promise<string> {
  const res = await kms().send(new DecryptCommand({ KeyId: keyId(), CiphertextBlob: Buffer.from(ciphertext, 'base64'), EncryptionContext: context(owner) }));
  if (!res.Plaintext) throw new Error('KMS returned no plaintext');
  return Buffer.from(res.Plaintext).toString('utf8');
}
