export { AuditLogExporter, type AuditLogExporterOptions } from './audit-log-exporter';
export { AuditSpanProcessor } from './audit-span-processor';
export { RecordWriter, type WriterOptions, type WriterStats } from './queue';
export { toSpanInput } from './convert';
export { RedactingSpanExporter } from './redacting-exporter';
export { WorkerSpanProcessor, type WorkerSpanProcessorOptions } from './worker-span-processor';
