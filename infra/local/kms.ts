// The local KMS: Encrypt and Decrypt with symmetric keys kept in DATA_DIR, as the local AWS endpoint
// serves them to the functions' unchanged KMS client. Like KMS, a ciphertext names its key, and the
// encryption context is authenticated (AES-256-GCM additional data): decrypting under another
// context, or a tampered ciphertext, is InvalidCiphertextException.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class KmsError extends Error {
  constructor(readonly code: 'NotFoundException' | 'InvalidCiphertextException' | 'IncorrectKeyException' | 'ValidationException', message: string) {
    super(message);
  }
}

const VERSION = 1;
/** KMS's order-independent view of a context: the same pairs in any order are the same context. */
const contextBytes = (context: Record<string, string> | undefined) =>
  Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), 'utf8');

export class LocalKms {
  /** keys: key id (as functions name it, e.g. an ARN) → 32 bytes of key material. */
  constructor(private readonly keys: Record<string, Buffer>) {}

  encrypt(input: { KeyId?: string; Plaintext?: string; EncryptionContext?: Record<string, string> }) {
    const key = input.KeyId ? this.keys[input.KeyId] : undefined;
    if (!key) throw new KmsError('NotFoundException', `Key '${input.KeyId}' does not exist`);
    const plaintext = Buffer.from(input.Plaintext ?? '', 'base64');
    if (!plaintext.length || plaintext.length > 4096) throw new KmsError('ValidationException', 'Plaintext must be 1..4096 bytes');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(contextBytes(input.EncryptionContext));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(input.KeyId!, 'utf8');
    const blob = Buffer.concat([Buffer.from([VERSION, id.length]), id, iv, cipher.getAuthTag(), sealed]);
    return { CiphertextBlob: blob.toString('base64'), KeyId: input.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  }

  decrypt(input: { KeyId?: string; CiphertextBlob?: string; EncryptionContext?: Record<string, string> }) {
    const blob = Buffer.from(input.CiphertextBlob ?? '', 'base64');
    const invalid = () => new KmsError('InvalidCiphertextException', 'The ciphertext is invalid, or was encrypted under another key or encryption context');
    if (blob.length < 2 || blob[0] !== VERSION) throw invalid();
    const idLength = blob[1]!;
    const keyId = blob.subarray(2, 2 + idLength).toString('utf8');
    if (input.KeyId && input.KeyId !== keyId) throw new KmsError('IncorrectKeyException', 'The ciphertext was encrypted under another key');
    const key = this.keys[keyId];
    if (!key) throw invalid();
    const at = 2 + idLength;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(at, at + 12));
      decipher.setAAD(contextBytes(input.EncryptionContext));
      decipher.setAuthTag(blob.subarray(at + 12, at + 28));
      const plaintext = Buffer.concat([decipher.update(blob.subarray(at + 28)), decipher.final()]);
      return { Plaintext: plaintext.toString('base64'), KeyId: keyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    } catch {
      throw invalid();
    }
  }
}
