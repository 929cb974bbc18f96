/**
 * Every configuration item auditspan reads, in one table: its environment
 * variable, its CLI flag (where one exists), its default and what it does.
 * The README's configuration reference is checked against this table by a test.
 */
export type SettingKind = 'string' | 'port' | 'int' | 'bool' | 'list' | 'url' | 'secret';

export interface SettingSpec {
  env: string;
  /** Long CLI flag, without the dashes. */
  flag?: string;
  kind: SettingKind;
  /** Default as written in docs; undefined means "unset". */
  default?: string;
  description: string;
  /** Which entry points read it. */
  usedBy: ReadonlyArray<'serve' | 'register' | 'cli'>;
}

export const SETTINGS = {
  db: {
    env: 'AUDITSPAN_DB', flag: 'db', kind: 'string', default: './auditspan.db',
    description: 'SQLite file path, or a postgres:// URL for PostgreSQL. For `--import auditspan/register`, `off` writes nothing locally and only forwards spans (to OTEL_EXPORTER_OTLP_ENDPOINT).',
    usedBy: ['serve', 'register', 'cli'],
  },
  host: {
    env: 'AUDITSPAN_HOST', flag: 'host', kind: 'string', default: '127.0.0.1',
    description: 'Address the UI/query API and OTLP listeners bind to. A non-loopback host needs AUDITSPAN_ADMIN_KEY or a viewer key.',
    usedBy: ['serve'],
  },
  port: {
    env: 'AUDITSPAN_PORT', flag: 'port', kind: 'port', default: '8080',
    description: 'Port of the web UI, the query API, /healthz and /readyz.',
    usedBy: ['serve'],
  },
  otlpPort: {
    env: 'AUDITSPAN_OTLP_PORT', flag: 'otlp-port', kind: 'port', default: '4318',
    description: 'OTLP/HTTP receiver port (POST /v1/traces). 0 picks a free port.',
    usedBy: ['serve'],
  },
  otlpGrpcPort: {
    env: 'AUDITSPAN_OTLP_GRPC_PORT', flag: 'otlp-grpc-port', kind: 'port', default: '4317',
    description: 'OTLP/gRPC receiver port (TraceService/Export).',
    usedBy: ['serve'],
  },
  ingestToken: {
    env: 'AUDITSPAN_INGEST_TOKEN', flag: 'ingest-token', kind: 'secret',
    description: 'When set, OTLP requests must carry Authorization: Bearer <token>.',
    usedBy: ['serve'],
  },
  adminKey: {
    env: 'AUDITSPAN_ADMIN_KEY', flag: 'admin-key', kind: 'secret',
    description: 'Query API key that sees every company.',
    usedBy: ['serve'],
  },
  retentionDays: {
    env: 'AUDITSPAN_RETENTION_DAYS', flag: 'retention-days', kind: 'int',
    description: 'Delete rows older than this many days, hourly. Unset keeps everything.',
    usedBy: ['serve'],
  },
  maxBodyBytes: {
    env: 'AUDITSPAN_MAX_BODY_BYTES', flag: 'max-body-bytes', kind: 'int', default: '16777216',
    description: 'Largest OTLP request accepted, after decompression (413 above).',
    usedBy: ['serve'],
  },
  traceUrlTemplate: {
    env: 'AUDITSPAN_TRACE_URL_TEMPLATE', flag: 'trace-url-template', kind: 'string',
    default: 'http://localhost:16686/trace/{traceId}',
    description: 'Link from a log to its trace in Jaeger or Grafana; {traceId} and {spanId} are substituted.',
    usedBy: ['serve'],
  },
  maxPayloadBytes: {
    env: 'AUDITSPAN_MAX_PAYLOAD_BYTES', kind: 'int', default: '16384',
    description: 'Request/response payloads are cut at this size and marked truncated.',
    usedBy: ['serve', 'register'],
  },
  redactKeys: {
    env: 'AUDITSPAN_REDACT_KEYS', kind: 'list',
    description: 'Extra key names to redact (comma-separated), on top of the defaults.',
    usedBy: ['serve', 'register'],
  },
  ignorePaths: {
    env: 'AUDITSPAN_IGNORE_PATHS', kind: 'list', default: '/healthz,/readyz,/livez,/health,/favicon.ico',
    description: 'Request paths that are not recorded (comma-separated).',
    usedBy: ['register'],
  },
  trustProxy: {
    env: 'AUDITSPAN_TRUST_PROXY', kind: 'bool', default: 'false',
    description: 'Take the client IP from Forwarded / X-Forwarded-For (only behind a proxy you run).',
    usedBy: ['register'],
  },
  linkBaseUrl: {
    env: 'AUDITSPAN_LINK_BASE_URL', kind: 'url',
    description: 'When set, every response gets X-Request-Log-Url: <base>/logs/<id>, a link to its audit entry in the UI.',
    usedBy: ['register'],
  },
  forwardEndpoint: {
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT', kind: 'url',
    description: 'Also send the spans over OTLP/HTTP to this collector, Jaeger or Tempo (standard OpenTelemetry variable; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT also works).',
    usedBy: ['register'],
  },
  serviceName: {
    env: 'OTEL_SERVICE_NAME', kind: 'string',
    description: 'Service name recorded on each row (standard OpenTelemetry variable).',
    usedBy: ['register'],
  },
  exitTimeoutMs: {
    env: 'AUDITSPAN_EXIT_TIMEOUT_MS', kind: 'int', default: '5000',
    description: 'How long an exiting process (process.exit(), an uncaught exception, SIGTERM/SIGINT) may be held while the rows of requests it already answered are written. Rows still unwritten then are counted on one stderr line.',
    usedBy: ['register'],
  },
  maxQueueBytes: {
    env: 'AUDITSPAN_MAX_QUEUE_BYTES', kind: 'int', default: '67108864',
    description: 'Bytes of span data (mostly captured bodies) the in-process pipeline holds while the database is slow or down; a request beyond it is dropped, counted and reported. 64 MiB by default.',
    usedBy: ['register'],
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
