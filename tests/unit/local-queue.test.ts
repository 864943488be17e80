// The local SQS queue and event source mapping behave as SQS and Lambda do where the webhook sender
// relies on it: batches, partial batch failures, a visibility the consumer sets, redrive to the
// dead-letter file after maxReceiveCount, a thrown error failing the whole batch, messages kept
// across a restart; and the local KMS authenticates the encryption context.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { KmsError, LocalKms } from '../../infra/local/kms.ts';
import { LocalQueue, md5, QueueError } from '../../infra/local/queue.ts';

function queueIn(dir = mkdtempSync(join(tmpdir(), 'queue-test-')), maxReceiveCount = 3) {
  const q = new LocalQueue({ name: 'q', visibilityTimeoutSeconds: 30, maxReceiveCount, journalPath: join(dir, 'q.jsonl'), deadLetterPath: join(dir, 'dlq.jsonl') });
  const deadLetters = () => (existsSync(join(dir, 'dlq.jsonl')) ? readFileSync(join(dir, 'dlq.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  return { q, dir, deadLetters };
}
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('local queue', () => {
  it('answers sends with the body\'s MD5 (the SDK checks it)', () => {
    const { q } = queueIn();
    expect(q.send('hello').MD5OfMessageBody).toBe(md5('hello'));
  });

  it('hands out batches; deletes what the consumer did not report failed; a failure comes back when its visibility ends', async () => {
    const { q } = queueIn();
    for (const b of ['a', 'b', 'c']) q.send(b);
    const seen: Array<{ body: string; count: string }> = [];
    q.startConsumer(async (event: SQSEvent) => {
      for (const r of event.Records) seen.push({ body: r.body, count: r.attributes.ApproximateReceiveCount });
      const b = event.Records.find((r) => r.body === 'b' && r.attributes.ApproximateReceiveCount === '1');
      if (b) q.changeVisibility(b.receiptHandle, 1); // retry in a second, as the sender does
      return { batchItemFailures: b ? [{ itemIdentifier: b.messageId }] : [] };
    }, { batchSize: 10, maxConcurrency: 2, region: 'local', pollMs: 10 });
    await until(() => q.depth === 0);
    await q.stop();
    expect(seen).toEqual([{ body: 'a', count: '1' }, { body: 'b', count: '1' }, { body: 'c', count: '1' }, { body: 'b', count: '2' }]);
    expect(q.delivered).toBe(3);
  });

  it('moves a message received maxReceiveCount times to the dead-letter file on the next receive', async () => {
    const { q, deadLetters } = queueIn(undefined, 3);
    q.send('poison');
    let calls = 0;
    q.startConsumer(async (event) => {
      calls++;
      q.changeVisibility(event.Records[0]!.receiptHandle, 0);
      return { batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] };
    }, { batchSize: 1, maxConcurrency: 1, region: 'local', pollMs: 10 });
    await until(() => q.deadLettered === 1);
    await q.stop();
    expect(calls).toBe(3);
    expect(deadLetters()).toEqual([expect.objectContaining({ queue: 'q', receiveCount: 3, body: 'poison' })]);
  });

  it('a thrown error leaves the whole batch in flight until the visibility timeout', async () => {
    const { q } = queueIn();
    q.send('x');
    q.send('y');
    let calls = 0;
    q.startConsumer(async () => {
      calls++;
      throw new Error('down');
    }, { batchSize: 10, maxConcurrency: 1, region: 'local', pollMs: 10 });
    await new Promise((r) => setTimeout(r, 200));
    await q.stop();
    expect(calls).toBe(1);
    expect(q.depth).toBe(2);
  });

  it('refuses a visibility change with a receipt it did not give', () => {
    const { q } = queueIn();
    expect(() => q.changeVisibility('nope', 5)).toThrow(QueueError);
  });

  it('keeps its messages across a restart', async () => {
    const { q, dir } = queueIn();
    q.send('kept');
    await q.stop();
    const again = queueIn(dir).q;
    expect(again.recover()).toBe(1);
    expect(again.receive(10).map((m) => m.body)).toEqual(['kept']);
  });
});

describe('local KMS', () => {
  const kms = new LocalKms({ k1: Buffer.alloc(32, 7) });
  const plaintext = Buffer.from('whsec_abc').toString('base64');

  it('decrypts under the same encryption context, in any order of its pairs', () => {
    const { CiphertextBlob } = kms.encrypt({ KeyId: 'k1', Plaintext: plaintext, EncryptionContext: { a: '1', b: '2' } });
    expect(kms.decrypt({ CiphertextBlob, EncryptionContext: { b: '2', a: '1' } }).Plaintext).toBe(plaintext);
  });

  it('refuses another context, a tampered ciphertext and an unknown key', () => {
    const { CiphertextBlob } = kms.encrypt({ KeyId: 'k1', Plaintext: plaintext, EncryptionContext: { webhookId: 'wh_1' } });
    expect(() => kms.decrypt({ CiphertextBlob, EncryptionContext: { webhookId: 'wh_2' } })).toThrow(KmsError);
    const bytes = Buffer.from(CiphertextBlob, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => kms.decrypt({ CiphertextBlob: bytes.toString('base64'), EncryptionContext: { webhookId: 'wh_1' } })).toThrow(/invalid/);
    expect(() => kms.encrypt({ KeyId: 'k2', Plaintext: plaintext })).toThrow(/does not exist/);
  });
});
