/**
 * Every configuration item auditspan reads, in one table: its environment
 * variable, its CLI flag (where one exists), its default and what it does.
 * The README's configuration reference is checked against this table by a test.
 */
import { DEFAULT_SQLITE_CACHE_MB, MAX_SQLITE_CACHE_MB } from '../store/sqlite-cache';

export type SettingKind = 'string' | 'port' | 'int' | 'bool' | 'list' | 'url' | 'secret';

export interface SettingSpec {
  env: string;
  /** Long CLI flag, without the dashes. */
  flag?: string;
  kind: SettingKind;
  /** Default as written in docs; undefined means "unset". */
  default?: string;
  description: string;
  /** The only values accepted (kind `string`), lowercase. */
  values?: readonly string[];
  /** The largest value accepted (kind `int`). */
  max?: number;
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
    description: 'When set, OTLP requests must carry Authorization: Bearer <token>. At least 32 random characters (a weak token is refused).',
    usedBy: ['serve'],
  },
  ingestTokenFile: {
    env: 'AUDITSPAN_INGEST_TOKEN_FILE', flag: 'ingest-token-file', kind: 'string',
    description: 'File holding the ingest token (trailing newline ignored): keeps it out of `ps` and shell history. Excludes AUDITSPAN_INGEST_TOKEN.',
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
    description: 'Link from a log to its trace in Jaeger or Grafana, e.g. http://localhost:16686/trace/{traceId}; {traceId} and {spanId} are substituted. Unset: no trace link.',
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
    description: 'Take the client IP from Forwarded / X-Forwarded-For (only behind a proxy you run). For serve: the address the nearest proxy saw (the last X-Forwarded-For entry) counts failed key attempts.',
    usedBy: ['register', 'serve'],
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
  otlpMaxInflightBytes: {
    env: 'AUDITSPAN_OTLP_MAX_INFLIGHT_BYTES', flag: 'otlp-max-inflight-bytes', kind: 'int', default: '67108864',
    description: 'Request bytes the OTLP receivers hold at once (HTTP and gRPC together); beyond it new uploads get 429 + Retry-After before they are read.',
    usedBy: ['serve'],
  },
  otlpMaxSpanAttributes: {
    env: 'AUDITSPAN_OTLP_MAX_SPAN_ATTRIBUTES', kind: 'int', default: '128',
    description: 'Attributes kept per received span, event and resource (and entries per array or kvlist value); the rest are dropped and counted.',
    usedBy: ['serve'],
  },
  otlpMaxAttributeLength: {
    env: 'AUDITSPAN_OTLP_MAX_ATTRIBUTE_LENGTH', kind: 'int', default: '65536',
    description: 'Characters kept of a received string attribute (never less than 4 × AUDITSPAN_MAX_PAYLOAD_BYTES); longer values are cut and counted.',
    usedBy: ['serve'],
  },
  otlpMaxSpanEvents: {
    env: 'AUDITSPAN_OTLP_MAX_SPAN_EVENTS', kind: 'int', default: '128',
    description: 'Events kept per received span; the rest are dropped and counted.',
    usedBy: ['serve'],
  },
  sqliteSynchronous: {
    env: 'AUDITSPAN_SQLITE_SYNCHRONOUS', flag: 'sqlite-synchronous', kind: 'string', default: 'normal', values: ['normal', 'full'],
    description: 'SQLite durability: `normal` keeps an acknowledged batch across a process crash; `full` also across a power loss or OS crash (an fsync per commit). PostgreSQL follows its server\'s synchronous_commit.',
    usedBy: ['serve', 'register'],
  },
  sqliteCacheMb: {
    env: 'AUDITSPAN_SQLITE_CACHE_MB', flag: 'sqlite-cache-mb', kind: 'int', default: String(DEFAULT_SQLITE_CACHE_MB), max: MAX_SQLITE_CACHE_MB,
    description: `SQLite page cache of the server's connection, in MiB. Past a few million rows, a larger cache lets the search indexes' merges read from memory: 256 gave 1.18× the write rate at 10 M rows (docs/storage.md#sqlite-at-tens-of-millions-of-rows). At most ${MAX_SQLITE_CACHE_MB} (1 TiB).`,
    usedBy: ['serve'],
  },
  partitionHours: {
    env: 'AUDITSPAN_PARTITION_HOURS', kind: 'int', default: '24',
    description: 'PostgreSQL: width of the time partitions of the logs table created from now on, in hours (24: one per UTC day). Retention drops whole partitions.',
    usedBy: ['serve', 'cli'],
  },
  adminKeyFile: {
    env: 'AUDITSPAN_ADMIN_KEY_FILE', flag: 'admin-key-file', kind: 'string',
    description: 'File holding the admin key (trailing newline ignored): keeps it out of `ps` and shell history. Excludes AUDITSPAN_ADMIN_KEY.',
    usedBy: ['serve'],
  },
  linkSecret: {
    env: 'AUDITSPAN_LINK_SECRET', kind: 'secret',
    description: 'HMAC secret that signs customer view links and the UI\'s export download links, at least 32 random characters (a weak one is refused). Unset: one is generated once and kept in the database. Changing it revokes every link.',
    usedBy: ['serve', 'cli'],
  },
  publicUrl: {
    env: 'AUDITSPAN_PUBLIC_URL', flag: 'public-url', kind: 'url',
    description: 'Base URL customers reach the UI at, used in view links (POST /api/links, `auditspan links create`). Unset: the request\'s own host (serve), http://127.0.0.1:8080 (CLI).',
    usedBy: ['serve', 'cli'],
  },
  frameAncestors: {
    env: 'AUDITSPAN_FRAME_ANCESTORS', kind: 'list',
    description: 'Origins allowed to embed the UI in a frame (CSP frame-ancestors), comma-separated, e.g. https://dashboard.example.com. Unset: not frameable.',
    usedBy: ['serve'],
  },
  brandTitle: {
    env: 'AUDITSPAN_BRAND_TITLE', kind: 'string',
    description: 'Title shown on customer views opened from a view link.',
    usedBy: ['serve'],
  },
  brandLogoUrl: {
    env: 'AUDITSPAN_BRAND_LOGO_URL', kind: 'url',
    description: 'Logo (http(s) image URL) shown on customer views; its origin is added to the CSP img-src.',
    usedBy: ['serve'],
  },
  brandAccentColor: {
    env: 'AUDITSPAN_BRAND_ACCENT_COLOR', kind: 'string',
    description: 'Accent colour of customer views, #rgb or #rrggbb.',
    usedBy: ['serve'],
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
