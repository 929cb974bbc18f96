/**
 * OTLP ingest: what the receiver sustains, against writing the same rows straight into the
 * store in the same run. 40 OTLP/HTTP protobuf requests of 512 HTTP server spans (15–20
 * attributes each, request bodies with card data and emails), sent by 2 concurrent senders as
 * a Collector's exporter does; the receiver decodes, maps, redacts and commits before it
 * answers, so "done" means stored. Medians of several rounds, each into a fresh database, or
 * with BENCH_INGEST_PRELOAD=N into the reusable N-row dataset of bench/dataset.ts (30 days
 * ending 1 December 2026; the measured spans are newer, and are removed again after each step
 * with their rollup rows, so the dataset stays exact for the other benchmarks).
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { toSpanInput } from '../src/exporter';
import { startOtlpHttpReceiver } from '../src/receiver';
import { decodeProtobuf } from '../src/receiver/decode';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openStore, type SqliteDriver, type SqlStore } from '../src/store';
import { DATASET_END_MS, datasetUrl, openDataset } from './dataset';
import { createRecordMapper } from '../src/record';
import type { AuditRecord } from '../src/record/types';
import { LEVELS } from '../src/store/rollups';
import { toRow } from '../src/store/rows';
import { indexNewRowsSync } from '../src/store/search-parts';
import { makeServerSpans, postUntilStored, protobufBatches } from '../test/helpers/otlp-batches';
import { dialects, fmt, freshStore, median, pgReachable, ratio, SQLITE_CACHE_MB, table, type BenchStore } from './lib';

const BATCH = 512;
const BATCHES = Number(process.env.BENCH_INGEST_BATCHES ?? 40);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SENDERS = 2;
/** Rows already in the table (BENCH_INGEST_PRELOAD; 0: a fresh database each round). */
const PRELOAD = Number(process.env.BENCH_INGEST_PRELOAD ?? 0);
/** SQLite's preloaded rows when they differ (BENCH_INGEST_PRELOAD_SQLITE; default: BENCH_INGEST_PRELOAD). */
const PRELOAD_SQLITE = Number(process.env.BENCH_INGEST_PRELOAD_SQLITE ?? PRELOAD);
/** The datasets' rows end here; the measured spans start now, after them. */
const PRELOAD_END_US = DATASET_END_MS * 1000;
/** `serve` processes sharing one PostgreSQL for the several-receivers row (1 or less leaves it out). */
const RECEIVERS = Number(process.env.BENCH_INGEST_RECEIVERS ?? 2);
const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');

/**
 * The database a measurement writes into: a fresh one, or the dataset of bench/dataset.ts
 * (made on first use, reused by later runs), from which the measured rows and their rollup
 * rows are removed again afterwards.
 */
async function target(dialect: 'sqlite' | 'postgres', sqliteDriver?: SqliteDriver): Promise<BenchStore & { fromMs: number }> {
  if (PRELOAD === 0) return { ...(await freshStore(dialect, sqliteDriver)), fromMs: 0 };
  const url = datasetUrl(dialect, dialect === 'sqlite' ? PRELOAD_SQLITE : PRELOAD);
  const store = await openStore({ url, sqliteDriver, sqliteCacheMb: SQLITE_CACHE_MB });
  return {
    store, url, fromMs: DATASET_END_MS,
    async dispose() {
      await removeMeasured(store);
      await store.close();
    },
  };
}

/** Makes the datasets a preloaded run writes into (once; later runs reuse them). */
async function ensureDatasets(dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (PRELOAD === 0) return;
  const { store } = await openDataset(dialect, dialect === 'sqlite' ? PRELOAD_SQLITE : PRELOAD);
  // A run stopped half-way left measured rows behind: take them out before measuring.
  await removeMeasured(store);
  await store.close();
}

/**
 * Removes the rows written after the dataset's end, and their rollups: every rollup bucket from
 * the end on holds measured rows only, so it is dropped whole. Their SQLite search entries go
 * with the rows (delete triggers).
 */
async function removeMeasured(store: SqlStore): Promise<void> {
  await store.raw.transaction(async (trx) => {
    for (const level of LEVELS) await trx(level.table).where('bucket_us', '>=', PRELOAD_END_US).del();
    await trx('logs').where('ts_us', '>=', PRELOAD_END_US).del();
  });
}

/** Starts `n` `auditspan serve` processes (the built CLI) on `db`; resolves with their OTLP/HTTP URLs. */
async function startServes(db: string, n: number): Promise<{ urls: string[]; stop(): Promise<void> }> {
  const children: ChildProcess[] = [];
  const urls = await Promise.all(Array.from({ length: n }, () => new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--otlp-port', '0', '--otlp-grpc-port', '0', '--db', db], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('auditspan listening'));
      if (line) resolve((JSON.parse(line) as { otlpHttp: string }).otlpHttp);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  })));
  return {
    urls,
    stop: () => Promise.all(children.map((c) => new Promise<void>((res) => {
      if (c.exitCode !== null) return res();
      c.once('exit', () => res());
      c.kill('SIGTERM');
    }))).then(() => undefined),
  };
}

/** Sends every body, SENDERS at a time per receiver URL; returns spans/s. */
async function send(urls: string[], bodies: Array<Uint8Array<ArrayBuffer>>, spans: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(urls.flatMap((url) => Array.from({ length: SENDERS }, async () => {
    while (next < bodies.length) await postUntilStored(url, bodies[next++]);
  })));
  return spans / ((performance.now() - t) / 1000);
}

/** A value in COPY's text format: \\N for NULL, backslash escapes for the separators. */
const copyText = (v: unknown): string =>
  v === null || v === undefined ? '\\N' : String(v).replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);

/**
 * The physical limit: the same rows into the same indexed `logs` table through the bare driver,
 * 512 rows per transaction — a prepared single-row statement on better-sqlite3 (the fastest
 * SQLite path, NOTES.md) followed by the batch's search indexing that the schema needs (one
 * `INSERT … SELECT` per FTS5 table, as every write path does), one `COPY … FROM STDIN` on
 * PostgreSQL (its fastest bulk load, NOTES.md; the search index is a GIN index, kept by the
 * load) — with no mapping, no rollups, no knex and no duplicate handling. Returns rows/s.
 */
async function rawDriverInsert(dialect: 'sqlite' | 'postgres', target: BenchStore, records: AuditRecord[]): Promise<number> {
  const now = Date.now();
  const rows = records.map((r) => toRow(r, now));
  const columns = Object.keys(rows[0]);
  const values = (row: Record<string, unknown>) => columns.map((c) => (typeof row[c] === 'boolean' ? (row[c] ? 1 : 0) : row[c]));
  if (dialect === 'sqlite') {
    const db = new Database(target.url);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 10000');
    // The same page cache as the store it is compared with.
    if (SQLITE_CACHE_MB) db.pragma(`cache_size = ${-1024 * SQLITE_CACHE_MB}`);
    const stmt = db.prepare(`INSERT INTO logs (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    const maxId = db.prepare('SELECT coalesce(max(id), 0) FROM logs').pluck();
    const batch = db.transaction((chunk: Array<Record<string, unknown>>) => {
      const bound = maxId.get() as number;
      for (const row of chunk) stmt.run(values(row));
      indexNewRowsSync(db, bound);
    });
    const t = performance.now();
    for (let i = 0; i < rows.length; i += BATCH) batch(rows.slice(i, i + BATCH));
    const rate = rows.length / ((performance.now() - t) / 1000);
    db.close();
    return rate;
  }
  const client = new Client({ connectionString: target.url });
  await client.connect();
  const copy = `COPY logs (${columns.join(', ')}) FROM STDIN`;
  const t = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    const text = rows.slice(i, i + BATCH).map((row) => `${values(row).map(copyText).join('\t')}\n`).join('');
    const stream = client.query(copyFrom(copy));
    await pipeline(Readable.from([text]), stream);
  }
  const rate = rows.length / ((performance.now() - t) / 1000);
  await client.end();
  return rate;
}

export async function run(): Promise<string> {
  const spans: ReadableSpan[] = await makeServerSpans(BATCH * BATCHES);
  const bodies = protobufBatches(spans, BATCH);
  const total = BATCH * BATCHES;
  const map = createRecordMapper();
  const records: AuditRecord[] = spans.map((s) => map(toSpanInput(s))!);

  // Decode and map alone, in process: the CPU cost per span before any database.
  const decodeRuns: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (const body of bodies) for (const s of decodeProtobuf(body).spans) map(s);
    decodeRuns.push(total / ((performance.now() - t) / 1000));
  }

  const rows: Array<Array<string>> = [];
  const processRows: Array<Array<string>> = [];
  for (const dialect of dialects(await pgReachable())) {
    await ensureDatasets(dialect);
    const raw: number[] = [];
    const direct: number[] = [];
    const viaReceiver: number[] = [];
    const viaOne: number[] = [];
    const viaMany: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // The raw insert opens the file with better-sqlite3: so does the store here (one SQLite copy per file).
      const base = await target(dialect, 'better-sqlite3');
      raw.push(await rawDriverInsert(dialect, base, records));
      await base.dispose();

      // The store's own write path, in process: the same rows, 512 per call.
      const a = await target(dialect);
      let t = performance.now();
      for (let i = 0; i < records.length; i += BATCH) await a.store.insertBatch(records.slice(i, i + BATCH));
      direct.push(total / ((performance.now() - t) / 1000));
      await a.dispose();

      const b = await target(dialect);
      const receiver = await startOtlpHttpReceiver({ store: b.store, port: 0 });
      viaReceiver.push(await send([`http://127.0.0.1:${receiver.port}/v1/traces`], bodies, total));
      const stored = await b.store.countLogs({ from: b.fromMs });
      if (stored !== total) throw new Error(`ingest: ${stored} rows stored for ${total} spans acknowledged`);
      await receiver.close();
      await b.dispose();

      // One `serve` process, as deployed (its own heap and event loop, not the benchmark's), then
      // on PostgreSQL several on one database; each with SENDERS senders.
      const steps: Array<readonly [number, number[]]> = [[1, viaOne]];
      if (dialect === 'postgres' && RECEIVERS > 1) steps.push([RECEIVERS, viaMany]);
      for (const [n, out] of steps) {
        const c = await target(dialect);
        const serves = await startServes(c.url, n);
        out.push(await send(serves.urls, bodies, total));
        await serves.stop();
        const count = await c.store.countLogs({ from: c.fromMs });
        if (count !== total) throw new Error(`ingest: ${count} rows stored for ${total} spans acknowledged by ${n} serve processes`);
        await c.dispose();
      }
    }
    if (viaMany.length > 0) {
      processRows.push([`1 serve process`, fmt(median(viaOne)), ratio(median(viaOne), median(raw))]);
      processRows.push([`${RECEIVERS} serve processes`, fmt(median(viaMany)), ratio(median(viaMany), median(raw))]);
    }
    const b = median(raw);
    const d = median(direct);
    const v = median(viaReceiver);
    const one = median(viaOne);
    rows.push([dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL', fmt(b), fmt(d), fmt(v), ratio(v, b), fmt(one), ratio(one, b)]);
  }

  return [
    '## OTLP ingest',
    '',
    `\`npm run bench -- ingest\` — ${BATCHES} OTLP/HTTP protobuf requests × ${BATCH} HTTP server spans (${fmt(total)} spans,`,
    `with request bodies to redact), ${SENDERS} concurrent senders, acknowledged only once committed; ${ROUNDS} rounds, medians,`,
    PRELOAD > 0
      ? `each round into a table already holding ${fmt(PRELOAD)} rows on PostgreSQL and ${fmt(PRELOAD_SQLITE)} on SQLite (the datasets of bench/dataset.ts, with their rollups and search indexes; BENCH_INGEST_PRELOAD, BENCH_INGEST_PRELOAD_SQLITE; the measured rows and their rollup rows are removed after each step). Every acknowledged span was counted in the database.`
      : 'each round into a fresh database. Every acknowledged span was counted in the database.',
    '',
    table(['database', 'raw driver insert (rows/s)', 'store.insertBatch in process (rows/s)', 'receiver in the benchmark\'s process (spans/s)', 'vs raw', 'one `serve` process (spans/s)', 'serve vs raw'], rows),
    '',
    'Raw driver insert: the same rows into the same indexed table through the bare driver (better-sqlite3 prepared',
    'statement and the batch\'s FTS5 indexing / PostgreSQL COPY FROM STDIN), 512 per transaction, no mapping, no rollups, no knex,',
    'no duplicate handling. The receiver in the benchmark\'s process shares its event loop and heap with the senders and',
    'the 20,480 prepared spans; one `serve` process (the built CLI) is the receiver as deployed.',
    '',
    `Decoding protobuf + mapping + redaction alone, in process: ${fmt(median(decodeRuns))} spans/s on one core.`,
    ...(processRows.length > 0
      ? ['', `Several receivers, one PostgreSQL: built \`auditspan serve\` processes, ${SENDERS} senders each, the same batches (BENCH_INGEST_RECEIVERS):`, '',
        table(['receivers', 'combined spans/s', 'vs raw driver insert'], processRows)]
      : []),
  ].join('\n');
}
