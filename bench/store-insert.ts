/**
 * Store writes: `insertBatch` (the one write path of the exporter and the receiver: 500-row
 * statements in one transaction, duplicates ignored on (ts_us, span_id, trace_id), 10 indexes) against
 * the fastest raw insert on the same database in the same run — a prepared single-row
 * statement in one transaction on SQLite, and COPY-free multi-row INSERT without conflict
 * handling or secondary indexes on PostgreSQL (the table layout a plain log sink would use).
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { openStore, type SqliteDriver } from '../src/store';
import { MIGRATION_CONFIG } from '../src/store/migrations';
import { generateRecords } from '../test/helpers/fixtures';
import { dialects, fmt, freshStore, median, pgReachable, ratio, table, type BenchStore } from './lib';

const ROWS = Number(process.env.BENCH_INSERT_ROWS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Rows already in the table for the "grown table" row (0 leaves that row out). */
const PRELOAD = Number(process.env.BENCH_INSERT_PRELOAD ?? 1_000_000);
const BATCH = 512;
/** Also measure each database without the search indexes (BENCH_INSERT_SEARCH=0 leaves those rows out). */
const SEARCH_ROWS = process.env.BENCH_INSERT_SEARCH !== '0';
const DAY = 86_400_000;

interface Target {
  dialect: 'sqlite' | 'postgres';
  driver?: SqliteDriver;
  /** SQLite's WAL checkpoint interval for the round, instead of the store's. */
  checkpointPages?: number;
  /** A SQLite file that already holds older rows; each round writes into a copy of it. */
  preloaded?: string;
  /** Without migration 007's search indexes (FTS5 / pg_trgm and the id indexes), to show their write cost. */
  noSearch?: boolean;
}

/**
 * A SQLite file holding `rows` rows older than the measured ones, in arrival order, made once per
 * run (one to two minutes per million rows on the 2-core machines).
 */
async function preloadSqlite(rows: number): Promise<{ path: string; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'auditspan-bench-'));
  const path = join(dir, 'preloaded.db');
  const store = await openStore({ url: path, sqliteDriver: 'better-sqlite3' });
  const chunk = 100_000;
  const spanMs = 30 * DAY * (chunk / rows);
  const start = Date.now() - 37 * DAY; // the measured rows cover the last 7 days
  try {
    for (let i = 0; i < rows; i += chunk) {
      process.stderr.write(`\rstore-insert: preloading ${fmt(i)} / ${fmt(rows)} rows`);
      const records = generateRecords(Math.min(chunk, rows - i), 500 + i / chunk, { endMs: start + ((i + chunk) / chunk) * spanMs, spanMs })
        .sort((a, b) => a.timestampUs - b.timestampUs);
      for (let j = 0; j < records.length; j += BATCH) await store.insertBatch(records.slice(j, j + BATCH));
    }
    process.stderr.write('\n');
  } finally {
    await store.close();
  }
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

async function openTarget(t: Target): Promise<BenchStore> {
  if (!t.preloaded) return freshStore(t.dialect, t.driver);
  const dir = mkdtempSync(join(tmpdir(), 'auditspan-bench-'));
  const url = join(dir, 'audit.db');
  for (const suffix of ['', '-wal']) if (existsSync(t.preloaded + suffix)) copyFileSync(t.preloaded + suffix, url + suffix);
  const store = await openStore({ url, sqliteDriver: t.driver });
  return {
    store, url,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reverts migration 007 (the search indexes) alone; later migrations do not depend on it. */
async function dropSearch(s: BenchStore): Promise<void> {
  await s.store.raw.migrate.down({ ...MIGRATION_CONFIG, name: '007_search' });
}

/** The same columns in a table with only a primary key: what any audit table needs at least. */
async function rawInsert(knex: Knex, rows: Array<Record<string, unknown>>): Promise<number> {
  await knex.schema.dropTableIfExists('raw_logs');
  await knex.schema.createTable('raw_logs', (t) => {
    t.bigIncrements('id').primary();
    for (const column of Object.keys(rows[0])) t.text(column);
  });
  const started = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    const chunk = rows.slice(i, i + BATCH);
    await knex.transaction(async (trx) => {
      for (let j = 0; j < chunk.length; j += 500) await trx('raw_logs').insert(chunk.slice(j, j + 500));
    });
  }
  const seconds = (performance.now() - started) / 1000;
  await knex.schema.dropTable('raw_logs');
  return rows.length / seconds;
}

export async function run(): Promise<string> {
  // In arrival order, as an exporter or a collector delivers them (timestamps roughly increasing).
  const records = generateRecords(ROWS, 11).sort((a, b) => a.timestampUs - b.timestampUs);
  const flat = records.map((r) => ({ ...r, requestHeaders: JSON.stringify(r.requestHeaders) }) as Record<string, unknown>);
  const out: string[][] = [];
  // One SQLite row runs with SQLite's own checkpoint interval, to show what the store's (10 000 WAL
  // pages, src/store/connect.ts) saves; another writes into a table already holding PRELOAD older rows.
  const preload = PRELOAD > 0 ? await preloadSqlite(PRELOAD) : undefined;
  const targets = dialects(await pgReachable()).flatMap((dialect): Target[] =>
    dialect === 'postgres'
      ? [{ dialect }, ...(SEARCH_ROWS ? [{ dialect, noSearch: true }] : [])]
      : [
          { dialect, driver: 'sqlite3' },
          ...(SEARCH_ROWS ? [{ dialect, driver: 'sqlite3' as const, noSearch: true }] : []),
          { dialect, driver: 'better-sqlite3' },
          ...(SEARCH_ROWS ? [{ dialect, driver: 'better-sqlite3' as const, noSearch: true }] : []),
          { dialect, driver: 'better-sqlite3', checkpointPages: 1000 },
          ...(preload ? [{ dialect, driver: 'better-sqlite3' as const, preloaded: preload.path }] : []),
        ]);
  try {
    for (const target of targets) out.push(await measure(target, records, flat));
  } finally {
    preload?.dispose();
  }
  return [
    '## Store inserts',
    '',
    `\`npm run bench -- store-insert\` — ${fmt(ROWS)} generated audit rows in arrival order, ${BATCH}-row batches, ${ROUNDS} rounds, medians, fresh`,
    'database each round. Baseline: the same rows through knex into a table with no secondary index and no',
    'conflict handling, in the same database and run.',
    '',
    table(['database', 'baseline rows/s', 'insertBatch rows/s', 'vs baseline'], out),
    '',
    'insertBatch maintains the 10 indexes the query API needs (docs/storage.md) and ignores duplicates, so a',
    'retried batch never creates a second row. SQLite (better-sqlite3) is the in-process pipeline\'s writer (on',
    'its worker thread): one prepared statement per row in one transaction; its baseline is knex on the same driver.',
    'The store checkpoints the SQLite WAL every 10 000 pages; the row "checkpoint every 1,000 pages" is SQLite\'s',
    'default, measured in the same run.',
    ...(SEARCH_ROWS ? ['Rows "without the search indexes" revert migration 007 first (FTS5 trigram table and triggers on SQLite, the pg_trgm', 'GIN index on PostgreSQL, and the trace id, client IP, client id and request id indexes): the write cost of search.'] : []),
    ...(preload
      ? [`The row "table already holding ${fmt(PRELOAD)} rows" writes the same rows into a copy of a database that`, 'already holds that many older rows (BENCH_INSERT_PRELOAD; 0 leaves it out).']
      : []),
  ].join('\n');
}

async function measure(target: Target, records: ReturnType<typeof generateRecords>, flat: Array<Record<string, unknown>>): Promise<string[]> {
  const { dialect, driver, checkpointPages, preloaded, noSearch } = target;
  const store: number[] = [];
  const raw: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const s = await openTarget(target);
    try {
      // One pooled connection (SQLite), so the setting holds for the whole round.
      if (checkpointPages) await s.store.raw.raw(`PRAGMA wal_autocheckpoint = ${checkpointPages}`);
      if (noSearch) await dropSearch(s);
      raw.push(await rawInsert(s.store.raw, flat));
      const started = performance.now();
      for (let i = 0; i < records.length; i += BATCH) await s.store.insertBatch(records.slice(i, i + BATCH));
      store.push(records.length / ((performance.now() - started) / 1000));
      // Re-sending the same batches (an exporter retry) must insert nothing.
      const again = await s.store.insertBatch(records.slice(0, BATCH));
      if (again.inserted !== 0) throw new Error('store-insert: a retried batch inserted duplicates');
    } finally {
      await s.dispose();
    }
  }
  const detail = noSearch ? ', without the search indexes' : checkpointPages ? `, checkpoint every ${fmt(checkpointPages)} pages` : preloaded ? `, table already holding ${fmt(PRELOAD)} rows` : '';
  const name = dialect === 'postgres' ? `PostgreSQL 15${detail}` : `SQLite (${driver}${detail})`;
  return [name, fmt(median(raw)), fmt(median(store)), ratio(median(store), median(raw))];
}
