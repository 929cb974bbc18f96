/**
 * OTLP ingest: what the receiver sustains, against writing the same rows straight into the
 * store in the same run. 40 OTLP/HTTP protobuf requests of 512 HTTP server spans (15–20
 * attributes each, request bodies with card data and emails), sent by 2 concurrent senders as
 * a Collector's exporter does; the receiver decodes, maps, redacts and commits before it
 * answers, so "done" means stored. Medians of several rounds, each into a fresh database.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { toSpanInput } from '../src/exporter';
import { startOtlpHttpReceiver } from '../src/receiver';
import { decodeProtobuf } from '../src/receiver/decode';
import { Client } from 'pg';
import sqlite3 from 'sqlite3';
import { createRecordMapper } from '../src/record';
import type { AuditRecord } from '../src/record/types';
import { toRow } from '../src/store/rows';
import { makeServerSpans, postUntilStored, protobufBatches } from '../test/helpers/otlp-batches';
import { dialects, fmt, freshStore, median, pgReachable, ratio, table, type BenchStore } from './lib';

const BATCH = 512;
const BATCHES = Number(process.env.BENCH_INGEST_BATCHES ?? 40);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SENDERS = 2;

/**
 * The physical limit: the same rows into the same indexed `logs` table through the bare driver,
 * 512 rows per transaction — a prepared single-row statement on SQLite (the fastest path with
 * sqlite3, NOTES.md), one multi-row INSERT on PostgreSQL — with no mapping, no knex and no
 * duplicate handling. Returns rows/s.
 */
async function rawDriverInsert(dialect: 'sqlite' | 'postgres', target: BenchStore, records: AuditRecord[]): Promise<number> {
  const now = Date.now();
  const rows = records.map((r) => toRow(r, now));
  const columns = Object.keys(rows[0]);
  const values = (row: Record<string, unknown>) => columns.map((c) => (typeof row[c] === 'boolean' ? (row[c] ? 1 : 0) : row[c]));
  await target.store.close();
  if (dialect === 'sqlite') {
    const db = new sqlite3.Database(target.url);
    const exec = (sql: string) => new Promise<void>((res, rej) => db.exec(sql, (e) => (e ? rej(e) : res())));
    await exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
    const stmt = db.prepare(`INSERT INTO logs (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    const t = performance.now();
    for (let i = 0; i < rows.length; i += BATCH) {
      await exec('BEGIN');
      await Promise.all(rows.slice(i, i + BATCH).map((row) => new Promise<void>((res, rej) => stmt.run(values(row), (e: Error | null) => (e ? rej(e) : res())))));
      await exec('COMMIT');
    }
    const rate = rows.length / ((performance.now() - t) / 1000);
    await new Promise<void>((res) => stmt.finalize(() => db.close(() => res())));
    return rate;
  }
  const client = new Client({ connectionString: target.url });
  await client.connect();
  const t = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    const chunk = rows.slice(i, i + BATCH);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => `(${values(row).map((v) => { params.push(v); return `$${params.length}`; }).join(', ')})`);
    await client.query(`INSERT INTO logs (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, params);
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
  for (const dialect of dialects(await pgReachable())) {
    const raw: number[] = [];
    const direct: number[] = [];
    const viaReceiver: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const base = await freshStore(dialect);
      raw.push(await rawDriverInsert(dialect, base, records));
      await base.dispose();

      // The store's own write path, in process: the same rows, 512 per call.
      const a = await freshStore(dialect);
      let t = performance.now();
      for (let i = 0; i < records.length; i += BATCH) await a.store.insertBatch(records.slice(i, i + BATCH));
      direct.push(total / ((performance.now() - t) / 1000));
      await a.dispose();

      const b = await freshStore(dialect);
      const receiver = await startOtlpHttpReceiver({ store: b.store, port: 0 });
      const url = `http://127.0.0.1:${receiver.port}/v1/traces`;
      let next = 0;
      t = performance.now();
      await Promise.all(Array.from({ length: SENDERS }, async () => {
        while (next < bodies.length) await postUntilStored(url, bodies[next++]);
      }));
      viaReceiver.push(total / ((performance.now() - t) / 1000));
      const stored = await b.store.countLogs({});
      if (stored !== total) throw new Error(`ingest: ${stored} rows stored for ${total} spans acknowledged`);
      await receiver.close();
      await b.dispose();
    }
    const b = median(raw);
    const d = median(direct);
    const v = median(viaReceiver);
    rows.push([dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL', fmt(b), fmt(d), fmt(v), ratio(v, b)]);
  }

  return [
    '## OTLP ingest',
    '',
    `\`npm run bench -- ingest\` — ${BATCHES} OTLP/HTTP protobuf requests × ${BATCH} HTTP server spans (${fmt(total)} spans,`,
    `with request bodies to redact), ${SENDERS} concurrent senders, acknowledged only once committed; ${ROUNDS} rounds, medians,`,
    'each round into a fresh database. Every acknowledged span was counted in the database.',
    '',
    table(['database', 'raw driver insert (rows/s)', 'store.insertBatch in process (rows/s)', 'through the receiver (spans/s)', 'receiver vs raw'], rows),
    '',
    'Raw driver insert: the same rows into the same indexed table through the bare driver (sqlite3 prepared',
    'statement / pg multi-row INSERT), 512 per transaction, no mapping, no knex, no duplicate handling.',
    '',
    `Decoding protobuf + mapping + redaction alone, in process: ${fmt(median(decodeRuns))} spans/s on one core.`,
  ].join('\n');
}
