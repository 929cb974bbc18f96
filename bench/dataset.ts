/**
 * Large benchmark datasets, made once with each database's fastest raw path and reused by later
 * runs: SQLite through one better-sqlite3 prepared statement per row inside one transaction per
 * 100k rows, PostgreSQL through multi-row `INSERT … SELECT FROM unnest(…)` of 5 000 rows. Rows
 * are the fixtures' realistic mix (test/helpers/fixtures.ts) spread over 30 days, written in
 * time order as a receiver would, into the schema of the current migrations; the rollups are
 * rebuilt from them afterwards when the schema has them.
 *
 *   BENCH_DATA_DIR   folder of the SQLite files (default .bench-data/)
 *   BENCH_PG_PREFIX  PostgreSQL database name prefix (default auditspan_bench_ds_)
 *
 * Run alone to make the files ahead of a benchmark:
 *   node --import tsx bench/dataset.ts 10000000 sqlite|postgres
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { openStore, type SqlStore } from '../src/store';
import { toRow, withRowValues } from '../src/store/rows';
import { DAY_US, ensurePartitions, isPartitioned } from '../src/store/partitions';
import { rebuildSearchParts } from '../src/store/search-parts';
import { generateRecords } from '../test/helpers/fixtures';
import { fmt, PG_URL, SQLITE_CACHE_MB } from './lib';

export const DATA_DIR = process.env.BENCH_DATA_DIR ?? join(__dirname, '..', '.bench-data');
const PG_PREFIX = process.env.BENCH_PG_PREFIX ?? 'auditspan_bench_ds_';
const DAY = 86_400_000;
const CHUNK = 100_000;
const COLUMNS = Object.keys(toRow({} as never, 0));
const PG_TYPES: Record<string, string> = {
  ts_us: 'bigint', status: 'int', status_class: 'smallint', latency_ms: 'float8', truncated: 'boolean', created_at: 'bigint', updated_at: 'bigint',
};

/** Where a dataset of `rows` rows lives for a dialect (a file path or a postgres:// URL). */
export function datasetUrl(dialect: 'sqlite' | 'postgres', rows: number): string {
  if (dialect === 'sqlite') return join(DATA_DIR, `dataset-${rows}.db`);
  const u = new URL(PG_URL);
  u.pathname = `/${PG_PREFIX}${rows}`;
  return u.toString();
}

/** The newest row's time of every dataset: midnight UTC of a fixed day, so datasets are reproducible. */
export const DATASET_END_MS = Date.UTC(2026, 11, 1);

function* chunks(rows: number): Generator<ReturnType<typeof generateRecords>> {
  for (let i = 0; i < rows; i += CHUNK) {
    const n = Math.min(CHUNK, rows - i);
    // Chunk i covers its own slice of the 30 days, oldest first: arrival order.
    const spanMs = (n / rows) * 30 * DAY;
    const endMs = DATASET_END_MS - 30 * DAY + ((i + n) / rows) * 30 * DAY;
    yield generateRecords(n, 7000 + i / CHUNK, { endMs, spanMs }).sort((a, b) => a.timestampUs - b.timestampUs);
  }
}

async function fillSqlite(path: string, rows: number): Promise<void> {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    // Secondary indexes are dropped for the load and rebuilt after it (a sort per index,
    // several times faster than maintaining them row by row).
    const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'logs' AND sql IS NOT NULL").all() as Array<{ name: string; sql: string }>;
    for (const i of indexes) db.exec(`DROP INDEX ${i.name}`);
    const statement = db.prepare(`INSERT INTO logs (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    const run = statement.run.bind(statement);
    const insert = db.transaction((records: ReturnType<typeof generateRecords>, now: number) => {
      for (const r of records) withRowValues(r, now, run);
    });
    let done = 0;
    const started = Date.now();
    for (const records of chunks(rows)) {
      insert(records, Date.now());
      done += records.length;
      process.stderr.write(`\rdataset: ${fmt(done)} / ${fmt(rows)} rows into SQLite (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    process.stderr.write('\n');
    for (const i of indexes) db.exec(i.sql);
    db.exec('ANALYZE');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/**
 * Builds the logs table's secondary indexes again after a load (and repairs a dataset whose
 * indexes an earlier version of this file recreated with `ON ONLY`: on a partitioned table that
 * makes an invalid parent index with no index on any partition, so every query scanned).
 */
async function buildPostgresIndexes(client: Client, defs: Array<{ name: string; def: string; unique: boolean }>): Promise<void> {
  await client.query("SET maintenance_work_mem = '1GB'");
  await client.query('SET max_parallel_maintenance_workers = 2');
  for (const d of defs) {
    const started = Date.now();
    // A unique key is a constraint (ON CONFLICT names its columns), the rest plain indexes.
    const columns = /USING btree \((.*)\)$/.exec(d.def)?.[1];
    if (d.unique && columns) await client.query(`ALTER TABLE logs ADD CONSTRAINT ${d.name} UNIQUE (${columns})`);
    else await client.query(d.def.replace(' ON ONLY ', ' ON '));
    process.stderr.write(`dataset: index ${d.name} built in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
}

/** The logs table's secondary indexes (not its primary key), with whether each is a unique key. */
async function postgresIndexes(client: Client, onlyInvalid: boolean): Promise<Array<{ name: string; def: string; unique: boolean }>> {
  const res = await client.query(
    `SELECT c.relname AS name, pg_get_indexdef(x.indexrelid) AS def, x.indisunique AS unique
       FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
      WHERE t.relname = 'logs' AND c.relname <> 'logs_pkey' ${onlyInvalid ? 'AND NOT x.indisvalid' : ''}`,
  );
  return res.rows as Array<{ name: string; def: string; unique: boolean }>;
}

async function dropPostgresIndexes(client: Client, defs: Array<{ name: string }>): Promise<void> {
  for (const d of defs) {
    const constraint = await client.query('SELECT 1 FROM pg_constraint WHERE conname = $1', [d.name]);
    await client.query(constraint.rowCount ? `ALTER TABLE logs DROP CONSTRAINT ${d.name}` : `DROP INDEX ${d.name}`);
  }
}

async function fillPostgres(url: string, rows: number): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const indexes = await postgresIndexes(client, false);
    await dropPostgresIndexes(client, indexes);
    const types = COLUMNS.map((c) => `${PG_TYPES[c] ?? 'text'}[]`);
    const sql = `INSERT INTO logs (${COLUMNS.join(', ')}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}`).join(', ')})`;
    let done = 0;
    const started = Date.now();
    for (const records of chunks(rows)) {
      const now = Date.now();
      for (let i = 0; i < records.length; i += 5000) {
        const arrays: unknown[][] = COLUMNS.map(() => []);
        for (const r of records.slice(i, i + 5000)) {
          const row = toRow(r, now) as Record<string, unknown>;
          COLUMNS.forEach((c, k) => arrays[k].push(row[c]));
        }
        await client.query(sql, arrays);
      }
      done += records.length;
      process.stderr.write(`\rdataset: ${fmt(done)} / ${fmt(rows)} rows into PostgreSQL (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    process.stderr.write('\n');
    await buildPostgresIndexes(client, indexes);
    await client.query('VACUUM ANALYZE logs');
  } finally {
    await client.end();
  }
}

/** Rebuilds the indexes of a PostgreSQL dataset made with invalid (`ON ONLY`) parent indexes. */
async function repairPostgres(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const broken = await postgresIndexes(client, true);
    if (broken.length === 0) return;
    process.stderr.write(`dataset: ${broken.length} invalid indexes (made by an earlier bench/dataset.ts): rebuilding them\n`);
    await dropPostgresIndexes(client, broken);
    await buildPostgresIndexes(client, broken);
    await client.query('ANALYZE logs');
  } finally {
    await client.end();
  }
}

/**
 * Opens the dataset of `rows` rows (migrated to the current schema), making it first when it is
 * missing or incomplete. Returns the store and how long making it took (0 when reused).
 */
export async function openDataset(dialect: 'sqlite' | 'postgres', rows: number): Promise<{ store: SqlStore; madeSeconds: number }> {
  const url = datasetUrl(dialect, rows);
  if (dialect === 'sqlite') mkdirSync(DATA_DIR, { recursive: true });
  else await ensurePgDatabase(url, false);
  let store = await openStore({ url, sqliteCacheMb: SQLITE_CACHE_MB });
  const have = await store.countLogs({});
  if (have === rows) {
    if (dialect === 'postgres') await repairPostgres(url);
    return { store, madeSeconds: 0 };
  }
  // Made from scratch, so that an interrupted earlier attempt (indexes dropped, rows half in) leaves nothing behind.
  const started = Date.now();
  await store.close();
  if (dialect === 'sqlite') for (const suffix of ['', '-wal', '-shm']) rmSync(url + suffix, { force: true });
  else await ensurePgDatabase(url, true);
  store = await openStore({ url });
  if (dialect === 'postgres' && (await isPartitioned(store.raw))) {
    // The rows bypass the store's write path, which would create their daily partitions.
    const days: number[] = [];
    for (let ms = DATASET_END_MS - 31 * DAY; ms <= DATASET_END_MS; ms += DAY) days.push(ms * 1000);
    await ensurePartitions(store.raw, days, DAY_US);
  }
  await store.close();
  if (dialect === 'sqlite') await fillSqlite(url, rows);
  else await fillPostgres(url, rows);
  store = await openStore({ url });
  await store.rebuildRollups();
  // The rows bypassed the store's write path: SQLite's FTS5 indexes are built over all of them at once.
  if (dialect === 'sqlite') await rebuildSearchParts(store.raw);
  return { store, madeSeconds: (Date.now() - started) / 1000 };
}

/** Creates the database of a PostgreSQL dataset when missing (`fresh`: dropped first). */
async function ensurePgDatabase(url: string, fresh: boolean): Promise<void> {
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const name = new URL(url).pathname.slice(1);
    if (fresh) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
}

/** Drops the datasets of these sizes (files and databases). */
export async function dropDatasets(sizes: number[]): Promise<void> {
  const { rmSync } = await import('node:fs');
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    for (const rows of sizes) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(datasetUrl('sqlite', rows) + suffix, { force: true });
      await admin.query(`DROP DATABASE IF EXISTS ${PG_PREFIX}${rows} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

if (require.main === module) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  const dialect = (process.argv[3] ?? 'sqlite') as 'sqlite' | 'postgres';
  openDataset(dialect, rows)
    .then(async ({ store, madeSeconds }) => {
      console.log(`dataset ${dialect} ${fmt(rows)} rows ready (${madeSeconds ? `made in ${fmt(madeSeconds)} s` : 'reused'})`);
      await store.close();
    })
    .catch((err: unknown) => {
      console.error(`dataset: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    });
}
