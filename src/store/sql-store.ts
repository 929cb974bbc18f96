import type { Knex } from 'knex';
import type { AuditRecord } from '../record/types';
import { createKnex, type Dialect, type ParsedDbUrl } from './connect';
import { decodeCursor, encodeCursor } from './cursor';
import { ConflictError, NotFoundError, StoreError, StoreUnavailableError } from './errors';
import { applyFilter } from './filter';
import { LEGACY_ID_MAX, META_TABLE, MIGRATION_CONFIG } from './migrations';
import { claimSqliteFile } from './sqlite-files';
import { parseLogId } from '../record/log-id';
import { fromRow, keyFromRow, toRow, withRowValues, type KeyRow, type LogRow } from './rows';
import { computeStats } from './stats';
import type BetterSqlite3 from 'better-sqlite3';
import type {
  ApiKeyInfo, Facets, InsertResult, ListOptions, LogFilter, LogPage, LogView, SqliteDriver, Stats, StatsOptions, Store, StoredLog,
} from './types';

/** Rows per INSERT statement: knex's SQLite multi-row insert fails beyond ~500 (NOTES.md). */
const ROWS_PER_STATEMENT = 500;
const FACET_LIMIT = 200;
/** Facets are the values seen in the newest this-many matching rows. */
const FACET_ROWS = 50_000;
const EXPORT_PAGE = 1000;

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN',
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY',
  '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006', '3D000', '28P01', '28000',
]);

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const message = (e?.message ?? String(err)).split('\n')[0];
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** Maps driver errors to the store's named errors, with one readable line. */
export function toStoreError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { code?: string; name?: string; message?: string; errors?: Array<{ code?: string }> };
  const code = e?.code ?? e?.errors?.[0]?.code;
  const unavailable =
    (code !== undefined && UNAVAILABLE_CODES.has(code)) ||
    e?.name === 'KnexTimeoutError' ||
    /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/i.test(e?.message ?? '');
  const message = `${what}: ${describe(err)}`;
  return unavailable ? new StoreUnavailableError(message, { cause: err }) : new StoreError(message, { cause: err });
}

/** The unique key that makes writes idempotent (migration 004): a replayed span is skipped. */
const UNIQUE_KEY = ['ts_us', 'span_id', 'trace_id'];
/** The columns `toRow` fills, in its order (derived from it, so the two cannot drift apart). */
const ROW_COLUMNS = Object.keys(toRow({} as AuditRecord, 0));
const INSERT_SQL =
  `INSERT INTO logs (${ROW_COLUMNS.join(', ')}) VALUES (${ROW_COLUMNS.map(() => '?').join(', ')}) ` +
  `ON CONFLICT (${UNIQUE_KEY.join(', ')}) DO NOTHING`;
type PreparedInsert = (records: readonly AuditRecord[], nowMs: number) => number;
const insertsByConnection = new WeakMap<BetterSqlite3.Database, PreparedInsert>();

/**
 * better-sqlite3's fastest write path (NOTES.md): one prepared single-row statement, run per
 * row inside one transaction with the row's values bound by position; returns the rows
 * inserted (duplicates are ignored).
 */
function preparedInsert(db: BetterSqlite3.Database): PreparedInsert {
  let insert = insertsByConnection.get(db);
  if (!insert) {
    const statement = db.prepare(INSERT_SQL);
    const run = statement.run.bind(statement);
    insert = db.transaction((records: readonly AuditRecord[], nowMs: number) => {
      let inserted = 0;
      for (const record of records) inserted += withRowValues(record, nowMs, run).changes;
      return inserted;
    });
    insertsByConnection.set(db, insert);
  }
  return insert;
}

export class SqlStore implements Store {
  readonly dialect: Dialect;
  private readonly knex: Knex;
  private closed = false;
  private readonly preparedInserts: boolean;
  private readonly releaseFile: () => void;
  /** See legacyIdMax(). */
  private legacyMax: Promise<number | null> | undefined;

  constructor(parsed: ParsedDbUrl, poolSize?: number, sqliteDriver: SqliteDriver = 'sqlite3') {
    this.dialect = parsed.dialect;
    this.releaseFile = parsed.dialect === 'sqlite' ? claimSqliteFile(parsed.target, sqliteDriver) : () => {};
    this.knex = createKnex(parsed, poolSize, sqliteDriver);
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
    });
  }

  /** Reverts every migration (tests of the down path). */
  rollbackAll(): Promise<void> {
    return this.run('rolling back migrations', async () => {
      await this.knex.migrate.rollback(MIGRATION_CONFIG, true);
    });
  }

  ping(): Promise<void> {
    return this.run('reaching the database', async () => {
      await this.knex.raw('select 1');
    });
  }

  insertBatch(records: readonly AuditRecord[]): Promise<InsertResult> {
    if (records.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
    if (this.preparedInserts) {
      return this.run('writing audit rows', async () => {
        const conn = (await this.knex.client.acquireConnection()) as BetterSqlite3.Database;
        try {
          const inserted = preparedInsert(conn)(records, Date.now());
          return { inserted, duplicates: records.length - inserted };
        } finally {
          await this.knex.client.releaseConnection(conn);
        }
      });
    }
    return this.run('writing audit rows', () =>
      this.knex.transaction(async (trx) => {
        const now = Date.now();
        let inserted = 0;
        for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
          const rows = records.slice(i, i + ROWS_PER_STATEMENT).map((r) => toRow(r, now));
          if (this.dialect === 'postgres') {
            const result = await trx('logs').insert(rows).onConflict(UNIQUE_KEY).ignore().returning('id');
            inserted += result.length;
          } else {
            await trx('logs').insert(rows).onConflict(UNIQUE_KEY).ignore();
            const changes = await trx.raw('select changes() as n');
            inserted += Number((changes as Array<{ n: number }>)[0].n);
          }
        }
        return { inserted, duplicates: records.length - inserted };
      }),
    );
  }

  listLogs(filter: LogFilter, options: ListOptions): Promise<LogPage> {
    const limit = Math.max(1, Math.min(500, Math.floor(options.limit)));
    const cursor = options.cursor ? decodeCursor(options.cursor) : undefined;
    return this.run('listing logs', async () => {
      const rows = (await this.knex('logs')
        .modify(applyFilter(this.dialect, filter))
        .modify((qb) => {
          if (cursor) qb.whereRaw('(ts_us, id) < (?, ?)', [cursor.ts, cursor.id]);
        })
        .orderBy([{ column: 'ts_us', order: 'desc' }, { column: 'id', order: 'desc' }])
        .limit(limit + 1)) as LogRow[];
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        data: page.map(fromRow),
        nextCursor: rows.length > limit && last ? encodeCursor({ ts: Number(last.ts_us), id: Number(last.id) }) : null,
      };
    });
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

  stats(filter: LogFilter, options: StatsOptions = {}): Promise<Stats> {
    return this.run('computing stats', () => computeStats(this.knex, this.dialect, filter, options.bucketMs));
  }

  facets(filter: LogFilter): Promise<Facets> {
    return this.run('reading facets', async () => {
      const where = applyFilter(this.dialect, filter);
      // One grouped pass over the newest FACET_ROWS matching rows (read newest-first from an
      // index, so the cost does not grow with the window), then the most frequent values of
      // each column in JS.
      const recent = this.knex('logs')
        .modify(where)
        .select({ e: 'endpoint', t: 'token_name', m: 'method', s: 'status' })
        .orderBy([{ column: 'ts_us', order: 'desc' }, { column: 'id', order: 'desc' }])
        .limit(FACET_ROWS)
        .as('recent');
      const groups = (await this.knex.from(recent)
        .select('e', 't', 'm', 's')
        .count('* as n')
        .groupBy('e', 't', 'm', 's')) as Array<Record<string, unknown>>;
      const top = (key: string): unknown[] => {
        const counts = new Map<unknown, number>();
        for (const g of groups) if (g[key] !== null) counts.set(g[key], (counts.get(g[key]) ?? 0) + Number(g.n));
        return [...counts.entries()]
          .sort((a, b) => b[1] - a[1] || (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0))
          .slice(0, FACET_LIMIT)
          .map(([v]) => v);
      };
      const [endpoints, tokens, methods, statuses] = [top('e'), top('t'), top('m'), top('s')];
      return {
        endpoints: (endpoints as string[]).sort(),
        tokens: (tokens as string[]).sort(),
        methods: (methods as string[]).sort(),
        statuses: (statuses as Array<number | string>).map(Number).sort((a, b) => a - b),
      };
    });
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
    const batch = options.batchSize ?? 5000;
    const cutoffUs = Math.floor(cutoffMs * 1000);
    return this.run('purging old logs', async () => {
      let total = 0;
      for (;;) {
        // Small batches by primary key keep each write transaction short, so
        // concurrent inserts wait milliseconds, not the whole purge.
        const ids = this.knex('logs').select('id').where('ts_us', '<', cutoffUs).orderBy('ts_us').limit(batch);
        const deleted = Number(await this.knex('logs').whereIn('id', ids).del());
        total += deleted;
        if (deleted < batch) return total;
        await new Promise((r) => setImmediate(r));
      }
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

  touchApiKey(id: number): Promise<void> {
    return this.run('recording key use', async () => {
      await this.knex('api_keys').where('id', id).update({ last_used_at: Date.now() });
    });
  }

  recordView(view: LogView): Promise<void> {
    return this.run('recording a log view', async () => {
      await this.knex('log_views').insert({ log_id: view.logId, key_name: view.keyName, company_id: view.companyId, viewed_at: Date.now() });
    });
  }

  listViews(logId: string): Promise<Array<LogView & { viewedAt: string }>> {
    return this.run('listing log views', async () =>
      (await this.knex('log_views').where('log_id', logId).orderBy('id')).map((r) => ({
        logId: r.log_id as string,
        keyName: r.key_name as string,
        companyId: (r.company_id as string | null) ?? null,
        viewedAt: new Date(Number(r.viewed_at)).toISOString(),
      })),
    );
  }

  /** Runs EXPLAIN for the first page of a filter (benchmarks and docs/storage.md). */
  async explainListLogs(filter: LogFilter, limit = 50): Promise<string> {
    const q = this.knex('logs')
      .modify(applyFilter(this.dialect, filter))
      .orderBy([{ column: 'ts_us', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(limit + 1)
      .toSQL();
    if (this.dialect === 'postgres') {
      const res = await this.knex.raw(`EXPLAIN ${q.sql}`, q.bindings as readonly Knex.Value[]);
      return (res.rows as Array<Record<string, string>>).map((r) => r['QUERY PLAN']).join('\n');
    }
    const rows = (await this.knex.raw(`EXPLAIN QUERY PLAN ${q.sql}`, q.bindings as readonly Knex.Value[])) as Array<{ detail: string }>;
    return rows.map((r) => r.detail).join('\n');
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
