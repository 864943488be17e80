// Stands in for Lambda's DynamoDB Streams event source mapping: reads every shard of the table's
// stream, applies the same filter criteria, invokes the target in order with batches, honours
// ReportBatchItemFailures (retry from the first failed record), and checkpoints per shard in
// DATA_DIR so a restart resumes where it left off.
import {
  DescribeStreamCommand, DynamoDBStreamsClient, ExpiredIteratorException, GetRecordsCommand, GetShardIteratorCommand,
  TrimmedDataAccessException, type _Record, type Shard, type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { matches } from './event-pattern.ts';
import { PRIVATE_FILE_MODE } from './private-dir.ts';

export interface StreamPollerOptions {
  endpoint: string;
  tableName: string;
  filter: Record<string, unknown>;
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  checkpointPath: string;
  batchSize?: number;
  idleMs?: number;
  log?: (line: string) => void;
}

interface Checkpoints {
  streamArn?: string;
  /** Last sequence number fully handled, per shard; "done" when the shard is closed and drained. */
  shards: Record<string, string>;
}

/**
 * Records read per GetRecords (its maximum). The handler still gets `batchSize` at most, after the
 * filter, as Lambda's: reading more at a time only gets through records the filter drops faster (a
 * bulk import writes many).
 */
const READ_LIMIT = 1000;
/** How long a listing of the stream's shards is used before the stream is described again. */
const SHARD_LISTING_MS = 1000;

export class StreamPoller {
  private readonly streams: DynamoDBStreamsClient;
  private readonly ddb: DynamoDBClient;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private checkpoints: Checkpoints = { shards: {} };
  private iterators = new Map<string, string>();
  /** Records handed to the handler, for tests and the status line. */
  handled = 0;
  lastError?: string;
  /**
   * Passes started so far, and the latest that found every shard empty or failed (a failing handler
   * is retried with backoff; waiting for it would not end), for `drained`.
   */
  private passes = 0;
  private lastQuietPass = 0;
  /** The table's stream, described again only after a pass failed reading it (DescribeTable is costly, below). */
  private streamArn?: string;
  /**
   * The stream's shards as last described, when, and in which pass. DynamoDB Local takes as long to
   * describe the stream as to read a shard, so describing it on every pass doubled what polling cost
   * the one engine the counter shares. As Lambda's event source mapping does, shards are listed again
   * now and then, whenever one ends (its children appear), and for `drained` (from pass `relistFrom`).
   */
  private shards?: { list: Shard[]; at: number; pass: number };
  private relistFrom = 0;
  private handlerFailed = false;
  /** Checkpoints moved since the last write to disk, and the write under way (see `save`). */
  private dirty = false;
  private writing?: Promise<void>;

  constructor(private readonly o: StreamPollerOptions) {
    const cfg = { endpoint: o.endpoint, region: process.env.AWS_REGION ?? 'local' };
    this.streams = new DynamoDBStreamsClient(cfg);
    this.ddb = new DynamoDBClient(cfg);
    // As the functions' client (functions/shared/db.ts): no redacted copy of every batch of records for a logger we do not give.
    this.streams.middlewareStack.remove('loggerMiddleware');
    if (existsSync(o.checkpointPath)) this.checkpoints = JSON.parse(readFileSync(o.checkpointPath, 'utf8')) as Checkpoints;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.persisted();
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      let busy = false;
      const pass = ++this.passes;
      try {
        busy = await this.pollOnce();
        if (!busy) this.lastQuietPass = pass;
        backoff = 0;
        this.lastError = undefined;
      } catch (err) {
        this.lastQuietPass = pass;
        // Described again unless the handler failed: the table may have been recreated.
        if (!this.handlerFailed) {
          this.streamArn = undefined;
          this.shards = undefined;
        }
        this.handlerFailed = false;
        backoff = Math.min(5000, Math.max(200, backoff * 2));
        this.lastError = (err as Error).message;
        this.o.log?.(`stream poller: ${(err as Error).name}: ${(err as Error).message}; retrying in ${backoff} ms`);
      }
      if (!busy || backoff) await this.sleep(backoff || (this.o.idleMs ?? 50));
    }
  }

  /**
   * Resolves once a pass that began after this call found nothing new on any shard (or failed):
   * whatever was written before the call has been handed to the handler, however slowly the machine polls.
   */
  async drained(): Promise<void> {
    const after = this.passes;
    // The pass waited for lists the shards afresh: one opened since the last listing is read too.
    this.relistFrom = after + 1;
    while (this.running && this.lastQuietPass <= after) await new Promise((r) => setTimeout(r, 20));
    await this.persisted();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }

  /** One pass over the open shards; true when any records were handled. */
  private async pollOnce(): Promise<boolean> {
    // DynamoDB Local answers DescribeTable by summing the size of every item of the table and of each
    // index: once per pass, it took a whole CPU once the table held a large province.
    if (!this.streamArn) {
      const table = await this.ddb.send(new DescribeTableCommand({ TableName: this.o.tableName }));
      this.streamArn = table.Table?.LatestStreamArn;
    }
    const streamArn = this.streamArn;
    if (!streamArn) throw new Error(`table ${this.o.tableName} has no stream`);
    if (this.checkpoints.streamArn !== streamArn) {
      // A new table (or the first start): start every shard from its beginning.
      this.checkpoints = { streamArn, shards: {} };
      this.iterators.clear();
    }
    const shards = await this.listShards(streamArn);

    let busy = false;
    for (const shard of shards) {
      const id = shard.ShardId!;
      if (this.checkpoints.shards[id] === 'done') continue;
      // Parents first: a child shard waits until its parent is drained, to keep per-key order.
      const parent = shard.ParentShardId;
      if (parent && shards.some((s) => s.ShardId === parent) && this.checkpoints.shards[parent] !== 'done') continue;
      busy = (await this.pollShard(streamArn, id)) || busy;
    }
    return busy;
  }

  private async listShards(streamArn: string): Promise<Shard[]> {
    const last = this.shards;
    if (last && last.pass >= this.relistFrom && performance.now() - last.at < SHARD_LISTING_MS) return last.list;
    const list: Shard[] = [];
    let start: string | undefined;
    do {
      const d = await this.streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
      list.push(...(d.StreamDescription?.Shards ?? []));
      start = d.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    this.shards = { list, at: performance.now(), pass: this.passes };
    return list;
  }

  private async iterator(streamArn: string, shardId: string): Promise<string> {
    const cached = this.iterators.get(shardId);
    if (cached) return cached;
    const seq = this.checkpoints.shards[shardId];
    const type: ShardIteratorType = seq ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON';
    const r = await this.streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: type, SequenceNumber: seq }),
    );
    return r.ShardIterator!;
  }

  private async pollShard(streamArn: string, shardId: string): Promise<boolean> {
    let res;
    try {
      res = await this.streams.send(new GetRecordsCommand({ ShardIterator: await this.iterator(streamArn, shardId), Limit: READ_LIMIT }));
    } catch (err) {
      this.iterators.delete(shardId);
      if (err instanceof ExpiredIteratorException) return true;
      if (err instanceof TrimmedDataAccessException) {
        delete this.checkpoints.shards[shardId];
        return true;
      }
      throw err;
    }
    const records = res.Records ?? [];
    if (records.length === 0) {
      if (res.NextShardIterator) this.iterators.set(shardId, res.NextShardIterator);
      else this.finishShard(shardId);
      return false;
    }
    const selected = records.map(toLambdaRecord).filter((r) => matches(this.o.filter, r));
    const batchSize = this.o.batchSize ?? 100;
    for (let i = 0; i < selected.length; i += batchSize) {
      const batch = selected.slice(i, i + batchSize);
      let result;
      try {
        result = await this.o.handler({ Records: batch });
      } catch (err) {
        // Again from the checkpoint: the batches before this one are saved, not delivered twice.
        this.iterators.delete(shardId);
        this.handlerFailed = true;
        throw err;
      }
      this.handled += batch.length;
      const failed = result?.batchItemFailures?.[0]?.itemIdentifier;
      if (failed) {
        // Retry from the first failed record: checkpoint just before it, drop the iterator.
        const i = records.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
        if (i > 0) this.save(shardId, records[i - 1]!.dynamodb!.SequenceNumber!);
        this.iterators.delete(shardId);
        this.handlerFailed = true;
        throw new Error(`handler reported a failure at record ${failed}`);
      }
      this.save(shardId, batch.at(-1)!.dynamodb!.SequenceNumber!);
    }
    this.save(shardId, records.at(-1)!.dynamodb!.SequenceNumber!);
    if (res.NextShardIterator) this.iterators.set(shardId, res.NextShardIterator);
    else this.finishShard(shardId);
    return true;
  }

  private finishShard(shardId: string): void {
    this.iterators.delete(shardId);
    this.shards = undefined;
    this.save(shardId, 'done');
  }

  /**
   * Moves a shard's checkpoint. It is written to disk behind the poller, one write at a time and the
   * latest state each time: a write per batch, synchronous, took the event loop the HTTP path shares
   * (a rename costs about a millisecond here). A crash between a batch and its write delivers that
   * batch again on restart, as Lambda's event source mapping may; every consumer is idempotent.
   */
  private save(shardId: string, seq: string): void {
    this.checkpoints.shards[shardId] = seq;
    this.dirty = true;
    this.writing ??= this.write()
      .catch((err: Error) => this.o.log?.(`stream poller: checkpoint not written: ${err.message}`))
      .finally(() => (this.writing = undefined));
  }

  private async write(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const tmp = `${this.o.checkpointPath}.tmp`;
      await writeFile(tmp, JSON.stringify(this.checkpoints), { mode: PRIVATE_FILE_MODE });
      await rename(tmp, this.o.checkpointPath);
    }
  }

  /** Resolves once the checkpoints as they are now are on disk. */
  private async persisted(): Promise<void> {
    while (this.writing) await this.writing;
  }
}

/** The SDK's record → the shape Lambda passes to a stream handler. */
function toLambdaRecord(r: _Record): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  return {
    eventID: r.eventID,
    eventName: r.eventName as DynamoDBRecord['eventName'],
    eventVersion: r.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: r.awsRegion,
    dynamodb: {
      ApproximateCreationDateTime: d.ApproximateCreationDateTime ? Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) : undefined,
      Keys: d.Keys as never,
      NewImage: d.NewImage as never,
      OldImage: d.OldImage as never,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
  };
}
