import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SpanKind, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { RecordOptions } from '../record';
import { parseDbUrl } from '../store/url';
import { claimSqliteFile } from '../store/sqlite-files';
import type { Attributes } from '../record/types';
import { toWireSpan } from './convert';
import { EXIT_SEQ, EXIT_SETTLED, EXIT_SLOTS, type FromWorker, type PipelineConfig, type ToWorker, type WorkerCounts } from './pipeline-protocol';
import { defaultReport, throttled, type WriterStats } from './queue';

export interface WorkerSpanProcessorOptions {
  /** SQLite path or postgres:// URL. Default `./auditspan.db`. */
  db?: string;
  /** SQLite `synchronous` mode: `full` makes a written row survive a power loss too. Default `normal`. */
  sqliteSynchronous?: 'normal' | 'full';
  /** Mapping, redaction and body policy; a `custom` redaction function cannot cross threads (use AuditSpanProcessor). */
  record?: RecordOptions;
  /** Rows held while the database is slow or down, counted from the app's thread to the database. Default 50 000. */
  maxQueue?: number;
  /**
   * Bytes of span data held between the app's thread and the database (counted as the JSON text
   * of each span: bodies are most of it). A span that would go above it is dropped and counted.
   * Default 64 MiB.
   */
  maxQueueBytes?: number;
  /** How long `shutdown()` waits for the rows still queued. Default 30 s. */
  shutdownTimeoutMs?: number;
  /** Where failures are reported. Default: OpenTelemetry diag + stderr. */
  report?: (message: string) => void;
}

/** Spans copied per message, and how long a partial message waits for more. */
const SPANS_PER_MESSAGE = 256;
const LINGER_MS = 20;
/**
 * The pipeline worker's V8 heap: four times the span data it may hold (AUDITSPAN_MAX_QUEUE_BYTES),
 * at least 192 MB, and a 16 MB young generation. Unbounded, V8 let the worker's heap grow to
 * hundreds of MB under 1 MiB bodies before collecting it (+433 MB of RSS over a bare app at the
 * issue's load, +241 MB with these limits, every row still written: docs/benchmarks.md). A
 * worker that exceeds it is restarted like any worker that dies, its rows reported as lost.
 */
export function workerHeapLimits(maxQueueBytes: number): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  return { maxOldGenerationSizeMb: Math.max(192, Math.ceil((4 * maxQueueBytes) / 1048576)), maxYoungGenerationSizeMb: 16 };
}

/** A worker that died is not restarted sooner than this (a crash at start must not spin). */
const RESTART_DELAY_MS = 1000;
/** The worker enforces flush deadlines itself; this guards against a worker that stopped answering. */
const ANSWER_GRACE_MS = 2000;
const DEFAULT_FLUSH_MS = 30_000;
export const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024;

const ZERO: WorkerCounts = { received: 0, unmapped: 0, accepted: 0, written: 0, dropped: 0, failedWrites: 0, queued: 0 };

/** The compiled worker next to this file; from TypeScript sources (tests, tsx) it is loaded through tsx. */
function workerScript(): { file: string; eval: boolean } {
  const js = join(__dirname, 'pipeline-worker.js');
  if (existsSync(js)) return { file: js, eval: false };
  const ts = join(__dirname, 'pipeline-worker.ts');
  return { file: `require('tsx/cjs/api').register(); require(${JSON.stringify(ts)});`, eval: true };
}

interface Call {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Files every ended HTTP SERVER span as an audit row, like AuditSpanProcessor, but maps,
 * redacts and writes on a worker thread: the app's thread only copies the span's data
 * (attributes, times, status) into a message, so the audit pipeline's CPU runs beside the
 * app instead of inside its request loop. Bounded and counted end to end: a span that finds
 * `maxQueue` rows waiting is dropped, counted and reported, never silently lost. A worker that
 * dies is reported with the rows it held and restarted.
 */
export class WorkerSpanProcessor implements SpanProcessor {
  private worker: Worker | undefined;
  /** Spans waiting for the next message, each as JSON text. */
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private restartAt = 0;
  /** Spans posted to the current worker. */
  private sent = 0;
  /** The current worker's last counts, and those of the workers before it. */
  private remote: WorkerCounts = { ...ZERO };
  private readonly earlier: WriterStats = { accepted: 0, written: 0, dropped: 0, failedWrites: 0, queued: 0 };
  private droppedHere = 0;
  private readonly maxQueueBytes: number;
  /** JSON characters of the spans waiting in `pending`. */
  private pendingBytes = 0;
  /** Per message posted to the current worker and not yet settled: the span count at its end, its bytes. */
  private postedEnds: number[] = [];
  private postedBytes: number[] = [];
  private postedHead = 0;
  /** Bytes posted to the current worker and not yet settled there. */
  private inWorkerBytes = 0;
  private batchResource: ReadableSpan['resource'] | undefined;
  private sentResource: ReadableSpan['resource'] | undefined;
  private readonly calls = new Map<number, Call>();
  private nextCall = 0;
  private releaseIdle = false;
  private stopped = false;
  /** The current worker's settled-span count (see PipelineConfig.exitState). */
  private exitState: Int32Array | undefined;
  private readonly config: PipelineConfig;
  private readonly report: (message: string) => void;
  private readonly warnDrop: (message: string) => void;
  private readonly releaseFile: () => void;
  private readonly shutdownTimeoutMs: number;

  constructor(options: WorkerSpanProcessorOptions = {}) {
    const maxQueue = options.maxQueue ?? 50_000;
    if (!Number.isInteger(maxQueue) || maxQueue < 1) throw new TypeError('auditspan: maxQueue must be a positive whole number');
    if (options.record?.redaction?.custom) throw new TypeError('auditspan: a custom redaction function runs on the app thread: use AuditSpanProcessor');
    this.config = { db: options.db, sqliteSynchronous: options.sqliteSynchronous, record: options.record, maxQueue };
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    if (!Number.isInteger(this.maxQueueBytes) || this.maxQueueBytes < 1) throw new TypeError('auditspan: maxQueueBytes must be a positive whole number');
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_FLUSH_MS;
    // The worker writes SQLite with better-sqlite3: this process must not open the file with sqlite3 meanwhile.
    const target = parseDbUrl(options.db);
    this.releaseFile = target.dialect === 'sqlite' ? claimSqliteFile(target.target, 'better-sqlite3') : () => {};
    this.report = options.report ?? defaultReport;
    this.warnDrop = throttled(this.report);
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (span.kind !== SpanKind.SERVER || this.stopped) return;
    try {
      if (this.queued() >= this.config.maxQueue) {
        this.droppedHere += 1;
        this.warnDrop(`audit queue full (${this.config.maxQueue} rows): dropped a row (${this.stats().dropped} dropped so far); the database is too slow or down`);
        return;
      }
      // Compared by the Resource object: its `attributes` getter builds a new object per call.
      const resource = span.resource;
      if (resource !== this.batchResource && this.pending.length > 0) this.send();
      this.batchResource = resource;
      const text = JSON.stringify(toWireSpan(span));
      if (this.pendingBytes + this.workerBytes() + text.length > this.maxQueueBytes) {
        this.droppedHere += 1;
        this.warnDrop(`audit queue full (${this.maxQueueBytes} bytes of span data): dropped a row (${this.stats().dropped} dropped so far); the database is too slow or down`);
        return;
      }
      this.pendingBytes += text.length;
      this.pending.push(text);
      if (this.pending.length >= SPANS_PER_MESSAGE) this.send();
      else this.timer ??= setTimeout(() => this.send(), LINGER_MS).unref();
    } catch (err) {
      // Telemetry never breaks the app: a span that cannot be copied is counted and reported.
      this.droppedHere += 1;
      this.warnDrop(`cannot copy a span for the audit pipeline (${(err as Error).message}); dropped (${this.stats().dropped} dropped so far)`);
    }
  }

  stats(): WriterStats {
    const inFlight = this.pending.length + this.sent - this.remote.received;
    return {
      accepted: this.earlier.accepted + this.remote.accepted + inFlight,
      written: this.earlier.written + this.remote.written,
      dropped: this.earlier.dropped + this.remote.dropped + this.droppedHere,
      failedWrites: this.earlier.failedWrites + this.remote.failedWrites,
      queued: this.remote.queued + inFlight,
    };
  }

  /** Resolves once everything recorded so far is written; rejects after `timeoutMs` (default 30 s). */
  async forceFlush(timeoutMs = DEFAULT_FLUSH_MS): Promise<void> {
    this.send(true);
    await this.call('flush', timeoutMs);
  }

  /**
   * For a process that is exiting now (a process 'exit' listener, or just before re-raising a
   * signal): an exit listener cannot await, so this posts the pending spans with a flush
   * request and blocks the app's thread in `Atomics.wait` (the worker keeps running) until the
   * worker has settled every span posted to it, or `timeoutMs` has passed. Returns the rows
   * that are not written (0 when everything is).
   */
  flushAtExit(timeoutMs: number): number {
    if (this.stopped && !this.worker) return 0;
    this.send(true);
    const worker = this.worker;
    const state = this.exitState;
    if (!worker || !state) return this.pending.length;
    const target = this.sent | 0;
    const left = (): number => (target - Atomics.load(state, EXIT_SETTLED)) | 0;
    if (left() <= 0) return 0;
    try {
      worker.postMessage({ t: 'flush', id: 0, timeoutMs } satisfies ToWorker);
    } catch {
      return left();
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seq = Atomics.load(state, EXIT_SEQ);
      const rows = left();
      const wait = deadline - Date.now();
      if (rows <= 0) return 0;
      if (wait <= 0) return rows;
      Atomics.wait(state, EXIT_SEQ, seq, wait);
    }
  }

  /**
   * Keeps recording, but the worker closes its database connections whenever its queue is
   * empty, so that they never hold a stopping process (see RecordWriter.releaseWhenIdle).
   */
  releaseWhenIdle(): void {
    this.releaseIdle = true;
    this.worker?.postMessage({ t: 'release' } satisfies ToWorker);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.send(true);
    try {
      await this.call('close', this.shutdownTimeoutMs);
    } finally {
      const worker = this.worker;
      this.worker = undefined;
      await worker?.terminate();
      this.releaseFile();
    }
  }

  /** Bytes posted to the worker that it has not settled yet (read from its shared counter). */
  private workerBytes(): number {
    const state = this.exitState;
    if (!state || this.postedHead === this.postedEnds.length) return this.inWorkerBytes;
    const settled = Atomics.load(state, EXIT_SETTLED);
    while (this.postedHead < this.postedEnds.length && ((settled - this.postedEnds[this.postedHead]) | 0) >= 0) {
      this.inWorkerBytes -= this.postedBytes[this.postedHead];
      this.postedHead += 1;
    }
    if (this.postedHead > 1024 && this.postedHead * 2 > this.postedEnds.length) {
      this.postedEnds = this.postedEnds.slice(this.postedHead);
      this.postedBytes = this.postedBytes.slice(this.postedHead);
      this.postedHead = 0;
    }
    return this.inWorkerBytes;
  }

  private queued(): number {
    return this.pending.length + this.sent - this.remote.received + this.remote.queued;
  }

  /** Posts the pending spans; `now` starts a worker even inside the restart delay (flush, shutdown). */
  private send(now = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const worker = this.ensureWorker(now);
    if (!worker) {
      this.timer = setTimeout(() => this.send(), Math.max(0, this.restartAt - Date.now())).unref();
      return;
    }
    const spans = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const message: ToWorker = { t: 'spans', spans: `[${spans.join(',')}]`, count: spans.length };
    if (this.batchResource !== this.sentResource) {
      message.resource = (this.batchResource?.attributes ?? {}) as Attributes;
      this.sentResource = this.batchResource;
    }
    try {
      worker.postMessage(message);
      this.sent += spans.length;
      this.postedEnds.push(this.sent | 0);
      this.postedBytes.push(bytes);
      this.inWorkerBytes += bytes;
    } catch (err) {
      // A string and the resource's attributes always clone; should posting fail, the spans are counted, not thrown.
      this.droppedHere += spans.length;
      this.sentResource = undefined;
      this.report(`cannot pass ${spans.length} spans to the audit pipeline worker (${(err as Error).message}); dropped`);
    }
  }

  private ensureWorker(now: boolean): Worker | undefined {
    if (this.worker) return this.worker;
    if (!now && Date.now() < this.restartAt) return undefined;
    const script = workerScript();
    try {
      // None of the app's node flags. (Preloads such as `--import auditspan/register` still run in
      // workers; the register entry checks isMainThread and does nothing there.)
      const exitState = new SharedArrayBuffer(EXIT_SLOTS * Int32Array.BYTES_PER_ELEMENT);
      this.worker = new Worker(script.file, { eval: script.eval, workerData: { ...this.config, exitState }, execArgv: [], resourceLimits: workerHeapLimits(this.maxQueueBytes) });
      this.exitState = new Int32Array(exitState);
    } catch (err) {
      this.restartAt = Date.now() + RESTART_DELAY_MS;
      this.report(`cannot start the audit pipeline worker (${(err as Error).message}); retrying`);
      return undefined;
    }
    const worker = this.worker;
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (err) => this.report(`the audit pipeline worker failed: ${err.message}`));
    worker.on('exit', (code) => this.onExit(worker, code));
    // Never keeps the app alive by itself; flush and close hold it (ref) while they wait.
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    if (this.releaseIdle) worker.postMessage({ t: 'release' } satisfies ToWorker);
    return worker;
  }

  private onMessage(message: FromWorker): void {
    switch (message.t) {
      case 'stats': {
        const { t: _t, ...counts } = message;
        this.remote = counts;
        break;
      }
      case 'report':
        this.report(message.message);
        break;
      case 'done': {
        const call = this.calls.get(message.id);
        if (!call) break;
        if (message.error) call.reject(new Error(message.error));
        else call.resolve();
        break;
      }
    }
  }

  /** Folds a finished worker's counts into `earlier`; rows it still held are counted as dropped. */
  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker && this.worker !== undefined) return;
    const lost = this.sent - this.remote.received + this.remote.queued;
    this.earlier.accepted += this.remote.accepted + this.sent - this.remote.received;
    this.earlier.written += this.remote.written;
    this.earlier.dropped += this.remote.dropped + lost;
    this.earlier.failedWrites += this.remote.failedWrites;
    this.remote = { ...ZERO };
    this.sent = 0;
    this.sentResource = undefined;
    this.worker = undefined;
    this.exitState = undefined;
    this.postedEnds = [];
    this.postedBytes = [];
    this.postedHead = 0;
    this.inWorkerBytes = 0;
    if (!this.stopped) {
      this.restartAt = Date.now() + RESTART_DELAY_MS;
      this.report(`the audit pipeline worker stopped (exit code ${code}); ${lost} rows it held are lost; restarting`);
    }
    for (const call of this.calls.values()) call.reject(new Error(`the audit pipeline worker stopped with ${lost} rows unwritten`));
    this.calls.clear();
  }

  /** Asks the worker to flush or close and waits for its answer (holding the process meanwhile). */
  private call(t: 'flush' | 'close', timeoutMs: number): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    const id = ++this.nextCall;
    worker.ref();
    let timer: NodeJS.Timeout | undefined;
    return new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the audit pipeline worker did not answer within ${timeoutMs} ms`)), timeoutMs + ANSWER_GRACE_MS);
      this.calls.set(id, { resolve, reject });
      worker.postMessage({ t, id, timeoutMs } satisfies ToWorker);
    }).finally(() => {
      clearTimeout(timer);
      this.calls.delete(id);
      if (this.calls.size === 0) this.worker?.unref();
    });
  }
}
