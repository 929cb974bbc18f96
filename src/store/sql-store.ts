import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { AuditRecord } from '../record/types';
import { createKnex, type Dialect, type ParsedDbUrl } from './connect';
import { classifyDriverError, ConflictError, NotFoundError, StoreError, StoreRejectedError, StoreUnavailableError } from './errors';
import { applyFilter } from './filter';
import { LEGACY_ID_MAX, META_TABLE, MIGRATION_CONFIG } from './migrations';
import { claimSqliteFile } from './sqlite-files';
import { parseLogId } from '../record/log-id';
import { aheadTimestamps, DEFAULT_PARTITION_HOURS, ensurePartitions, HOUR_US, isPartitioned, PartitionCache } from './partitions';
import { purgeOlderThan } from './retention';
import { fromRow, keyFromRow, type KeyRow, type LogRow } from './rows';
import { computeStats } from './stats';
import { endpointSummary } from './endpoints';
import { queryViews, viewRow } from './views';
import { rebuildRollups } from './rollups';
import { rollupFacets, rollupStats, rollupsServe } from './rollup-reads';
import { explainListLogs, listLogs } from './reads';
import { insertBetterSqlite, insertWithKnex } from './writes';
import type {
  ApiKeyInfo, EndpointFigures, EndpointSummaryOptions, Facets, InsertResult, ListOptions, LogFilter, LogPage, LogView,
  Stats, StatsOptions, Store, StoredLog, StoreOptions, ViewFilter, ViewPage,
} from './types';

const EXPORT_PAGE = 1000;

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const message = (e?.message ?? String(err)).split('\n')[0];
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** Maps driver errors to the store's named errors, with one readable line. */
export function toStoreError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const kind = classifyDriverError(err);
  const message = `${what}: ${describe(err)}`;
  if (kind === 'outage') return new StoreUnavailableError(message, { cause: err });
  return kind === 'rejected' ? new StoreRejectedError(message, { cause: err }) : new StoreError(message, { cause: err });
}

export class SqlStore implements Store {
  readonly dialect: Dialect;
  private readonly knex: Knex;
  private closed = false;
  private readonly preparedInserts: boolean;
  private readonly releaseFile: () => void;
  /** See legacyIdMax(). */
  private legacyMax: Promise<number | null> | undefined;
  /** PostgreSQL: partition width in µs; `partitions` is set once migrate() found `logs` partitioned. */
  private readonly partitionUs: number;
  private partitions: PartitionCache | undefined;

  constructor(parsed: ParsedDbUrl, options: Omit<StoreOptions, 'url'> = {}) {
    const { sqliteDriver = 'sqlite3', partitionHours = DEFAULT_PARTITION_HOURS } = options;
    if (!Number.isSafeInteger(partitionHours) || partitionHours < 1) {
      throw new StoreError(`partitionHours: ${partitionHours} is not a positive whole number of hours`);
    }
    this.partitionUs = partitionHours * HOUR_US;
    this.dialect = parsed.dialect;
    this.releaseFile = parsed.dialect === 'sqlite' ? claimSqliteFile(parsed.target, sqliteDriver) : () => {};
    try {
      this.knex = createKnex(parsed, options);
    } catch (err) {
      this.releaseFile();
      throw err;
    }
    this.preparedInserts = parsed.dialect === 'sqlite' && sqliteDriver === 'better-sqlite3';
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError(`${what}: the store is closed`);
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  migrate(): Promise<void> {
    return this.run('migrating the database', async () => {
      await this.knex.migrate.latest(MIGRATION_CONFIG);
      this.partitions = undefined;
      if (this.dialect === 'postgres' && (await isPartitioned(this.knex))) {
        this.partitions = new PartitionCache(this.knex, this.partitionUs);
        await ensurePartitions(this.knex, aheadTimestamps(Date.now(), this.partitionUs), this.partitionUs);
      }
    });
  }

  /**
   * PostgreSQL: creates the current partition and the next ones where missing (`serve` calls it
   * hourly; migrate() at start). A no-op elsewhere.
   */
  maintainPartitions(nowMs = Date.now()): Promise<void> {
    return this.run('creating partitions', async () => {
      if (this.partitions) await ensurePartitions(this.knex, aheadTimestamps(nowMs, this.partitionUs), this.partitionUs);
    });
  }

  /** Reverts every migration (tests of the down path). */
  rollbackAll(): Promise<void> {
    return this.run('rolling back migrations', async () => {
      await this.knex.migrate.rollback(MIGRATION_CONFIG, true);
      this.partitions = undefined;
    });
  }

  /**
   * What a committed write survives, as the database is configured right now: SQLite's
   * `synchronous` mode of this store's connection, or PostgreSQL's `synchronous_commit`.
   */
  durability(): Promise<string> {
    return this.run('reading the durability settings', async () => {
      if (this.dialect === 'postgres') {
        const result = (await this.knex.raw('show synchronous_commit')) as { rows: Array<{ synchronous_commit: string }> };
        return `postgres synchronous_commit=${result.rows[0].synchronous_commit}`;
      }
      const rows = (await this.knex.raw('pragma synchronous')) as Array<{ synchronous: number }>;
      return `sqlite synchronous=${['off', 'normal', 'full', 'extra'][rows[0].synchronous] ?? String(rows[0].synchronous)}`;
    });
  }

  ping(): Promise<void> {
    return this.run('reaching the database', async () => {
      await this.knex.raw('select 1');
    });
  }

  insertBatch(records: readonly AuditRecord[]): Promise<InsertResult> {
    if (records.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
    if (this.preparedInserts) return this.run('writing audit rows', () => insertBetterSqlite(this.knex, records));
    return this.run('writing audit rows', () => insertWithKnex(this.knex, this.dialect, this.partitions, records));
  }

  listLogs(filter: LogFilter, options: ListOptions): Promise<LogPage> {
    return this.run('listing logs', () => listLogs(this.knex, this.dialect, filter, options));
  }

  async getLog(id: string, companyId?: string): Promise<StoredLog> {
    const parts = parseLogId(id);
    if (!parts) throw new NotFoundError(`no log with id ${JSON.stringify(id.slice(0, 80))}`);
    const row = await this.run('reading a log', async () => {
      const query = this.knex('logs').modify((qb) => {
        if (companyId !== undefined) qb.where('company_id', companyId);
      });
      if (parts.kind === 'time') return query.where({ ts_us: parts.timestampUs, span_id: parts.spanId }).first() as Promise<LogRow | undefined>;
      // An id of the first format: only rows stored before migration 004 have one.
      const legacyMax = await this.legacyIdMax();
      if (legacyMax === null) return undefined;
      // The bound is written out (an integer read from our own table) so that the planner
      // matches it with the partial index's predicate.
      return query.where({ trace_id: parts.traceId, span_id: parts.spanId }).whereRaw(`id <= ${legacyMax}`).first() as Promise<LogRow | undefined>;
    });
    // Outside the caller's company reads exactly like absent: existence is never revealed.
    if (!row) throw new NotFoundError(`no log with id ${id}`);
    return fromRow(row);
  }

  /** The highest row id that also resolves by `<trace_id>-<span_id>` (read once). */
  private legacyIdMax(): Promise<number | null> {
    this.legacyMax ??= (this.knex(META_TABLE).where({ name: LEGACY_ID_MAX }).first('value') as Promise<{ value: string } | undefined>)
      .then((row) => (row && Number.isSafeInteger(Number(row.value)) ? Number(row.value) : null))
      .catch((err: unknown) => {
        this.legacyMax = undefined;
        throw err;
      });
    return this.legacyMax;
  }

  /**
   * From the rollups (exact counts, percentiles within 9.05 %) unless the filter has text or
   * latency bounds, which the rollups do not carry: then from the rows (stats.ts).
   */
  stats(filter: LogFilter, options: StatsOptions = {}): Promise<Stats> {
    return this.run('computing stats', () =>
      rollupsServe(filter) ? rollupStats(this.knex, this.dialect, filter, options.bucketMs) : computeStats(this.knex, this.dialect, filter, options.bucketMs));
  }

  facets(filter: LogFilter): Promise<Facets> {
    return this.run('reading facets', () => rollupFacets(this.knex, this.dialect, filter));
  }

  /** Recomputes every rollup row from the rows (after a bulk load that bypassed insertBatch). */
  rebuildRollups(): Promise<number> {
    return this.run('rebuilding rollups', () => rebuildRollups(this.knex, this.dialect));
  }

  endpointSummary(filter: LogFilter, options: EndpointSummaryOptions = {}): Promise<EndpointFigures[]> {
    return this.run('summarising endpoints', () => endpointSummary(this.knex, this.dialect, filter, options));
  }

  async *exportLogs(filter: LogFilter): AsyncIterable<StoredLog> {
    let cursor: string | undefined;
    do {
      const page = await this.listLogs(filter, { limit: EXPORT_PAGE > 500 ? 500 : EXPORT_PAGE, cursor });
      for (const log of page.data) yield log;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  countLogs(filter: LogFilter): Promise<number> {
    return this.run('counting logs', async () => {
      const row = await this.knex('logs').modify(applyFilter(this.dialect, filter)).count('* as n').first();
      return Number(row?.n ?? 0);
    });
  }

  recentEndpoints(rows: number): Promise<Array<{ service: string | null; endpoint: string }>> {
    return this.run('reading recent endpoints', async () => {
      // Newest first from the (ts_us, id) order, like facets: the cost does not grow with the table.
      const recent = this.knex('logs')
        .select('service', 'endpoint')
        .orderBy([{ column: 'ts_us', order: 'desc' }, { column: 'id', order: 'desc' }])
        .limit(rows)
        .as('recent');
      const found = (await this.knex.from(recent).distinct('service', 'endpoint')) as Array<{ service: string | null; endpoint: string }>;
      return found.map((r) => ({ service: r.service ?? null, endpoint: String(r.endpoint) }));
    });
  }

  purgeOlderThan(cutoffMs: number, options: { batchSize?: number } = {}): Promise<number> {
    return this.run('purging old logs', async () => {
      const removed = await purgeOlderThan(this.knex, this.dialect, Math.floor(cutoffMs * 1000), options.batchSize ?? 2000);
      // A dropped partition is no longer there to write into.
      this.partitions?.forget();
      return removed;
    });
  }

  createApiKey(key: { name: string; companyId: string | null; hash: string }): Promise<ApiKeyInfo> {
    return this.run('creating an API key', async () => {
      const existing = await this.knex('api_keys').where('name', key.name).first();
      if (existing) throw new ConflictError(`an API key named "${key.name}" already exists`);
      await this.knex('api_keys').insert({ name: key.name, company_id: key.companyId, key_hash: key.hash, created_at: Date.now() });
      const row = (await this.knex('api_keys').where('name', key.name).first()) as KeyRow;
      return keyFromRow(row);
    });
  }

  listApiKeys(): Promise<ApiKeyInfo[]> {
    return this.run('listing API keys', async () =>
      ((await this.knex('api_keys').select('id', 'name', 'company_id', 'created_at', 'last_used_at', 'revoked_at').orderBy('id')) as KeyRow[]).map(keyFromRow),
    );
  }

  revokeApiKey(nameOrId: string): Promise<ApiKeyInfo> {
    return this.run('revoking an API key', async () => {
      const query = this.knex('api_keys').where('name', nameOrId);
      if (/^\d{1,9}$/.test(nameOrId)) query.orWhere('id', Number(nameOrId));
      const row = (await query.first()) as KeyRow | undefined;
      if (!row) throw new NotFoundError(`no API key named "${nameOrId}"`);
      if (row.revoked_at === null) await this.knex('api_keys').where('id', row.id).update({ revoked_at: Date.now() });
      return keyFromRow((await this.knex('api_keys').where('id', row.id).first()) as KeyRow);
    });
  }

  findApiKeyByHash(hash: string): Promise<ApiKeyInfo | null> {
    return this.run('checking an API key', async () => {
      const row = (await this.knex('api_keys').where('key_hash', hash).whereNull('revoked_at').first()) as KeyRow | undefined;
      return row ? keyFromRow(row) : null;
    });
  }

  listActiveApiKeyHashes(): Promise<Array<ApiKeyInfo & { hash: string }>> {
    return this.run('listing API keys', async () =>
      ((await this.knex('api_keys').whereNull('revoked_at').orderBy('id')) as Array<KeyRow & { key_hash: string }>).map((row) => ({
        ...keyFromRow(row),
        hash: row.key_hash,
      })),
    );
  }

  serverSecret(name: string, options: { rotate?: boolean } = {}): Promise<string> {
    return this.run('reading a server secret', async () => {
      const metaName = `secret:${name}`;
      const fresh = randomBytes(32).toString('base64url');
      if (options.rotate) {
        await this.knex(META_TABLE).insert({ name: metaName, value: fresh }).onConflict('name').merge();
        return fresh;
      }
      // Two processes starting at once agree on the first value written.
      await this.knex(META_TABLE).insert({ name: metaName, value: fresh }).onConflict('name').ignore();
      const row = (await this.knex(META_TABLE).where({ name: metaName }).first('value')) as { value: string };
      return row.value;
    });
  }

  touchApiKey(id: number): Promise<void> {
    return this.run('recording key use', async () => {
      await this.knex('api_keys').where('id', id).update({ last_used_at: Date.now() });
    });
  }

  recordView(view: LogView): Promise<void> {
    return this.run('recording a log view', async () => {
      await this.knex('log_views').insert(viewRow(view, Date.now()));
    });
  }

  listViews(logId: string): Promise<Array<LogView & { viewedAt: string }>> {
    return this.run('listing log views', async () =>
      (await this.knex('log_views').where('log_id', logId).orderBy('id')).map((r) => ({
        logId: (r.log_id as string | null) ?? null,
        kind: (r.kind as LogView['kind']) ?? 'view',
        filters: (r.filters as string | null) ?? null,
        keyName: r.key_name as string,
        companyId: (r.company_id as string | null) ?? null,
        viewedAt: new Date(Number(r.viewed_at)).toISOString(),
      })),
    );
  }

  queryViews(filter: ViewFilter, options: ListOptions): Promise<ViewPage> {
    return this.run('listing views', () => queryViews(this.knex, filter, options));
  }

  /** Runs EXPLAIN for the first page of a filter (benchmarks and docs/storage.md). */
  explainListLogs(filter: LogFilter, limit = 50): Promise<string> {
    return explainListLogs(this.knex, this.dialect, filter, limit);
  }

  /** The underlying Knex instance, for benchmarks that need raw access. */
  get raw(): Knex {
    return this.knex;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.knex.destroy();
    } finally {
      this.releaseFile();
    }
  }
}
