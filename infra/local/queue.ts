// The local SQS standard queue and its Lambda event source mapping, for queue consumers of the
// function catalog (kind 'queue'). The functions' unchanged SQS client reaches it through the local
// AWS endpoint (SendMessage, SendMessageBatch, ChangeMessageVisibility). What it keeps of SQS:
// a received message is invisible for the visibility timeout, or for what ChangeMessageVisibility
// sets; the mapping invokes the consumer with batches, concurrently up to a maximum, and deletes the
// messages it did not report as failed (ReportBatchItemFailures; a thrown error fails the batch);
// a message received more than maxReceiveCount times goes to the dead-letter queue (here a file).
// Messages are journaled, so a stop or a crash loses none.
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-dir.ts';

export interface LocalQueueOptions {
  name: string;
  visibilityTimeoutSeconds: number;
  /** Receives before a message goes to the dead-letter queue (the redrive policy). */
  maxReceiveCount: number;
  journalPath: string;
  deadLetterPath: string;
  log?: (line: string) => void;
}

interface Message {
  messageId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  firstReceivedAt?: number;
  receiptHandle?: string;
}

/** An SQS error as the JSON protocol names it (the endpoint answers 400 with it). */
export class QueueError extends Error {
  constructor(readonly code: 'ReceiptHandleIsInvalid' | 'MessageNotInflight' | 'InvalidParameterValue', message: string) {
    super(message);
  }
}

export const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

export class LocalQueue {
  private readonly messages = new Map<string, Message>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  delivered = 0;
  deadLettered = 0;

  constructor(readonly o: LocalQueueOptions) {
    mkdirSync(dirname(o.journalPath), { recursive: true, mode: PRIVATE_DIR_MODE });
  }

  /** Loads the messages a previous run left (journal replay), then compacts the journal. */
  recover(): number {
    if (existsSync(this.o.journalPath)) {
      for (const line of readFileSync(this.o.journalPath, 'utf8').split('\n')) {
        let entry: { sent?: Message; state?: Pick<Message, 'messageId' | 'receiveCount' | 'visibleAt' | 'firstReceivedAt'>; gone?: string };
        try {
          entry = JSON.parse(line);
        } catch {
          continue; // empty, or torn by a kill -9
        }
        if (entry.sent) this.messages.set(entry.sent.messageId, entry.sent);
        if (entry.state) {
          const m = this.messages.get(entry.state.messageId);
          if (m) Object.assign(m, entry.state);
        }
        if (entry.gone) this.messages.delete(entry.gone);
      }
    }
    for (const m of this.messages.values()) delete m.receiptHandle; // receipts die with the process
    writeFileSync(this.o.journalPath, [...this.messages.values()].map((m) => `${JSON.stringify({ sent: m })}\n`).join(''), { mode: PRIVATE_FILE_MODE });
    return this.messages.size;
  }

  private journal(entry: object): void {
    appendFileSync(this.o.journalPath, `${JSON.stringify(entry)}\n`, { mode: PRIVATE_FILE_MODE });
  }

  send(body: string, delaySeconds = 0): { MessageId: string; MD5OfMessageBody: string } {
    if (delaySeconds < 0 || delaySeconds > 900) throw new QueueError('InvalidParameterValue', 'DelaySeconds must be 0..900');
    const now = Date.now();
    const m: Message = { messageId: randomUUID(), body, sentAt: now, receiveCount: 0, visibleAt: now + delaySeconds * 1000 };
    this.messages.set(m.messageId, m);
    this.journal({ sent: m });
    return { MessageId: m.messageId, MD5OfMessageBody: md5(body) };
  }

  private byReceipt(receiptHandle: string): Message {
    const m = [...this.messages.values()].find((x) => x.receiptHandle === receiptHandle);
    if (!m) throw new QueueError('ReceiptHandleIsInvalid', `The receipt handle "${receiptHandle.slice(0, 12)}…" is not valid.`);
    return m;
  }

  changeVisibility(receiptHandle: string, seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) throw new QueueError('InvalidParameterValue', 'VisibilityTimeout must be 0..43200');
    const m = this.byReceipt(receiptHandle);
    if (m.visibleAt <= Date.now()) throw new QueueError('MessageNotInflight', 'Message is not in flight.');
    m.visibleAt = Date.now() + seconds * 1000;
    this.journal({ state: { messageId: m.messageId, receiveCount: m.receiveCount, visibleAt: m.visibleAt, firstReceivedAt: m.firstReceivedAt } });
  }

  deleteMessage(receiptHandle: string): void {
    const m = this.byReceipt(receiptHandle);
    this.messages.delete(m.messageId);
    this.journal({ gone: m.messageId });
  }

  /** Up to `max` visible messages, each now in flight; one already received maxReceiveCount times is dead-lettered instead. */
  receive(max: number): Message[] {
    const now = Date.now();
    const out: Message[] = [];
    for (const m of [...this.messages.values()].sort((a, b) => a.visibleAt - b.visibleAt)) {
      if (out.length >= max || m.visibleAt > now) break;
      if (m.receiveCount >= this.o.maxReceiveCount) {
        this.deadLetter(m);
        continue;
      }
      m.receiveCount++;
      m.firstReceivedAt ??= now;
      m.visibleAt = now + this.o.visibilityTimeoutSeconds * 1000;
      m.receiptHandle = randomUUID();
      this.journal({ state: { messageId: m.messageId, receiveCount: m.receiveCount, visibleAt: m.visibleAt, firstReceivedAt: m.firstReceivedAt } });
      out.push(m);
    }
    return out;
  }

  private deadLetter(m: Message): void {
    this.deadLettered++;
    appendFileSync(
      this.o.deadLetterPath,
      `${JSON.stringify({ deadLetteredAt: new Date().toISOString(), queue: this.o.name, messageId: m.messageId, receiveCount: m.receiveCount, sentAt: new Date(m.sentAt).toISOString(), body: m.body })}\n`,
      { mode: PRIVATE_FILE_MODE },
    );
    this.messages.delete(m.messageId);
    this.journal({ gone: m.messageId });
    this.o.log?.(`queue ${this.o.name}: message ${m.messageId} dead-lettered after ${m.receiveCount} receives`);
  }

  /** The event source mapping: polls, and invokes the consumer with batches, up to maxConcurrency at once. */
  startConsumer(invoke: (event: SQSEvent) => Promise<unknown>, o: { batchSize: number; maxConcurrency: number; region: string; pollMs?: number }): void {
    const arn = `arn:aws:sqs:${o.region}:000000000000:${this.o.name}`;
    const tick = () => {
      while (!this.stopped && this.inFlight.size < o.maxConcurrency) {
        const batch = this.receive(o.batchSize);
        if (!batch.length) break;
        const event: SQSEvent = {
          Records: batch.map((m) => ({
            messageId: m.messageId,
            receiptHandle: m.receiptHandle!,
            body: m.body,
            attributes: {
              ApproximateReceiveCount: String(m.receiveCount),
              SentTimestamp: String(m.sentAt),
              SenderId: 'local',
              ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
            },
            messageAttributes: {},
            md5OfBody: md5(m.body),
            eventSource: 'aws:sqs',
            eventSourceARN: arn,
            awsRegion: o.region,
          })),
        };
        const run = this.complete(batch, invoke(event)).finally(() => this.inFlight.delete(run));
        this.inFlight.add(run);
      }
      if (!this.stopped) this.timer = setTimeout(tick, o.pollMs ?? 50);
    };
    tick();
  }

  /** What the mapping does with an invocation's answer: delete the successes, leave the failures in flight. */
  private async complete(batch: Message[], result: Promise<unknown>): Promise<void> {
    let failed: Set<string>;
    try {
      const res = (await result) as SQSBatchResponse | undefined;
      failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      // An identifier that is not in the batch makes Lambda treat the whole batch as failed.
      if ([...failed].some((id) => !batch.some((m) => m.messageId === id))) failed = new Set(batch.map((m) => m.messageId));
    } catch (err) {
      this.o.log?.(`queue ${this.o.name}: consumer failed on a batch of ${batch.length}: ${(err as Error).message}`);
      return;
    }
    for (const m of batch) {
      if (failed.has(m.messageId) || this.messages.get(m.messageId) !== m) continue;
      this.delivered++;
      this.messages.delete(m.messageId);
      this.journal({ gone: m.messageId });
    }
  }

  /** Resolves when the queue is empty and no batch is running (tests use this to wait for quiet). */
  async idle(): Promise<void> {
    while (!this.stopped && (this.messages.size || this.inFlight.size)) await new Promise((r) => setTimeout(r, 25));
  }

  get depth(): number {
    return this.messages.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }
}
