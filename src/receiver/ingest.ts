import { createRecordMapper, nameByRoute, RouteTemplates, type RecordMapper, type RecordOptions } from '../record';
import type { AuditRecord, SpanInput } from '../record/types';
import { StoreUnavailableError } from '../store/errors';
import type { Store } from '../store/types';

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
}

export interface IngestResult {
  accepted: number;
  /** Spans that are not HTTP server spans: not audit rows, not an error. */
  ignored: number;
  duplicates: number;
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

  async ingest(spans: readonly SpanInput[]): Promise<IngestResult> {
    // Once, best effort: the templates already stored name unrouted spans from the first batch.
    await (this.seeded ??= this.options.store.recentEndpoints(20_000).then((e) => this.routes.seed(e), () => undefined));
    const records: AuditRecord[] = [];
    const routed: boolean[] = [];
    for (const span of spans) {
      const record = this.map(span);
      if (record) {
        records.push(record);
        routed.push(typeof span.attributes['http.route'] === 'string');
      }
    }
    nameByRoute(this.routes, records, routed);
    const ignored = spans.length - records.length;
    if (records.length === 0) return { accepted: 0, ignored, duplicates: 0 };
    // One batch is always admitted, however large, so a big batch cannot starve.
    if (this.inFlight > 0 && this.inFlight + records.length > this.maxInFlight) {
      throw new OverloadedError(`${this.inFlight} spans are being written; retry later`);
    }
    this.inFlight += records.length;
    const write = this.options.store.insertBatch(records);
    this.pending.add(write);
    try {
      const result = await write;
      return { accepted: records.length, ignored, duplicates: result.duplicates };
    } catch (err) {
      // Every write failure is retryable from the sender's side: nothing was committed.
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
