import type { AuditRecord } from '../record/types';

/** A stored audit row as the query API returns it. */
export interface StoredLog extends AuditRecord {
  /** Public id: `<timestampUs>-<spanId>` (src/record/log-id.ts). */
  id: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  updatedAt: string;
}

/** Filters shared by logs, stats, facets and export. All optional, all combined with AND. */
export interface LogFilter {
  /** Inclusive lower bound, epoch milliseconds. */
  from?: number;
  /** Exclusive upper bound, epoch milliseconds. */
  to?: number;
  endpoints?: string[];
  methods?: string[];
  /** Status classes as their leading digit: 2 for `2xx`, 5 for `5xx`. */
  statusClasses?: number[];
  /** Exact status codes; OR-ed with `statusClasses`. */
  statusCodes?: number[];
  tokens?: string[];
  /** Resource `service.name` values (a collector may feed many services into one store). */
  services?: string[];
  /** Case-insensitive substring of the URL or the error message. */
  q?: string;
  minLatencyMs?: number;
  maxLatencyMs?: number;
  /** Tenancy scope; applied in SQL. Undefined means every company (admin). */
  companyId?: string;
}

export interface ListOptions {
  /** 1-500. */
  limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface LogPage {
  data: StoredLog[];
  nextCursor: string | null;
}

export interface StatsOptions {
  /** Time-series bucket width in ms; chosen from the range when absent. */
  bucketMs?: number;
}

export interface StatusClassCounts {
  '1xx': number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
}

export interface Stats {
  total: number;
  byStatusClass: StatusClassCounts;
  /** Share of 5xx and 4xx responses, 0..1. */
  errorRate: number;
  latency: { p50: number | null; p95: number | null; p99: number | null };
  bucketMs: number;
  /** Oldest first; `t` is the bucket start in ISO 8601. */
  series: Array<{ t: string; total: number; p50: number | null; p95: number | null } & StatusClassCounts>;
  /** Busiest endpoints first. */
  endpoints: Array<{ endpoint: string; count: number; errorRate: number; p95: number | null }>;
}

export interface Facets {
  endpoints: string[];
  tokens: string[];
  methods: string[];
  statuses: number[];
  /** Services seen (resource `service.name`). */
  services: string[];
}

/** One endpoint's figures over one window (`GET /api/endpoints`; src/store/endpoints.ts). */
export interface EndpointFigures {
  endpoint: string;
  method: string;
  count: number;
  /** Share of 4xx and 5xx responses, 0..1. */
  errorRate: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** ISO 8601 UTC time of the newest matching request. */
  lastSeen: string;
  /** Requests per equal slice of the window, oldest first (only when asked for and the window is bounded). */
  sparkline?: number[];
}

export interface EndpointSummaryOptions {
  /** Split the window [filter.from, filter.to) into this many slices and count each (sparklines). */
  sparkBuckets?: number;
}

export interface ApiKeyInfo {
  id: number;
  name: string;
  /** Null for an admin key that sees every company. */
  companyId: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface InsertResult {
  inserted: number;
  /** Rows skipped because the span (start time, span id, trace id) was already stored. */
  duplicates: number;
}

export type ViewKind = 'view' | 'export';

export interface LogView {
  /** The log opened; null for an export. */
  logId: string | null;
  keyName: string;
  companyId: string | null;
  /** Default `view`. */
  kind?: ViewKind;
  /** For an export: its filters as a query string (`status=5xx&format=csv`). */
  filters?: string | null;
}

export interface ViewRecord {
  id: number;
  kind: ViewKind;
  logId: string | null;
  keyName: string;
  companyId: string | null;
  filters: string | null;
  viewedAt: string;
}

/** Filters of the audit of the audit log (`GET /api/views`). */
export interface ViewFilter {
  from?: number;
  to?: number;
  keyNames?: string[];
  /** Company of the key that viewed (null matches admin keys). */
  companyId?: string;
  kinds?: ViewKind[];
  logId?: string;
}

export interface ViewPage {
  data: ViewRecord[];
  nextCursor: string | null;
}

/**
 * Everything auditspan persists goes through this interface. The store owns all
 * SQL; callers never see Knex. Failures surface as the named errors in `errors.ts`.
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Applies pending migrations. Idempotent. */
  migrate(): Promise<void>;
  /** Resolves when the database answers; throws StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Writes a batch in one transaction; duplicates (the same span again) are skipped. */
  insertBatch(records: readonly AuditRecord[]): Promise<InsertResult>;
  listLogs(filter: LogFilter, options: ListOptions): Promise<LogPage>;
  /** Throws NotFoundError when absent or outside `companyId`. */
  getLog(id: string, companyId?: string): Promise<StoredLog>;
  stats(filter: LogFilter, options?: StatsOptions): Promise<Stats>;
  facets(filter: LogFilter): Promise<Facets>;
  /**
   * Per endpoint and method over the filter's window: count, error rate, p50/p95/p99, last
   * seen; busiest first. One window only: the API asks again for the previous one. From the
   * rollups unless the filter has text or latency bounds (percentiles then within ±9.05 %).
   */
  endpointSummary(filter: LogFilter, options?: EndpointSummaryOptions): Promise<EndpointFigures[]>;
  /** Every matching row newest first, fetched in pages: constant memory. */
  exportLogs(filter: LogFilter): AsyncIterable<StoredLog>;
  /** Deletes rows older than `cutoffMs` in batches; returns the number deleted. */
  purgeOlderThan(cutoffMs: number, options?: { batchSize?: number }): Promise<number>;
  countLogs(filter: LogFilter): Promise<number>;
  /** Distinct (service, endpoint) pairs of the newest `rows` rows (seeds the route-template matcher). */
  recentEndpoints(rows: number): Promise<Array<{ service: string | null; endpoint: string }>>;

  createApiKey(key: { name: string; companyId: string | null; hash: string }): Promise<ApiKeyInfo>;
  listApiKeys(): Promise<ApiKeyInfo[]>;
  /** Revokes by name or numeric id; throws NotFoundError when absent. */
  revokeApiKey(nameOrId: string): Promise<ApiKeyInfo>;
  /** Active (not revoked) key with this hash, or null. */
  findApiKeyByHash(hash: string): Promise<ApiKeyInfo | null>;
  touchApiKey(id: number): Promise<void>;
  /** Every active key with its hash (the query API keeps them in memory: a key check never waits on the database). */
  listActiveApiKeyHashes(): Promise<Array<ApiKeyInfo & { hash: string }>>;
  /** A server secret kept in the database (created once, at random, on first use); `rotate` replaces it. */
  serverSecret(name: string, options?: { rotate?: boolean }): Promise<string>;
  recordView(view: LogView): Promise<void>;
  listViews(logId: string): Promise<Array<LogView & { viewedAt: string }>>;
  /** Views and exports, newest first, keyset-paginated. */
  queryViews(filter: ViewFilter, options: ListOptions): Promise<ViewPage>;

  close(): Promise<void>;
}

export interface StoreOptions {
  /**
   * `postgres://…` / `postgresql://…` for PostgreSQL; anything else is a SQLite file
   * path (optionally prefixed `sqlite:`). Default `./auditspan.db`.
   */
  url?: string;
  /** PostgreSQL pool size. Default 10. */
  poolSize?: number;
  /**
   * SQLite driver. `sqlite3` (default) runs statements on libuv's thread pool; `better-sqlite3`
   * writes faster (1.4× into the fully indexed table) but blocks the calling thread for every
   * statement, so auditspan uses it only on its pipeline worker thread, never on an app's or
   * the server's request thread.
   */
  sqliteDriver?: SqliteDriver;
  /**
   * SQLite `synchronous` mode (docs/receiver.md, "What an acknowledgement guarantees"). `normal`
   * (default): a committed batch survives a crash of the process, but the last commits may be
   * lost on a power failure or OS crash. `full`: fsync at every commit, so they survive that too.
   */
  sqliteSynchronous?: SqliteSynchronous;

  /**
   * SQLite page cache of each connection, in MiB (default 32). Past a few million rows, the
   * merges of the search indexes (FTS5) re-read the newest part of those indexes: a larger
   * cache keeps more of them in memory (256 MiB: 1.18× the write rate at 10 M rows; docs/storage.md).
   */
  sqliteCacheMb?: number;

  /**
   * PostgreSQL: width of the time partitions of `logs` created from now on, in hours. Default 24
   * (a partition per UTC day). Existing partitions keep their bounds; new ones fill the gaps.
   */
  partitionHours?: number;
}

export type SqliteSynchronous = 'normal' | 'full';

export type SqliteDriver = 'sqlite3' | 'better-sqlite3';
