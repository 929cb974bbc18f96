import { diag } from '@opentelemetry/api';
import type { AuditRecord } from '../record/types';
import { insertIsolating } from '../store/isolated-write';
import type { Store } from '../store/types';

export interface WriterStats {
  /** Records accepted into the queue. */
  accepted: number;
  /** Records committed to the store (duplicates included). */
  written: number;
  /** Records dropped because the queue was full, or refused by the database for good. Never silent: reported as they happen. */
  dropped: number;
  /** Write attempts that failed (each retried). */
  failedWrites: number;
  /** Records waiting to be written. */
  queued: number;
}

export interface WriterOptions {
  /** The store, or a function opening it (retried with backoff until it succeeds). */
  store: Store | (() => Promise<Store>);
  /** Records held while the store is slow or down. Default 50 000. */
  maxQueue?: number;
  /** Records per transaction. Default 500 (SQLite statements stay under its compound-select limit). */
  batchSize?: number;
  /** How long a partial batch waits for more records. Default 100 ms. */
  lingerMs?: number;
  /** Where failures are reported, one line each (throttled). Default: OpenTelemetry diag + stderr. */
  report?: (message: string) => void;
  /** Called after every write attempt, successful or not (the pipeline worker reports its counts then). */
  onProgress?: () => void;
}

const MAX_BACKOFF_MS = 5000;

export function defaultReport(message: string): void {
  diag.warn(message);
  process.stderr.write(`auditspan: ${message}\n`);
}

/** At most one message per 10 s; the next one says how many were held back. */
export function throttled(report: (message: string) => void): (message: string) => void {
  let last = 0;
  let suppressed = 0;
  return (message) => {
    const now = Date.now();
    if (now - last < 10_000) {
      suppressed += 1;
      return;
    }
    const extra = suppressed > 0 ? ` (${suppressed} similar messages suppressed)` : '';
    last = now;
    suppressed = 0;
    report(message + extra);
  };
}

/**
 * A bounded queue of audit records and the single writer that drains it into
 * the store in batches. Adding never blocks and never throws: when the store is
 * down, records wait (bounded) and failed batches are retried with backoff.
 */
export class RecordWriter {
  private queue: AuditRecord[] = [];
  private head = 0;
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  private releaseIdle = false;
  private storeReady: Promise<Store> | undefined;
  private waiters: Array<() => void> = [];
  private readonly counts = { accepted: 0, written: 0, dropped: 0, failedWrites: 0 };
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly warn: (message: string) => void;

  constructor(private readonly options: WriterOptions) {
    this.maxQueue = options.maxQueue ?? 50_000;
    this.batchSize = Math.min(options.batchSize ?? 500, 500);
    this.lingerMs = options.lingerMs ?? 100;
    this.warn = throttled(options.report ?? defaultReport);
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 1) throw new TypeError('auditspan: maxQueue must be a positive whole number');
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  stats(): WriterStats {
    return { ...this.counts, queued: this.size };
  }

  add(records: readonly AuditRecord[]): void {
    for (const record of records) {
      if (this.size >= this.maxQueue) {
        this.counts.dropped += 1;
        this.warn(`audit queue full (${this.maxQueue} rows): dropped a row (${this.counts.dropped} dropped so far); the database is too slow or down`);
        continue;
      }
      this.queue.push(record);
      this.counts.accepted += 1;
    }
    this.schedule();
  }

  /** Resolves once everything accepted so far is written; rejects after `timeoutMs`. */
  flush(timeoutMs = 30_000): Promise<void> {
    if (this.size === 0 && !this.writing) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new Error(`${this.size} audit rows not yet written after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
      this.backoffMs = 0;
      this.schedule(true);
    });
  }

  /** Flushes (bounded by `timeoutMs`), then closes the store if this writer opened it. */
  async close(timeoutMs?: number): Promise<void> {
    try {
      await this.flush(timeoutMs);
    } finally {
      await this.releaseStore();
    }
  }

  /**
   * From now on, closes the store this writer opened whenever the queue runs empty (and
   * reopens it for later rows), so that its connections never keep a finishing process alive.
   * Used when the process is told to stop but the app itself decides when to exit.
   */
  releaseWhenIdle(): void {
    this.releaseIdle = true;
    if (this.size === 0 && !this.writing) void this.releaseStore();
  }

  private async releaseStore(): Promise<void> {
    const opened = typeof this.options.store === 'function' ? this.storeReady : undefined;
    this.storeReady = undefined;
    const store = await opened?.catch(() => undefined);
    await store?.close().catch(() => undefined);
  }

  private schedule(now = false): void {
    if (this.writing || this.size === 0) return;
    const delay = this.backoffMs > 0 ? this.backoffMs : now || this.size >= this.batchSize || this.waiters.length > 0 ? 0 : this.lingerMs;
    if (this.timer) {
      if (delay > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, delay);
    // A pending write must not keep a finished process alive; exit paths flush explicitly.
    this.timer.unref();
  }

  /** Opens the store now rather than at the first write (the pipeline worker seeds from it). */
  open(): Promise<Store> {
    return this.getStore();
  }

  private getStore(): Promise<Store> {
    const s = this.options.store;
    if (typeof s !== 'function') return Promise.resolve(s);
    this.storeReady ??= s().catch((err: unknown) => {
      this.storeReady = undefined;
      throw err;
    });
    return this.storeReady;
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      let wrote = false;
      while (this.size > 0) {
        // What arrived during a write and is less than a batch waits out the linger for more
        // instead of taking a transaction of its own (unless a flush waits for it): a write's
        // cost is mostly per transaction below a few hundred rows (docs/benchmarks.md).
        if (wrote && this.size < this.batchSize && this.waiters.length === 0) break;
        const batch = this.queue.slice(this.head, this.head + this.batchSize);
        let refused = 0;
        try {
          const store = await this.getStore();
          // A row the database refuses for good is dropped alone instead of blocking the queue.
          const { rejected } = await insertIsolating(store, batch);
          refused = rejected.length;
          if (refused > 0) {
            this.counts.dropped += refused;
            this.warn(`the database refused ${rejected.length} audit row(s) (${rejected[0].detail.split('\n')[0]}); dropped`);
          }
        } catch (err) {
          this.counts.failedWrites += 1;
          this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, this.backoffMs * 2));
          this.warn(`cannot write audit rows (${(err as Error).message.split('\n')[0]}); ${this.size} rows queued, retrying`);
          this.options.onProgress?.();
          return;
        }
        this.head += batch.length;
        wrote = true;
        this.counts.written += batch.length - refused;
        this.backoffMs = 0;
        this.options.onProgress?.();
        if (this.head > 10_000 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
      }
      if (this.size === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
        if (this.releaseIdle) await this.releaseStore();
      }
    } finally {
      this.writing = false;
      this.schedule();
    }
  }
}
