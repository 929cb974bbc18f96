/**
 * The library API of `auditspan`. The side-effect entry for `node --import auditspan/register`
 * is `./register`; everything a program wires by hand is here.
 *
 * What an instrumented app needs (register, setAuditContext, the processors, the mapping) loads
 * at once. The server side — the store (knex and the database drivers), the OTLP receiver (gRPC,
 * protobuf), the query API and the configuration — loads on first use: an app that only calls
 * `setAuditContext` should not carry it in its heap (measured in the overhead benchmark's app at
 * saturation: ≈ 6 µs more CPU per request on its main thread, ≈ 2 % of its throughput, with
 * everything loaded). From ESM, a named import reads every export and so loads everything;
 * CommonJS `require('auditspan')` stays light.
 */
import type * as ConfigModule from './config';
import type * as QueryApiModule from './query-api';
import type * as ReceiverModule from './receiver';
import type * as StoreModule from './store';

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
export { NotFoundError, StoreUnavailableError, InvalidCursorError, ConflictError, StoreError } from './store/errors';
export type { Store, StoreOptions, StoredLog, LogFilter, LogPage, Stats, Facets, ApiKeyInfo } from './store/types';
export type { OtlpReceiverOptions, RunningReceiver } from './receiver';
export type { HttpAppOptions } from './query-api';
export type { Config } from './config';

// Storage, serving (what `auditspan serve` runs) and configuration: loaded on first use.
export declare const openStore: typeof StoreModule.openStore;
export declare const createStore: typeof StoreModule.createStore;
export declare const SqlStore: typeof StoreModule.SqlStore;
export declare const startOtlpHttpReceiver: typeof ReceiverModule.startOtlpHttpReceiver;
export declare const startOtlpGrpcReceiver: typeof ReceiverModule.startOtlpGrpcReceiver;
export declare const createHttpApp: typeof QueryApiModule.createHttpApp;
export declare const generateApiKey: typeof QueryApiModule.generateApiKey;
export declare const hashApiKey: typeof QueryApiModule.hashApiKey;
export declare const loadConfig: typeof ConfigModule.loadConfig;
export declare const ConfigError: typeof ConfigModule.ConfigError;
export declare const SETTINGS: typeof ConfigModule.SETTINGS;
export type SqlStore = StoreModule.SqlStore;
export type ConfigError = ConfigModule.ConfigError;

/** An object whose first property read loads the module (once). */
function onFirstUse<T extends object>(load: () => T): T {
  let mod: T | undefined;
  return new Proxy({} as T, { get: (_target, name) => (mod ??= load())[name as keyof T] });
}

/* eslint-disable @typescript-eslint/no-require-imports */
const store = onFirstUse(() => require('./store') as typeof StoreModule);
const receiver = onFirstUse(() => require('./receiver') as typeof ReceiverModule);
const queryApi = onFirstUse(() => require('./query-api') as typeof QueryApiModule);
const config = onFirstUse(() => require('./config') as typeof ConfigModule);
/* eslint-enable @typescript-eslint/no-require-imports */

// Spelled out one by one, in the form Node's CommonJS export detection reads, so that
// `import { openStore } from 'auditspan'` works from ESM too.
Object.defineProperty(exports, 'openStore', { enumerable: true, get: function () { return store.openStore; } });
Object.defineProperty(exports, 'createStore', { enumerable: true, get: function () { return store.createStore; } });
Object.defineProperty(exports, 'SqlStore', { enumerable: true, get: function () { return store.SqlStore; } });
Object.defineProperty(exports, 'startOtlpHttpReceiver', { enumerable: true, get: function () { return receiver.startOtlpHttpReceiver; } });
Object.defineProperty(exports, 'startOtlpGrpcReceiver', { enumerable: true, get: function () { return receiver.startOtlpGrpcReceiver; } });
Object.defineProperty(exports, 'createHttpApp', { enumerable: true, get: function () { return queryApi.createHttpApp; } });
Object.defineProperty(exports, 'generateApiKey', { enumerable: true, get: function () { return queryApi.generateApiKey; } });
Object.defineProperty(exports, 'hashApiKey', { enumerable: true, get: function () { return queryApi.hashApiKey; } });
Object.defineProperty(exports, 'loadConfig', { enumerable: true, get: function () { return config.loadConfig; } });
Object.defineProperty(exports, 'ConfigError', { enumerable: true, get: function () { return config.ConfigError; } });
Object.defineProperty(exports, 'SETTINGS', { enumerable: true, get: function () { return config.SETTINGS; } });
