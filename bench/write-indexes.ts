/**
 * What each SQLite index costs the pipeline's write path (`insertBatch` on better-sqlite3, the
 * in-process worker's driver): the overhead benchmark's rows (two endpoints, one company, random
 * trace ids, small bodies) in 290-row batches after BENCH_WRITE_PRELOAD rows, with every index,
 * and with one derived index dropped at a time. Dropping what the app needs is only done here,
 * to price it. Medians of BENCH_ROUNDS rounds, each on a fresh file. BENCH_WRITE_VARIANTS picks
 * variants by number (1 = every index), e.g. `1,3`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store';
import type { AuditRecord } from '../src/record/types';
import { LATENCY_BIN_SQL } from '../src/store/sqlite-indexes';
import { fmt, median, SQLITE_FILTER_INDEXES, table } from './lib';

const ROWS = Number(process.env.BENCH_WRITE_ROWS ?? 20_000);
const PRELOAD = Number(process.env.BENCH_WRITE_PRELOAD ?? 400_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = Number(process.env.BENCH_WRITE_BATCH ?? 290);

/** Back to the single search tables of migrations 007 and 010, written by the write path as before 012. */
const SINGLE_TABLES = ['DROP VIEW logs_search_all', 'DROP VIEW logs_ids_all', 'DROP TABLE logs_search_parts'];

const VARIANTS: Array<[string, string[]]> = [
  ['every index (what the pipeline writes)', []],
  ['without the latency-bin index', ['DROP INDEX logs_latency_bin_ts']],
  ["with migration 010's latency-bin index (013 added latency_ms and company_id)", ['DROP INDEX logs_latency_bin_ts', `CREATE INDEX logs_latency_bin_ts ON logs (${LATENCY_BIN_SQL}, ts_us, id)`]],
  ['without the id token table (logs_ids)', [...SINGLE_TABLES, 'DROP TABLE logs_ids']],
  ['without the trigram table (logs_search)', [...SINGLE_TABLES, 'DROP TABLE logs_search']],
  ['without either FTS5 table', [...SINGLE_TABLES, 'DROP TABLE logs_ids', 'DROP TABLE logs_search']],
  ['with a B-tree on trace_id added (the index 010 replaced)', ['CREATE INDEX logs_trace_id ON logs (trace_id)']],
  ['without the 12 filter indexes (the unique key kept)', SQLITE_FILTER_INDEXES.map((name) => `DROP INDEX ${name}`)],
  ['without the filter indexes and either FTS5 table (the row, its key and the rollups)', [...SQLITE_FILTER_INDEXES.map((name) => `DROP INDEX ${name}`), ...SINGLE_TABLES, 'DROP TABLE logs_ids', 'DROP TABLE logs_search']],
];

const CHARGE = '{"amount":4200,"currency":"eur","card":{"number":"[REDACTED:card]","cvc":"[REDACTED]"},"email":"[REDACTED:email]"}';

function record(i: number, startUs: number): AuditRecord {
  const post = i % 2 === 1;
  return {
    traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), timestampUs: startUs + i * 300,
    method: post ? 'POST' : 'GET', url: post ? 'http://127.0.0.1:3000/v1/charges' : 'http://127.0.0.1:3000/v1/customers/cus_1042?expand=invoices',
    endpoint: post ? '/v1/charges' : '/v1/customers/:id', status: post ? 201 : 200, latencyMs: 0.5 + Math.random() * 4,
    tokenName: 'prod-billing', clientIp: '127.0.0.1', userAgent: 'autocannon', clientId: 'billing-svc', companyId: 'acme', service: 'api',
    requestPayload: post ? CHARGE : null, responsePayload: null, requestHeaders: { 'content-type': 'application/json' }, truncated: false, error: null,
  };
}

async function measure(ddl: string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'auditspan-bench-'));
  const store = await openStore({ url: join(dir, 'write.db'), sqliteDriver: 'better-sqlite3' });
  try {
    for (const statement of ddl) await store.raw.raw(statement);
    const startUs = (Date.now() - 3_600_000) * 1000;
    for (let i = 0; i < PRELOAD; i += 5000) {
      await store.insertBatch(Array.from({ length: Math.min(5000, PRELOAD - i) }, (_, k) => record(i + k - PRELOAD - 1, startUs)));
    }
    const records = Array.from({ length: ROWS }, (_, i) => record(i, startUs));
    const started = performance.now();
    for (let i = 0; i < ROWS; i += BATCH) await store.insertBatch(records.slice(i, i + BATCH));
    return ((performance.now() - started) * 1000) / ROWS;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<string> {
  const picked = process.env.BENCH_WRITE_VARIANTS?.split(',').map(Number);
  const variants = picked ? VARIANTS.filter((_, i) => i === 0 || picked.includes(i + 1)) : VARIANTS;
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    // Interleaved: the machine's drift falls on every variant alike.
    for (const [name, ddl] of variants) {
      process.stderr.write(`write-indexes: round ${round}/${ROUNDS}, ${name}\n`);
      samples.get(name)!.push(await measure(ddl));
    }
  }
  const all = median(samples.get(VARIANTS[0][0])!);
  return [
    '## What each SQLite index costs the write path',
    '',
    `\`npm run bench -- write-indexes\` — better-sqlite3 \`insertBatch\`, ${fmt(ROWS)} rows of the overhead benchmark's shape in ${BATCH}-row`,
    `batches after ${fmt(PRELOAD)} rows already stored (BENCH_WRITE_ROWS, BENCH_WRITE_PRELOAD, BENCH_WRITE_BATCH), medians of ${ROUNDS} interleaved rounds:`,
    '',
    table(['variant', 'µs per row', 'vs every index'], variants.map(([name]) => {
      const us = median(samples.get(name)!);
      return [name, fmt(us, 1), `${fmt(us / all, 2)}×`];
    })),
  ].join('\n');
}
