// The local stand-in for CloudWatch Logs subscription filters (events/subscriptions.ts
// `logSubscriptions`). In Lambda the runtime captures what a function writes to stdout and CloudWatch
// Logs hands the lines a filter selects to the target function, asynchronously, with retries and a
// dead-letter queue. Here every function runs in this process, so the runtime captures this
// process's stdout: a line a subscription selects is appended to that subscription's journal
// (DATA_DIR/logs/<name>.jsonl, the local "log group") before the write returns, so before the API
// answers; a delivery loop hands the journal's new lines to the target in the CloudWatch Logs event
// format (gzip, base64), retrying a failed batch as Lambda retries an asynchronous invocation, then
// writing it to a dead-letter file. The delivered offset is kept on disk: after a crash, what was
// journaled and not yet delivered is delivered on the next start (at least once, as in AWS).
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import type { LogSubscription } from '../../events/subscriptions.ts';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-dir.ts';

export interface LogTapOptions {
  subscriptions: readonly LogSubscription[];
  /** Journals, offsets and dead letters live here (DATA_DIR/logs). */
  dir: string;
  invoke: (target: string, event: CloudWatchLogsEvent) => Promise<void>;
  /** Waits before each retry of a failed batch (Lambda's asynchronous invocation: two retries, after about 1 and 2 minutes). */
  retryDelaysMs?: readonly number[];
  /** Lines arriving within this window go in one batch (CloudWatch Logs batches for about that long). */
  batchWindowMs?: number;
  log?: (line: string) => void;
}

/** Lines per delivery (CloudWatch Logs sends up to 10,000 events, 1 MB, per batch). */
const MAX_BATCH_LINES = 1_000;
const MAX_BATCH_BYTES = 1_000_000;

type Write = typeof process.stdout.write;

function lastByte(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, statSync(file).size - 1);
    return b[0]!;
  } finally {
    closeSync(fd);
  }
}

interface Tap {
  sub: LogSubscription;
  journal: string;
  offsetFile: string;
  offset: number;
  timer?: NodeJS.Timeout;
  delivering?: Promise<void>;
}

export class LogTap {
  private readonly taps: Tap[];
  private original?: Write;
  private stopped = false;
  /** Lines handed to their targets so far (the runtime's settle() watches it). */
  delivered = 0;
  /** Batches that failed every attempt and were dead-lettered. */
  deadLettered = 0;

  constructor(private readonly o: LogTapOptions) {
    mkdirSync(o.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    this.taps = o.subscriptions.map((sub) => {
      const journal = join(o.dir, `${sub.name}.jsonl`);
      const offsetFile = join(o.dir, `${sub.name}.offset`);
      let offset = existsSync(offsetFile) ? Number(readFileSync(offsetFile, 'utf8')) || 0 : 0;
      const size = existsSync(journal) ? statSync(journal).size : 0;
      if (size && offset >= size) {
        // Everything delivered: start the journal afresh (it would otherwise grow for ever).
        writeFileSync(journal, '', { mode: PRIVATE_FILE_MODE });
        writeFileSync(offsetFile, '0', { mode: PRIVATE_FILE_MODE });
        offset = 0;
      } else if (size && lastByte(journal) !== 0x0a) {
        // A line cut short by a crash mid-write stays a line of its own (refused by the consumer
        // and dead-lettered, so seen), never glued to the next one.
        appendFileSync(journal, '\n');
      }
      return { sub, journal, offsetFile, offset };
    });
  }

  /** Starts capturing stdout, and delivers what an earlier run journaled and did not deliver. */
  start(): void {
    const original = process.stdout.write.bind(process.stdout) as Write;
    this.original = original;
    const markers = this.taps.map((t) => t.sub.match.equals);
    process.stdout.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      // The cheap test first: most output is not for any subscription.
      if (!markers.some((m) => text.includes(m))) return original(chunk, encoding as BufferEncoding, cb);
      const rest: string[] = [];
      for (const line of text.split('\n')) {
        if (line && !this.capture(line)) rest.push(line);
      }
      if (rest.length) original(`${rest.join('\n')}\n`);
      const done = typeof encoding === 'function' ? encoding : cb;
      done?.();
      return true;
    }) as Write;
    for (const t of this.taps) this.kick(t);
  }

  /** Journals the line if a subscription selects it (synchronously: the write returns after it). */
  private capture(line: string): boolean {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return false;
    }
    let taken = false;
    for (const t of this.taps) {
      if (parsed?.[t.sub.match.field] !== t.sub.match.equals) continue;
      appendFileSync(t.journal, `${line}\n`, { mode: PRIVATE_FILE_MODE });
      this.kick(t);
      taken = true;
    }
    return taken;
  }

  private kick(t: Tap): void {
    if (this.stopped || t.timer || t.delivering) return;
    t.timer = setTimeout(() => {
      t.timer = undefined;
      t.delivering = this.drain(t).catch((err: Error) => this.o.log?.(`log subscription ${t.sub.name}: ${err.message}`)).finally(() => {
        t.delivering = undefined;
        if (this.pending(t)) this.kick(t);
      });
    }, this.o.batchWindowMs ?? 100);
  }

  private pending(t: Tap): boolean {
    return existsSync(t.journal) && statSync(t.journal).size > t.offset;
  }

  /** Delivers the journal from the saved offset to its end, a batch at a time. */
  private async drain(t: Tap): Promise<void> {
    while (!this.stopped && this.pending(t)) {
      const batch = this.readBatch(t);
      if (!batch.lines.length) return; // only a partial line so far
      await this.deliver(t, batch.lines);
      t.offset = batch.end;
      writeFileSync(t.offsetFile, String(t.offset), { mode: PRIVATE_FILE_MODE });
      this.delivered += batch.lines.length;
    }
  }

  private readBatch(t: Tap): { lines: Array<{ id: string; line: string }>; end: number } {
    const size = statSync(t.journal).size;
    const length = Math.min(size - t.offset, MAX_BATCH_BYTES);
    const buf = Buffer.alloc(length);
    const fd = openSync(t.journal, 'r');
    try {
      readSync(fd, buf, 0, length, t.offset);
    } finally {
      closeSync(fd);
    }
    const lines: Array<{ id: string; line: string }> = [];
    let at = 0;
    while (lines.length < MAX_BATCH_LINES) {
      const nl = buf.indexOf(0x0a, at);
      if (nl < 0) break;
      // A line's id is its place in the journal: unique, and the same if it is delivered again.
      lines.push({ id: String(t.offset + at), line: buf.subarray(at, nl).toString('utf8') });
      at = nl + 1;
    }
    return { lines, end: t.offset + at };
  }

  private async deliver(t: Tap, lines: Array<{ id: string; line: string }>): Promise<void> {
    const data: CloudWatchLogsDecodedData = {
      owner: '000000000000',
      logGroup: '/aws/lambda/local-api',
      logStream: 'local',
      subscriptionFilters: [t.sub.name],
      messageType: 'DATA_MESSAGE',
      logEvents: lines.map(({ id, line }) => ({ id, timestamp: Date.parse(String((JSON.parse(line) as { timestamp?: string }).timestamp)) || Date.now(), message: line })),
    };
    const event: CloudWatchLogsEvent = { awslogs: { data: gzipSync(JSON.stringify(data)).toString('base64') } };
    const delays = this.o.retryDelaysMs ?? [1_000, 2_000];
    let lastError: unknown;
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, delays[attempt - 1]));
      if (this.stopped) throw new Error('stopped'); // left undelivered: the next start delivers it
      try {
        await this.o.invoke(t.sub.target, event);
        return;
      } catch (err) {
        lastError = err;
        this.o.log?.(`log subscription ${t.sub.name}: delivery failed (attempt ${attempt + 1}): ${(err as Error).message}`);
      }
    }
    // As Lambda's dead-letter queue: the batch, whole, with the error, for a redrive.
    appendFileSync(join(this.o.dir, 'dead-letters.jsonl'), `${JSON.stringify({ subscription: t.sub.name, target: t.sub.target, error: String((lastError as Error)?.message ?? lastError), event })}\n`, { mode: PRIVATE_FILE_MODE });
    this.deadLettered++;
  }

  /** Resolves once every journaled line has been delivered (or dead-lettered). */
  async idle(): Promise<void> {
    for (;;) {
      const busy = this.taps.filter((t) => t.timer || t.delivering || this.pending(t));
      if (!busy.length || this.stopped) return;
      await Promise.all(busy.map((t) => t.delivering ?? new Promise((r) => setTimeout(r, 50))));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.original) process.stdout.write = this.original;
    for (const t of this.taps) if (t.timer) clearTimeout(t.timer);
    await Promise.all(this.taps.map((t) => t.delivering?.catch(() => undefined)));
  }
}
