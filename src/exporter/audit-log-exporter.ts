import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createRecordMapper, type RecordMapper, type RecordOptions } from '../record';
import type { AuditRecord } from '../record/types';
import { toSpanInput } from './convert';
import { RecordWriter, type WriterOptions, type WriterStats } from './queue';

export interface AuditLogExporterOptions extends WriterOptions {
  /** Mapping, redaction and body policy options. */
  record?: RecordOptions;
}

/**
 * A `SpanExporter` that files HTTP SERVER spans as audit rows: map → redact →
 * bounded queue → batched writes. `export()` never throws and never waits for
 * the database: it reports success once the rows are accepted into the queue
 * (a queue overflow is counted and reported, not silent).
 */
export class AuditLogExporter implements SpanExporter {
  readonly writer: RecordWriter;
  private readonly map: RecordMapper;
  private stopped = false;

  constructor(options: AuditLogExporterOptions) {
    this.map = createRecordMapper(options.record);
    this.writer = new RecordWriter(options);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('auditspan: exporter is shut down') });
      return;
    }
    try {
      const records: AuditRecord[] = [];
      for (const span of spans) {
        const record = this.map(toSpanInput(span));
        if (record) records.push(record);
      }
      this.writer.add(records);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (err) {
      resultCallback({ code: ExportResultCode.FAILED, error: err as Error });
    }
  }

  /** Queues already-mapped records (used by AuditSpanProcessor). */
  addRecords(records: readonly AuditRecord[]): boolean {
    if (this.stopped) return false;
    this.writer.add(records);
    return true;
  }

  mapSpan(span: ReadableSpan): AuditRecord | null {
    return this.map(toSpanInput(span));
  }

  stats(): WriterStats {
    return this.writer.stats();
  }

  /** Resolves once everything accepted so far is written; rejects after `timeoutMs` (default 30 s). */
  forceFlush(timeoutMs?: number): Promise<void> {
    return this.writer.flush(timeoutMs);
  }

  /** See RecordWriter.releaseWhenIdle. */
  releaseWhenIdle(): void {
    this.writer.releaseWhenIdle();
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.writer.close();
  }
}
