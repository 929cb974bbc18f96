import type { Context } from '@opentelemetry/api';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AuditLogExporter, type AuditLogExporterOptions } from './audit-log-exporter';
import type { WriterStats } from './queue';

/**
 * Files every ended HTTP SERVER span as an audit row, whatever its sampling
 * flag. Unlike `BatchSpanProcessor` (2048-span queue, silent drops, sampled
 * spans only) it maps the span at once and hands the row to the exporter's
 * bounded, counted queue.
 */
export class AuditSpanProcessor implements SpanProcessor {
  readonly exporter: AuditLogExporter;

  constructor(options: AuditLogExporterOptions | { exporter: AuditLogExporter }) {
    this.exporter = 'exporter' in options ? options.exporter : new AuditLogExporter(options);
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (span.kind !== SpanKind.SERVER) return;
    try {
      const record = this.exporter.mapSpan(span);
      if (record) this.exporter.addRecords([record]);
    } catch {
      // Telemetry never breaks the app; a span that cannot be mapped is skipped.
    }
  }

  stats(): WriterStats {
    return this.exporter.stats();
  }

  /** See RecordWriter.releaseWhenIdle. */
  releaseWhenIdle(): void {
    this.exporter.releaseWhenIdle();
  }

  forceFlush(timeoutMs?: number): Promise<void> {
    return this.exporter.forceFlush(timeoutMs);
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }
}
