/**
 * SQLite's write-friendly indexes (migration 010): what a row costs to index decides the
 * in-process overhead, since the pipeline worker shares the app's two cores.
 *
 * A B-tree whose key is random (a trace id, a request id, a latency) puts each new row on a
 * different page, and every page a transaction touches is written to the WAL at commit and
 * again at the checkpoint: one 4 KiB page per row per such index, and more as the table grows
 * (docs/benchmarks.md). Indexes whose key starts with a low-cardinality value and then time
 * (company, endpoint, status, …) append instead: a handful of pages per batch.
 *
 * - Trace ids and request ids go to `logs_ids`, an FTS5 table of id tokens (contentless,
 *   detail=none: row ids only). FTS5 writes each transaction's tokens as one sorted segment and
 *   merges segments later, so random ids cost sequential writes. Tokens: `t<trace id>` and
 *   `r<hex of the request id>` (hex: any id is one token, compared case-sensitively).
 * - Latency bounds read `logs_latency_bin_ts` on (half-octave bin of latency_ms, ts_us, id):
 *   about a dozen bins are in use at any time, each appended to in time order.
 * - Both FTS5 tables (this one and the trigram table of search.ts) are filled by the write path
 *   in one `INSERT … SELECT` per batch (`indexNewRows`), not by an insert trigger: a trigger's
 *   statement runs in its own savepoint, at which FTS5 writes a segment — one per row.
 *   Deletes (retention) keep them in step through triggers.
 */
import type { Knex } from 'knex';
import type BetterSqlite3 from 'better-sqlite3';
import { FTS_TABLE, IDS_TABLE, requestIdSql, TEXT_COLUMNS } from './search';

export const LATENCY_BIN_INDEX = 'logs_latency_bin_ts';
/** Bins per doubling of (latency_ms + 1): 0 for 0 ms, 2 for 1 ms, 20 for 1 s, 32 for 65 s. */
export const LATENCY_BIN_SQL = 'CAST(2 * log2(latency_ms + 1) AS INTEGER)';
/** The bin of a bound, computed by SQLite itself so that it agrees with the index. */
export const LATENCY_BIN_OF_PARAM = 'CAST(2 * log2(? + 1) AS INTEGER)';

/** The id tokens of a row (`row`: its table alias or `new`/`old` in a trigger). */
function idTokens(row: string): string {
  const requestId = requestIdSql('sqlite').replace(/request_headers/g, `${row}.request_headers`);
  return `('t' || ${row}.trace_id || coalesce(' r' || hex(${requestId}), ''))`;
}

const ftsColumns = TEXT_COLUMNS.join(', ');
const textValues = (row: string): string => TEXT_COLUMNS.map((c) => `${row}.${c}`).join(', ');

/** The statements that index the rows with an id above `?`, for the FTS5 tables that exist. */
const INDEX_NEW_ROWS: Record<string, string> = {
  [FTS_TABLE]: `INSERT INTO ${FTS_TABLE}(rowid, ${ftsColumns}) SELECT id, ${ftsColumns} FROM logs AS l WHERE id > ?`,
  [IDS_TABLE]: `INSERT INTO ${IDS_TABLE}(rowid, k) SELECT id, ${idTokens('l')} FROM logs AS l WHERE id > ?`,
};
const EXISTING = `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${Object.keys(INDEX_NEW_ROWS).map((n) => `'${n}'`).join(', ')})`;

/**
 * Indexes the rows a write transaction added: those with an id above `bound` (SQLite gives each
 * new row one more than the largest id, and has one writer). The tables are looked up each time:
 * benchmarks and tests revert the migrations that made them.
 */
export async function indexNewRows(trx: Knex.Transaction, bound: number): Promise<void> {
  for (const { name } of (await trx.raw(EXISTING)) as Array<{ name: string }>) await trx.raw(INDEX_NEW_ROWS[name], [bound]);
}

const preparedByConnection = new WeakMap<BetterSqlite3.Database, { existing: BetterSqlite3.Statement; index: Map<string, BetterSqlite3.Statement> }>();

/** `indexNewRows` on better-sqlite3, with statements prepared once per connection. */
export function indexNewRowsSync(db: BetterSqlite3.Database, bound: number): void {
  let prepared = preparedByConnection.get(db);
  if (!prepared) preparedByConnection.set(db, (prepared = { existing: db.prepare(EXISTING).pluck(), index: new Map() }));
  for (const name of prepared.existing.all() as string[]) {
    let statement = prepared.index.get(name);
    if (!statement) prepared.index.set(name, (statement = db.prepare(INDEX_NEW_ROWS[name])));
    statement.run(bound);
  }
}

/**
 * Indexes every row of `logs` again (after bulk loads that bypassed the write paths). With the
 * default 2 MB page cache a rebuild over 10 M rows re-reads its own pages from the OS for hours;
 * with 1 GB it took 10 minutes (docs/benchmarks.md), so the connection gets that for the rebuild.
 */
export async function rebuildSqliteIndexes(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    const [{ cache_size: cache }] = (await trx.raw('PRAGMA cache_size')) as Array<{ cache_size: number }>;
    await trx.raw('PRAGMA cache_size = -1000000');
    try {
      await trx.raw(`INSERT INTO ${FTS_TABLE}(${FTS_TABLE}) VALUES ('rebuild')`);
      await trx.raw(`INSERT INTO ${IDS_TABLE}(${IDS_TABLE}) VALUES ('delete-all')`);
      await trx.raw(INDEX_NEW_ROWS[IDS_TABLE], [Number.MIN_SAFE_INTEGER]);
    } finally {
      await trx.raw(`PRAGMA cache_size = ${Number(cache)}`);
    }
  });
}

/** Migration 010 (SQLite only). */
export async function createSqliteWriteIndexes(knex: Knex): Promise<void> {
  // Databases made before 010 indexed each row by trigger, and ids and latencies in B-trees.
  await knex.raw(`DROP TRIGGER IF EXISTS ${FTS_TABLE}_insert`);
  for (const name of ['logs_trace_id', 'logs_request_id', 'logs_latency_ts']) await knex.raw(`DROP INDEX IF EXISTS ${name}`);
  await knex.raw(`CREATE INDEX ${LATENCY_BIN_INDEX} ON logs (${LATENCY_BIN_SQL}, ts_us, id)`);
  await knex.raw(`CREATE VIRTUAL TABLE ${IDS_TABLE} USING fts5(k, content='', detail='none', columnsize=0)`);
  // A contentless table forgets a row only when told its tokens again.
  await knex.raw(`CREATE TRIGGER ${IDS_TABLE}_delete AFTER DELETE ON logs BEGIN
    INSERT INTO ${IDS_TABLE}(${IDS_TABLE}, rowid, k) VALUES ('delete', old.id, ${idTokens('old')}); END`);
  await knex.raw(`CREATE TRIGGER ${IDS_TABLE}_update AFTER UPDATE OF trace_id, request_headers ON logs BEGIN
    INSERT INTO ${IDS_TABLE}(${IDS_TABLE}, rowid, k) VALUES ('delete', old.id, ${idTokens('old')});
    INSERT INTO ${IDS_TABLE}(rowid, k) VALUES (new.id, ${idTokens('new')}); END`);
  // The backfill: every row already stored.
  await knex.raw(INDEX_NEW_ROWS[IDS_TABLE], [Number.MIN_SAFE_INTEGER]);
}

export async function dropSqliteWriteIndexes(knex: Knex): Promise<void> {
  for (const suffix of ['delete', 'update']) await knex.raw(`DROP TRIGGER IF EXISTS ${IDS_TABLE}_${suffix}`);
  await knex.raw(`DROP TABLE IF EXISTS ${IDS_TABLE}`);
  await knex.raw(`DROP INDEX IF EXISTS ${LATENCY_BIN_INDEX}`);
  // Back to the indexes of 006 and 007 (the trigram table's insert trigger included).
  await knex.raw('CREATE INDEX IF NOT EXISTS logs_latency_ts ON logs (latency_ms, ts_us, id)');
  await knex.raw('CREATE INDEX IF NOT EXISTS logs_trace_id ON logs (trace_id)');
  await knex.raw(`CREATE INDEX IF NOT EXISTS logs_request_id ON logs ((${requestIdSql('sqlite')}))`);
  const fts = (await knex.raw(`SELECT name FROM sqlite_master WHERE name = '${FTS_TABLE}'`)) as unknown[];
  if (fts.length > 0) {
    await knex.raw(`CREATE TRIGGER IF NOT EXISTS ${FTS_TABLE}_insert AFTER INSERT ON logs BEGIN
      INSERT INTO ${FTS_TABLE}(rowid, ${ftsColumns}) VALUES (new.id, ${textValues('new')}); END`);
  }
}
