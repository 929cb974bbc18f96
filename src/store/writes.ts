import type { Knex } from 'knex';
import type BetterSqlite3 from 'better-sqlite3';
import type { AuditRecord } from '../record/types';
import type { Dialect } from './connect';
import type { PartitionCache } from './partitions';
import { applyRollups, factFromRecord, prepareRollups } from './rollups';
import { toRow, withRowValues } from './rows';
import { indexNewRows, indexNewRowsSync } from './search-parts';
import type { InsertResult } from './types';

/** JSON text per SQLite INSERT on the knex path: a batch is one statement unless its rows are large. */
const JSON_CHARS_PER_STATEMENT = 8 * 1024 * 1024;

/** The unique key that makes writes idempotent (migration 004): a replayed span is skipped. */
export const UNIQUE_KEY = ['ts_us', 'span_id', 'trace_id'];
/** The columns `toRow` fills, in its order (derived from it, so the two cannot drift apart). */
export const ROW_COLUMNS = Object.keys(toRow({} as AuditRecord, 0));
const INSERT_SQL =
  `INSERT INTO logs (${ROW_COLUMNS.join(', ')}) VALUES (${ROW_COLUMNS.map(() => '?').join(', ')}) ` +
  `ON CONFLICT (${UNIQUE_KEY.join(', ')}) DO NOTHING`;

/** PostgreSQL types of ROW_COLUMNS, for one array parameter per column (see insertPostgres). */
const PG_TYPES: Record<string, string> = {
  trace_id: 'varchar', span_id: 'varchar', ts_us: 'int8', method: 'varchar', url: 'text', endpoint: 'varchar',
  status: 'int4', status_class: 'int2', latency_ms: 'float8', token_name: 'varchar', client_ip: 'varchar',
  user_agent: 'varchar', client_id: 'varchar', company_id: 'varchar', service: 'varchar', request_payload: 'text',
  response_payload: 'text', request_headers: 'text', truncated: 'bool', error: 'text', created_at: 'int8', updated_at: 'int8',
};
const PG_INSERT_SQL =
  `INSERT INTO logs (${ROW_COLUMNS.join(', ')}) ` +
  `SELECT * FROM unnest(${ROW_COLUMNS.map((c) => `?::${PG_TYPES[c]}[]`).join(', ')}) ` +
  `ON CONFLICT (${UNIQUE_KEY.join(', ')}) DO NOTHING RETURNING ts_us, span_id, trace_id`;

/**
 * THE place where derived data is written from the rows a batch really added: `fresh` holds the
 * records that were newly inserted by this write (duplicates of stored spans excluded, so counts
 * stay exact after retries), and `trx` is the write's own transaction — whatever is written here
 * commits or rolls back with the rows: the hourly and daily rollups (rollups.ts) and, on SQLite,
 * the FTS5 indexes of the rows whose id is above `maxIdBefore` (sqlite-indexes.ts).
 * The in-process better-sqlite3 path is synchronous and calls `afterInsertSync` instead.
 */
async function afterInsert(trx: Knex.Transaction, dialect: Dialect, fresh: readonly AuditRecord[], maxIdBefore: number): Promise<void> {
  if (fresh.length === 0) return;
  if (dialect === 'sqlite') await indexNewRows(trx, maxIdBefore);
  await applyRollups(trx, dialect, fresh.map(factFromRecord));
}

/** The synchronous twin of `afterInsert`, inside the better-sqlite3 transaction on `db`. */
function afterInsertSync(db: BetterSqlite3.Database, fresh: readonly AuditRecord[], maxIdBefore: number): void {
  if (fresh.length === 0) return;
  indexNewRowsSync(db, maxIdBefore);
  prepareRollups(db)(fresh.map(factFromRecord));
}

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
      const fresh: AuditRecord[] = [];
      let firstId = 0;
      for (const record of records) {
        const result = withRowValues(record, nowMs, run);
        if (result.changes === 0) continue;
        if (fresh.length === 0) firstId = Number(result.lastInsertRowid);
        fresh.push(record);
      }
      afterInsertSync(db, fresh, firstId - 1);
      return fresh.length;
    });
    insertsByConnection.set(db, insert);
  }
  return insert;
}

export async function insertBetterSqlite(knex: Knex, records: readonly AuditRecord[]): Promise<InsertResult> {
  const conn = (await knex.client.acquireConnection()) as BetterSqlite3.Database;
  try {
    const inserted = preparedInsert(conn)(records, Date.now());
    return { inserted, duplicates: records.length - inserted };
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

const keyOf = (ts: number | string, spanId: string, traceId: string): string => `${ts}|${spanId}|${traceId}`;

/**
 * PostgreSQL: the whole batch in one statement, one array parameter per column unnested into
 * rows — 22 parameters however many rows, where a multi-row VALUES list binds 22 per row and
 * the server parses each. RETURNING names the rows really inserted.
 */
async function insertPostgres(trx: Knex.Transaction, records: readonly AuditRecord[], now: number): Promise<AuditRecord[]> {
  const columns: unknown[][] = ROW_COLUMNS.map(() => new Array<unknown>(records.length));
  for (let i = 0; i < records.length; i++) {
    const row = toRow(records[i], now) as Record<string, unknown>;
    for (let c = 0; c < ROW_COLUMNS.length; c++) columns[c][i] = row[ROW_COLUMNS[c]];
  }
  const res = (await trx.raw(PG_INSERT_SQL, columns as Knex.RawBinding[])) as { rows: Array<{ ts_us: string; span_id: string; trace_id: string }> };
  if (res.rows.length === records.length) return [...records];
  const added = new Set(res.rows.map((r) => keyOf(r.ts_us, r.span_id, r.trace_id)));
  // A batch may carry the same span twice: only its first copy counts as inserted.
  return records.filter((r) => added.delete(keyOf(r.timestampUs, r.spanId, r.traceId)));
}

/**
 * The rows a write added and the id of the first one: SQLite gives each new row one more than
 * the largest id, so the batch's rows are exactly those from `firstId` on (0: none added).
 */
interface SqliteInserted {
  fresh: AuditRecord[];
  firstId: number;
}

/**
 * node's sqlite3 binds every value on the event loop, and knex formats a multi-row insert's SQL
 * value by value: for 512 rows of 22 columns that cost more than SQLite's own work. So the rows
 * go in as one JSON array of arrays, read back by `json_each` inside SQLite, one parameter per
 * statement per batch (several only past JSON_CHARS_PER_STATEMENT). (Strings arrive well-formed:
 * the record mapper replaces lone surrogates and NUL.)
 */
const SQLITE_JSON_INSERT_SQL =
  `INSERT INTO logs (${ROW_COLUMNS.join(', ')}) SELECT ${ROW_COLUMNS.map((_, i) => `value->>${i}`).join(', ')} FROM json_each(?) ` +
  // WHERE true: SQLite's parser needs it between an INSERT … SELECT and its ON CONFLICT.
  `WHERE true ON CONFLICT (${UNIQUE_KEY.join(', ')}) DO NOTHING RETURNING id, ts_us, span_id, trace_id`;

async function insertSqliteKnex(trx: Knex.Transaction, records: readonly AuditRecord[], now: number): Promise<SqliteInserted> {
  const fresh: AuditRecord[] = [];
  let firstId = 0;
  for (let start = 0; start < records.length;) {
    const rows: string[] = [];
    let chars = 0;
    while (start + rows.length < records.length && chars < JSON_CHARS_PER_STATEMENT) {
      const row = JSON.stringify(withRowValues(records[start + rows.length], now, (...values) => values));
      rows.push(row);
      chars += row.length;
    }
    const chunk = records.slice(start, (start += rows.length));
    const added = (await trx.raw(SQLITE_JSON_INSERT_SQL, [`[${rows.join(',')}]`])) as Array<{ id: number; ts_us: number; span_id: string; trace_id: string }>;
    if (added.length === 0) continue;
    // A statement may add tens of thousands of rows: a loop, not Math.min(...ids).
    if (firstId === 0) firstId = added.reduce((min, r) => Math.min(min, Number(r.id)), Infinity);
    if (added.length === chunk.length) {
      fresh.push(...chunk);
      continue;
    }
    const keys = new Set(added.map((r) => keyOf(r.ts_us, r.span_id, r.trace_id)));
    for (const r of chunk) if (keys.delete(keyOf(r.timestampUs, r.spanId, r.traceId))) fresh.push(r);
  }
  return { fresh, firstId };
}

/** SQLSTATE 23514 with this text: a row for which no partition exists (dropped meanwhile). */
const NO_PARTITION = /no partition of relation/i;

/**
 * Writes a batch in one transaction (knex paths: `sqlite3` and `pg`); returns how many rows were
 * new. On PostgreSQL the partitions the batch needs are made sure of first, outside the write
 * transaction (creating one waits for an advisory lock that the write must not hold).
 */
export async function insertWithKnex(knex: Knex, dialect: Dialect, partitions: PartitionCache | undefined, records: readonly AuditRecord[]): Promise<InsertResult> {
  const write = (): Promise<number> =>
    knex.transaction(async (trx) => {
      const now = Date.now();
      const { fresh, firstId } = dialect === 'postgres' ? { fresh: await insertPostgres(trx, records, now), firstId: 0 } : await insertSqliteKnex(trx, records, now);
      await afterInsert(trx, dialect, fresh, firstId - 1);
      return fresh.length;
    });
  let inserted: number;
  if (!partitions) {
    inserted = await write();
  } else {
    await partitions.ensure(records.map((r) => r.timestampUs));
    try {
      inserted = await write();
    } catch (err) {
      if (!NO_PARTITION.test((err as Error)?.message ?? '')) throw err;
      // Retention in another process dropped a partition this process still believed in.
      partitions.forget();
      await partitions.ensure(records.map((r) => r.timestampUs));
      inserted = await write();
    }
  }
  return { inserted, duplicates: records.length - inserted };
}
