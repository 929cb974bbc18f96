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
 *   about a dozen bins are in use at any time, each appended to in time order. Since migration
 *   013 it also carries latency_ms and company_id, so that the bound itself and a viewer key's
 *   company are checked in the index: a bin's candidates cost an index entry, not a row read.
 * - Both FTS5 tables (this one and the trigram table of search.ts) are filled by the write path
 *   in one `INSERT … SELECT` per batch, not by an insert trigger: a trigger's statement runs in
 *   its own savepoint, at which FTS5 writes a segment — one per row. Since migration 012 both
 *   are split into parts by row id (search-parts.ts).
 */
import type { Knex } from 'knex';
import { createTrigramInsertTrigger, FTS_TABLE, IDS_TABLE, requestIdSql } from './search';

export const LATENCY_BIN_INDEX = 'logs_latency_bin_ts';
/** Bins per doubling of (latency_ms + 1): 0 for 0 ms, 2 for 1 ms, 20 for 1 s, 32 for 65 s. */
export const LATENCY_BIN_SQL = 'CAST(2 * log2(latency_ms + 1) AS INTEGER)';
/** The bin of a bound, computed by SQLite itself so that it agrees with the index. */
export const LATENCY_BIN_OF_PARAM = 'CAST(2 * log2(? + 1) AS INTEGER)';

/**
 * Migration 013: the latency-bin index rebuilt to cover the bound and the company, the checks a
 * bin's candidates need on a viewer's page (reads.ts). About 16 s at 10 M rows.
 */
export async function coverLatencyBinIndex(knex: Knex, cover: boolean): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS ${LATENCY_BIN_INDEX}`);
  await knex.raw(`CREATE INDEX ${LATENCY_BIN_INDEX} ON logs (${LATENCY_BIN_SQL}, ts_us, id${cover ? ', latency_ms, company_id' : ''})`);
}

/** The id tokens of a row (`row`: its table alias or `new`/`old` in a trigger). */
export function idTokens(row: string): string {
  const requestId = requestIdSql('sqlite').replace(/request_headers/g, `${row}.request_headers`);
  return `('t' || ${row}.trace_id || coalesce(' r' || hex(${requestId}), ''))`;
}

/**
 * The id token table with the tokens of every row stored, kept by triggers on delete and update
 * (migration 010; migration 012 splits it into parts and drops the triggers: search-parts.ts).
 */
export async function createIdsTable(knex: Knex): Promise<void> {
  await knex.raw(`CREATE VIRTUAL TABLE ${IDS_TABLE} USING fts5(k, content='', detail='none', columnsize=0)`);
  // A contentless table forgets a row only when told its tokens again.
  await knex.raw(`CREATE TRIGGER ${IDS_TABLE}_delete AFTER DELETE ON logs BEGIN
    INSERT INTO ${IDS_TABLE}(${IDS_TABLE}, rowid, k) VALUES ('delete', old.id, ${idTokens('old')}); END`);
  await knex.raw(`CREATE TRIGGER ${IDS_TABLE}_update AFTER UPDATE OF trace_id, request_headers ON logs BEGIN
    INSERT INTO ${IDS_TABLE}(${IDS_TABLE}, rowid, k) VALUES ('delete', old.id, ${idTokens('old')});
    INSERT INTO ${IDS_TABLE}(rowid, k) VALUES (new.id, ${idTokens('new')}); END`);
  // The backfill: every row already stored.
  await knex.raw(`INSERT INTO ${IDS_TABLE}(rowid, k) SELECT id, ${idTokens('l')} FROM logs AS l`);
}

/** Migration 010 (SQLite only). */
export async function createSqliteWriteIndexes(knex: Knex): Promise<void> {
  // Databases made before 010 indexed each row by trigger, and ids and latencies in B-trees.
  await knex.raw(`DROP TRIGGER IF EXISTS ${FTS_TABLE}_insert`);
  for (const name of ['logs_trace_id', 'logs_request_id', 'logs_latency_ts']) await knex.raw(`DROP INDEX IF EXISTS ${name}`);
  await knex.raw(`CREATE INDEX ${LATENCY_BIN_INDEX} ON logs (${LATENCY_BIN_SQL}, ts_us, id)`);
  await createIdsTable(knex);
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
  if (fts.length > 0) await createTrigramInsertTrigger(knex);
}
