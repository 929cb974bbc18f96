/**
 * A large database made once and reused across benchmark runs: `rows` audit rows spread evenly
 * over the 30 days before `endMs`, generated inside the database by one INSERT … SELECT per
 * million rows (the fastest raw path: no driver round trip per row). PostgreSQL: a database of
 * its own name next to the test database; SQLite: a file under BENCH_DATA_DIR.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Client } from 'pg';
import { openStore, type SqlStore } from '../src/store';
import { DAY_US, ensurePartitions } from '../src/store/partitions';
import { rebuildSqliteIndexes } from '../src/store/sqlite-indexes';
import { PG_URL } from '../test/helpers/stores';
import { fmt } from './lib';

const CHUNK = 1_000_000;
const DAYS = 30;

/** The SELECT list of one generated row, from the integer `g` (the same SQL on both databases). */
export function rowSql(g: string, tsUs: string, nowMs: number, dialect: 'sqlite' | 'postgres'): string {
  const last16 = (e: string) => (dialect === 'postgres' ? `right(${e}, 16)` : `substr(${e}, -16)`);
  const pick = (values: string[]) => `CASE ${g} % ${values.length} ${values.map((v, i) => `WHEN ${i} THEN '${v}'`).join(' ')} END`;
  const status = `(CASE WHEN ${g} % 17 = 0 THEN 422 WHEN ${g} % 53 = 0 THEN 500 WHEN ${g} % 4 = 1 THEN 201 ELSE 200 END)`;
  return [
    `${last16(`'0000000000000000' || ${g}`)} || ${last16(`'0000000000000000' || (${g} * 7919)`)}`,
    last16(`'0000000000000000' || (${g} * 104729)`),
    tsUs,
    pick(['GET', 'POST', 'GET', 'PATCH']),
    `'https://api.example.com/v1/customers/cus_' || (${g} % 9000)`,
    pick(['/v1/customers/{id}', '/v1/charges', '/v1/invoices', '/v1/subscriptions/{id}']),
    status, `${status} / 100`, `(${g} % 997) / 10.0`,
    `'token-' || (${g} % 12)`, `'203.0.113.' || (${g} % 250)`, "'acme-sdk/2.1 node/20'", "'erp'", `'company-' || (${g} % 40)`, "'payments-api'",
    `CASE WHEN ${g} % 4 = 1 THEN '{"amount":1,"currency":"eur","card":"[REDACTED]"}' END`, 'NULL', `'{"content-type":"application/json"}'`,
    'false', `CASE WHEN ${g} % 53 = 0 THEN 'upstream timeout' END`, String(nowMs), String(nowMs),
  ].join(', ');
}

export const COLUMNS = 'trace_id, span_id, ts_us, method, url, endpoint, status, status_class, latency_ms, token_name, client_ip, user_agent, client_id, company_id, service, request_payload, response_payload, request_headers, truncated, error, created_at, updated_at';

export interface Preloaded {
  url: string;
  /** Rows end before this instant (µs): the benchmark's own rows come after. */
  endUs: number;
}

/** PostgreSQL database `name` holding at least `rows` generated rows (made when missing). */
export async function preloadPostgres(name: string, rows: number, endMs: number): Promise<Preloaded> {
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount;
  if (!exists) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const store = await openStore({ url, poolSize: 2 });
  try {
    await fill(store, rows, endMs, async (from, to, startUs, stepUs) => {
      await ensurePartitions(store.raw, Array.from({ length: DAYS + 1 }, (_, d) => startUs + d * DAY_US), DAY_US);
      await store.raw.raw(`INSERT INTO logs (${COLUMNS}) SELECT ${rowSql('g', `${startUs} + g * ${stepUs}`, endMs, 'postgres')} FROM generate_series(${from}::bigint, ${to - 1}) g`);
    }, () => store.raw.raw('ANALYZE logs'));
  } finally {
    await store.close();
  }
  return { url, endUs: endMs * 1000 };
}

/** SQLite file `path` holding at least `rows` generated rows (made when missing). */
export async function preloadSqlite(path: string, rows: number, endMs: number): Promise<Preloaded> {
  mkdirSync(dirname(path), { recursive: true });
  const store = await openStore({ url: path, sqliteDriver: 'better-sqlite3' });
  try {
    await fill(store, rows, endMs, async (from, to, startUs, stepUs) => {
      await store.raw.raw(
        `WITH RECURSIVE s(g) AS (SELECT ${from} UNION ALL SELECT g + 1 FROM s WHERE g < ${to - 1}) ` +
          `INSERT INTO logs (${COLUMNS}) SELECT ${rowSql('g', `${startUs} + g * ${stepUs}`, endMs, 'sqlite')} FROM s`,
      );
    }, async () => {
      // The rows bypassed the store's write path: the search index is built over all of them at once.
      await rebuildSqliteIndexes(store.raw);
      await store.raw.raw('ANALYZE');
    });
  } finally {
    await store.close();
  }
  return { url: path, endUs: endMs * 1000 };
}

/** Adds the missing rows, then `analyze` (only when rows were added: it takes minutes at 10 M rows). */
async function fill(store: SqlStore, rows: number, endMs: number, insert: (from: number, to: number, startUs: number, stepUs: number) => Promise<void>, analyze: () => Promise<unknown>): Promise<void> {
  const have = Number(((await store.raw('logs').count('* as n').first()) as { n: number | string }).n);
  if (have >= rows) return;
  // Generated rows are numbered from 0 and placed by number, so a run can resume a partial fill.
  const startUs = (endMs - DAYS * 86_400_000) * 1000;
  const stepUs = Math.floor((DAYS * DAY_US) / rows);
  const started = performance.now();
  for (let from = have; from < rows; from += CHUNK) {
    const to = Math.min(rows, from + CHUNK);
    process.stderr.write(`preload: ${fmt(from)} / ${fmt(rows)} rows (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
    await insert(from, to, startUs, stepUs);
  }
  await analyze();
  process.stderr.write(`preload: ${fmt(rows)} rows in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
