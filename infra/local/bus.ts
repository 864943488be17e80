// The local EventBridge: accepts PutEvents, matches the subscription table's rules and invokes the
// target consumers asynchronously, retrying as EventBridge does (exponential backoff with jitter, up
// to a number of attempts and an event age), then dead-letters. Accepted deliveries are written to a
// journal first, so a crash between "accepted" and "delivered" loses nothing.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import { matches } from './event-pattern.ts';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-dir.ts';

export interface BusRule {
  name: string;
  pattern: Record<string, unknown>;
  target: string;
}

export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

interface Delivery {
  deliveryId: string;
  rule: string;
  target: string;
  event: BusEvent;
}

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Time?: number | string;
  Resources?: string[];
  EventBusName?: string;
}

export interface LocalBusOptions {
  busName: string;
  rules: BusRule[];
  invoke: (target: string, event: BusEvent) => Promise<void>;
  journalPath: string;
  deadLetterPath: string;
  account?: string;
  region?: string;
  retry?: Partial<RetryPolicy>;
  log?: (line: string) => void;
}

/** A rule target's retry policy, as EventBridge's (RetryPolicy) plus the backoff it does not expose. */
export interface RetryPolicy {
  /** Attempts in all, the first included (EventBridge: MaximumRetryAttempts 185, so 186). */
  maxAttempts: number;
  /** An event older than this (from its `time`) is not retried again (EventBridge: MaximumEventAgeInSeconds, 24 h). */
  maxEventAgeMs: number;
  /** The first retry's delay; each next one doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** EventBridge's defaults: a consumer that is down or slow for a while is retried, not dead-lettered. */
export const EVENTBRIDGE_RETRY: RetryPolicy = { maxAttempts: 186, maxEventAgeMs: 24 * 3_600_000, baseDelayMs: 200, maxDelayMs: 5 * 60_000 };

/**
 * Delay before attempt `attempt + 1` after `attempt` failed: exponential, capped, with "equal jitter"
 * (half fixed, half random) so racing retries spread out without any one retrying at once.
 */
export function retryDelayMs(attempt: number, p: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random = Math.random()): number {
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

export class LocalBus {
  private inFlight = new Set<Promise<void>>();
  private stopped = false;
  private timers = new Set<NodeJS.Timeout>();
  /** Fault injection for reliability tests: PutEvents answers with failed entries while > 0, or until a time. */
  failNextPutEvents = 0;
  failPutEventsUntil = 0;
  delivered = 0;
  deadLettered = 0;

  private readonly retry: RetryPolicy;

  constructor(private readonly o: LocalBusOptions) {
    mkdirSync(dirname(o.journalPath), { recursive: true, mode: PRIVATE_DIR_MODE });
    this.retry = { ...EVENTBRIDGE_RETRY, ...o.retry };
  }

  /** Re-queues deliveries accepted before a crash or stop but never completed. */
  recover(): number {
    if (!existsSync(this.o.journalPath)) return 0;
    const open = new Map<string, Delivery>();
    for (const line of readFileSync(this.o.journalPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let entry: { accepted?: Delivery; done?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a torn last line from a kill -9
      }
      if (entry.accepted) open.set(entry.accepted.deliveryId, entry.accepted);
      if (entry.done) open.delete(entry.done);
    }
    // Compact: the journal restarts with just the open deliveries.
    writeFileSync(this.o.journalPath, [...open.values()].map((d) => JSON.stringify({ accepted: d }) + '\n').join(''), { mode: PRIVATE_FILE_MODE });
    for (const d of open.values()) this.schedule(d, 1, 0);
    return open.size;
  }

  putEvents(entries: PutEventsEntry[]): { FailedEntryCount: number; Entries: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }> } {
    const results = entries.map((e) => {
      if (this.failNextPutEvents > 0 || Date.now() < this.failPutEventsUntil) {
        this.failNextPutEvents = Math.max(0, this.failNextPutEvents - 1);
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'injected failure' };
      }
      if (e.EventBusName && e.EventBusName !== this.o.busName && !e.EventBusName.endsWith(`/${this.o.busName}`)) {
        return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `event bus ${e.EventBusName} does not exist` };
      }
      if (!e.Source || !e.DetailType || !e.Detail) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and Detail are required' };
      let detail: unknown;
      try {
        detail = JSON.parse(e.Detail);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' };
      }
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': e.DetailType,
        source: e.Source,
        account: this.o.account ?? '000000000000',
        time: new Date(e.Time === undefined ? Date.now() : typeof e.Time === 'number' ? e.Time * 1000 : e.Time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: this.o.region ?? 'local',
        resources: e.Resources ?? [],
        detail,
      };
      this.dispatch(event);
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** Delivers an event to every matching rule (also used for scheduled events). */
  dispatch(event: BusEvent, only?: { target: string; rule: string }): void {
    const targets = only ? [only] : this.o.rules.filter((r) => matches(r.pattern, event)).map((r) => ({ target: r.target, rule: r.name }));
    for (const t of targets) {
      const d: Delivery = { deliveryId: randomUUID(), rule: t.rule, target: t.target, event };
      appendFileSync(this.o.journalPath, JSON.stringify({ accepted: d }) + '\n', { mode: PRIVATE_FILE_MODE });
      this.schedule(d, 1, 0);
    }
  }

  private schedule(d: Delivery, attempt: number, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = this.attempt(d, attempt).finally(() => this.inFlight.delete(run));
      this.inFlight.add(run);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(d: Delivery, attempt: number): Promise<void> {
    try {
      await this.o.invoke(d.target, d.event);
      this.delivered++;
      this.complete(d);
    } catch (err) {
      const { maxAttempts, maxEventAgeMs } = this.retry;
      const message = err instanceof Error ? err.message : String(err);
      const delay = retryDelayMs(attempt, this.retry);
      const ageAtRetry = Date.now() + delay - Date.parse(d.event.time);
      if (attempt < maxAttempts && ageAtRetry <= maxEventAgeMs) {
        this.o.log?.(`bus: ${d.target} failed on ${d.event['detail-type']} (attempt ${attempt}/${maxAttempts}, next in ${delay} ms): ${message}`);
        this.schedule(d, attempt + 1, delay);
        return;
      }
      const why = attempt < maxAttempts ? `the event is older than ${maxEventAgeMs / 1000} s` : `${attempt} attempts`;
      this.deadLettered++;
      this.o.log?.(`bus: ${d.target} dead-lettered ${d.event['detail-type']} ${d.event.id} after ${why}: ${message}`);
      appendFileSync(
        this.o.deadLetterPath,
        JSON.stringify({ failedAt: new Date().toISOString(), rule: d.rule, target: d.target, attempts: attempt, error: message, event: d.event }) + '\n',
        { mode: PRIVATE_FILE_MODE },
      );
      this.complete(d);
    }
  }

  private complete(d: Delivery): void {
    if (!this.stopped) appendFileSync(this.o.journalPath, JSON.stringify({ done: d.deliveryId }) + '\n', { mode: PRIVATE_FILE_MODE });
  }

  /** Resolves when nothing is queued or running (tests use this to wait for quiescence). */
  async idle(): Promise<void> {
    while (this.inFlight.size || this.timers.size) {
      await Promise.allSettled([...this.inFlight]);
      if (!this.inFlight.size && this.timers.size) await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }
}
