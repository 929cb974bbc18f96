import { createRecordMapper, nameByRoute, RouteTemplates, type RecordMapper, type RecordOptions } from '../record';
import type { AuditRecord, SpanInput } from '../record/types';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { diag } from '@opentelemetry/api';
import { StoreUnavailableError } from '../store/errors';
import { insertIsolating, type RejectedRow } from '../store/isolated-write';
import type { Store } from '../store/types';
import type { LimitCounts } from './decode';

/**
 * Mapping yields to the event loop after this long, so that a huge batch never holds it — nor
 * the write transaction in progress, each of whose statements waits for the event loop (10 ms
 * slices left the receiver at 0.8× the spans a second of 2 ms slices).
 */
const MAP_SLICE_MS = 2;

/** Too much work in flight: answered with 503 / UNAVAILABLE so the sender retries later. */
export class OverloadedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OverloadedError';
  }
}

export interface IngestOptions {
  store: Store;
  record?: RecordOptions;
  /** Spans being written at once before new batches get 503. Default 16 384. */
  maxInFlightSpans?: number;
  /**
   * Where failure details go (store and driver messages, which name SQL): the server log, never
   * a sender. Default: OpenTelemetry's diag.warn.
   */
  log?: (entry: Record<string, unknown>) => void;
}

/** A sender's view of rows the database refused: which spans, never SQL or driver text. */
export function rejectedMessage(records: readonly AuditRecord[], rejected: readonly RejectedRow[]): string {
  const first = records[rejected[0].index];
  const n = rejected.length;
  return `${n} span${n === 1 ? '' : 's'} could not be stored (the database refused a value; first: span ${first.spanId} of trace ${first.traceId})`;
}

export const defaultReceiverLog = (entry: Record<string, unknown>): void => diag.warn(`auditspan receiver: ${JSON.stringify(entry)}`);

export interface IngestResult {
  accepted: number;
  /** Spans that are not HTTP server spans: not audit rows, not an error. */
  ignored: number;
  duplicates: number;
  /** Spans the database refused for good: rejected alone, everything else committed. */
  rejected: number;
  /** Why, worded for the sender. */
  rejectMessage?: string;
}

/**
 * decode → map → store, shared by OTLP/HTTP and OTLP/gRPC. Resolves only after
 * the rows are committed, so an acknowledgement always means "stored".
 */
export class IngestPipeline {
  private inFlight = 0;
  private readonly map: RecordMapper;
  private readonly maxInFlight: number;
  private readonly pending = new Set<Promise<unknown>>();
  /** Route templates seen per service: a span without http.route gets its route's name. */
  private readonly routes = new RouteTemplates();
  private seeded: Promise<void> | undefined;

  constructor(private readonly options: IngestOptions) {
    this.map = createRecordMapper(options.record);
    this.maxInFlight = options.maxInFlightSpans ?? 16_384;
  }

  get spansInFlight(): number {
    return this.inFlight;
  }

  /** What the per-span limits cut since start (docs/receiver.md, "Limits"). */
  readonly limited: LimitCounts = { droppedAttributes: 0, truncatedValues: 0, droppedEvents: 0 };
  private lastLimitLog = 0;

  /** Counts what the decoder's per-span limits cut from one request; logged at most once a minute. */
  countLimited(cut: LimitCounts | undefined): void {
    if (!cut) return;
    this.limited.droppedAttributes += cut.droppedAttributes;
    this.limited.truncatedValues += cut.truncatedValues;
    this.limited.droppedEvents += cut.droppedEvents;
    const now = Date.now();
    if (now - this.lastLimitLog < 60_000) return;
    this.lastLimitLog = now;
    (this.options.log ?? defaultReceiverLog)({ level: 'warn', msg: 'span limits applied (totals since start)', ...this.limited });
  }

  /** map + redact, in slices of at most MAP_SLICE_MS between yields to the event loop. */
  private async mapAll(spans: readonly SpanInput[]): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    const routed: boolean[] = [];
    let sliceStart = performance.now();
    for (let i = 0; i < spans.length; i++) {
      const record = this.map(spans[i]);
      if (record) {
        records.push(record);
        routed.push(typeof spans[i].attributes['http.route'] === 'string');
      }
      if ((i & 31) === 31 && performance.now() - sliceStart > MAP_SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
    nameByRoute(this.routes, records, routed);
    return records;
  }

  async ingest(spans: readonly SpanInput[]): Promise<IngestResult> {
    // Once, best effort: the templates already stored name unrouted spans from the first batch.
    await (this.seeded ??= this.options.store.recentEndpoints(20_000).then((e) => this.routes.seed(e), () => undefined));
    const records = await this.mapAll(spans);
    const ignored = spans.length - records.length;
    if (records.length === 0) return { accepted: 0, ignored, duplicates: 0, rejected: 0 };
    // One batch is always admitted, however large, so a big batch cannot starve.
    if (this.inFlight > 0 && this.inFlight + records.length > this.maxInFlight) {
      throw new OverloadedError(`${this.inFlight} spans are being written; retry later`);
    }
    this.inFlight += records.length;
    // Rows the database refuses for good are isolated and rejected alone (insertIsolating).
    const write = insertIsolating(this.options.store, records);
    this.pending.add(write);
    try {
      const result = await write;
      const rejected = result.rejected.length;
      if (rejected > 0) {
        (this.options.log ?? defaultReceiverLog)({ level: 'warn', msg: 'spans refused by the database', rejected, detail: result.rejected[0].detail });
      }
      return {
        accepted: records.length - rejected, ignored, duplicates: result.duplicates, rejected,
        rejectMessage: rejected > 0 ? rejectedMessage(records, result.rejected) : undefined,
      };
    } catch (err) {
      // Anything else is retryable from the sender's side: nothing unacknowledged is lost.
      (this.options.log ?? defaultReceiverLog)({ level: 'warn', msg: 'cannot write spans', error: (err as Error).message });
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError((err as Error).message, { cause: err });
    } finally {
      this.inFlight -= records.length;
      this.pending.delete(write);
    }
  }

  /** Waits for the writes in progress (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
