/**
 * The library API of `auditspan`. The side-effect entry for `node --import auditspan/register`
 * is `./register`; everything a program wires by hand is here.
 */
// Instrument a service in process.
export { register, setAuditContext, AuditSampler, DEFAULT_IGNORE_PATHS } from './instrumentation';
export type { RegisterOptions, AuditHandle, AuditContext } from './instrumentation';
// Pieces for an existing OpenTelemetry setup (NodeSDK, a custom provider).
export { AuditLogExporter, AuditSpanProcessor, RedactingSpanExporter, RecordWriter, WorkerSpanProcessor, toSpanInput } from './exporter';
export type { AuditLogExporterOptions, WriterOptions, WriterStats } from './exporter';
// The one span → record mapping and its redaction.
export { toAuditRecord, createRecordMapper, createRedactor, DEFAULT_SECRET_KEYS, DEFAULT_VALUE_PATTERNS, REDACTED } from './record';
export type { RecordOptions, RecordMapper, Redactor, RedactionOptions, ValuePattern } from './record';
export type { SpanInput, AuditRecord, Attributes, AttributeValue } from './record/types';
// Storage.
export { openStore, createStore, SqlStore } from './store';
export type { Store, StoreOptions, StoredLog, LogFilter, LogPage, Stats, Facets, ApiKeyInfo } from './store/types';
export { NotFoundError, StoreUnavailableError, InvalidCursorError, ConflictError, StoreError } from './store/errors';
// Serving: the OTLP receiver and the query API + UI (what `auditspan serve` runs).
export { startOtlpHttpReceiver, startOtlpGrpcReceiver } from './receiver';
export type { OtlpReceiverOptions, RunningReceiver } from './receiver';
export { createHttpApp, generateApiKey, hashApiKey } from './query-api';
export type { HttpAppOptions } from './query-api';
export { loadConfig, ConfigError, SETTINGS, type Config } from './config';
