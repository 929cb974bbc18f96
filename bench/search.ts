/**
 * Finding one request at scale (issue target "≤ 100 ms at 10 M rows"): a search for a rare value
 * — a request id, a trace id, a client IP, a word that appears in one payload — through the real
 * query API over HTTP, p50/p95, against `/healthz` on the same server in the same run; a common
 * word and an unfiltered first page for comparison; and the query plans (no full scan).
 *
 * The rows are generated inside the database (one INSERT … SELECT per million rows: SQLite's
 * recursive CTE, PostgreSQL's generate_series), the fastest raw path, so that 10 M rows take
 * minutes. Five planted rows carrying the rare values go through `insertBatch`, the store's own
 * write path. Data is kept for reuse: BENCH_SEARCH_DIR (default /work/benchdata/search) and
 * database bench_search_<rows> (PostgreSQL); BENCH_SEARCH_DROP=1 deletes both at the end.
 *
 *   BENCH_SEARCH_ROWS=10000000 npm run bench -- search
 *   BENCH_SEARCH_DATASET=1 BENCH_SEARCH_ROWS=10000000 npm run bench -- search   # on bench/dataset.ts's rows
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createHttpApp, parseQuery, toFilter } from '../src/query-api';
import type { AuditRecord } from '../src/record/types';
import { openStore, type SqlStore } from '../src/store';
import { MIGRATION_CONFIG } from '../src/store/migrations';
import { listen } from '../test/helpers/http';
import { DATASET_END_MS, openDataset } from './dataset';
import { fmt, median, percentile, PG_URL, pgReachable, ratio, table } from './lib';

const ROWS = Number(process.env.BENCH_SEARCH_ROWS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SEARCH_SAMPLES ?? 20);
const DIR = process.env.BENCH_SEARCH_DIR ?? '/work/benchdata/search';
const DROP = process.env.BENCH_SEARCH_DROP === '1';
const ONLY = process.env.BENCH_SEARCH_DB; // sqlite | postgres
/** 1: search the datasets of bench/dataset.ts (the fixtures' mix, shared with `rollups`) instead of generating rows. */
const USE_DATASET = process.env.BENCH_SEARCH_DATASET === '1';
const CHUNK = 1_000_000;
const DAY = 86_400_000;
const label = ROWS >= 1e6 && ROWS % 1e6 === 0 ? `${ROWS / 1e6}m` : String(ROWS);

/** The rare values: each appears in exactly one planted row. */
const RARE = {
  requestId: 'req-7f3a9c41-planted',
  traceId: '7f3a9c41d2e84b6f9a0c1e2d3f4a5b6c',
  ip: '198.51.100.77',
  word: 'zanzibarquokka',
};

const METHODS = `'["GET","GET","GET","POST","POST","DELETE","PATCH","GET","GET","POST"]'`;
const ENDPOINTS = `'["/v1/customers","/v1/customers/{id}","/v1/invoices","/v1/charges","/v1/refunds","/v1/customers/{id}","/v1/subscriptions/{id}","/v1/events","/v1/invoices/{id}","/v1/customers"]'`;
const STATUSES = [200, 200, 200, 200, 200, 200, 201, 201, 204, 301, 304, 400, 401, 402, 403, 404, 409, 422, 429, 500, 502, 503];

/**
 * One million generated rows (SQLite). `r` and `status` are functions of the row number: SQLite
 * evaluates random() again at each reference to a CTE column, which would let a row's status and
 * error disagree.
 */
function sqliteChunk(n: number, startUs: number, stepUs: number, now: number): string {
  return `INSERT INTO logs (trace_id, span_id, ts_us, method, url, endpoint, status, status_class, latency_ms, token_name, client_ip, user_agent,
      client_id, company_id, service, request_payload, response_payload, request_headers, truncated, error, created_at, updated_at)
    WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ${n - 1}),
    g AS (SELECT i, (i * 2654435761 + 12345) % 4294967296 AS r, json_extract('[${STATUSES.join(',')}]', '$[' || ((i * 40503 + 7) % ${STATUSES.length}) || ']') AS status FROM seq)
    SELECT printf('%016x%016x', random(), random()), printf('%016x', random()), ${startUs} + i * ${stepUs},
      json_extract(${METHODS}, '$[' || (i % 10) || ']'),
      'https://api.example.com' || replace(json_extract(${ENDPOINTS}, '$[' || (i % 10) || ']'), '{id}', 'cus_' || (r % 100000)) || CASE WHEN r % 3 = 0 THEN char(63) || 'page=' || (r % 7) ELSE '' END,
      json_extract(${ENDPOINTS}, '$[' || (i % 10) || ']'), status, status / 100, 5 + (r % 400) / 3.0,
      'token-' || (r % 40), '10.' || ((r >> 8) % 256) || '.' || ((r >> 16) % 256) || '.' || ((r >> 24) % 256), 'acme-sdk/2.1 node/20',
      'client-' || ((r >> 4) % 5000), 'company-' || ((r >> 12) % 50), 'payments-api',
      CASE WHEN i % 10 IN (3, 4, 6, 9) THEN '{"amount":' || (r % 10000) || ',"currency":"eur","customer":"cus_' || printf('%06x', (r >> 20) % 16777216) || '","note":"order ' || (r % 1000) || '"}' END,
      CASE WHEN status >= 400 THEN '{"error":{"message":"request failed with ' || status || '"}}' END,
      '{"content-type":"application/json","x-request-id":"' || printf('%016x', random()) || '"}', 0,
      CASE WHEN status >= 400 THEN 'request failed with ' || status || CASE WHEN status = 500 THEN ': database timeout' ELSE '' END END,
      ${now}, ${now}
    FROM g`;
}

/** One million generated rows (PostgreSQL). */
function pgChunk(n: number, startUs: number, stepUs: number, now: number): string {
  return `INSERT INTO logs (trace_id, span_id, ts_us, method, url, endpoint, status, status_class, latency_ms, token_name, client_ip, user_agent,
      client_id, company_id, service, request_payload, response_payload, request_headers, truncated, error, created_at, updated_at)
    SELECT md5(random()::text), substr(md5(random()::text), 1, 16), ${startUs}::bigint + i::bigint * ${stepUs},
      (${METHODS}::json ->> (i % 10)::int),
      'https://api.example.com' || replace(${ENDPOINTS}::json ->> (i % 10)::int, '{id}', 'cus_' || (r % 100000)) || CASE WHEN r % 3 = 0 THEN chr(63) || 'page=' || (r % 7) ELSE '' END,
      ${ENDPOINTS}::json ->> (i % 10)::int, status, status / 100, 5 + (r % 400) / 3.0,
      'token-' || (r % 40), '10.' || ((r >> 8) % 256) || '.' || ((r >> 16) % 256) || '.' || ((r >> 24) % 256), 'acme-sdk/2.1 node/20',
      'client-' || ((r >> 4) % 5000), 'company-' || ((r >> 12) % 50), 'payments-api',
      CASE WHEN i % 10 IN (3, 4, 6, 9) THEN '{"amount":' || (r % 10000) || ',"currency":"eur","customer":"cus_' || lpad(to_hex((r >> 20) % 16777216), 6, '0') || '","note":"order ' || (r % 1000) || '"}' END,
      CASE WHEN status >= 400 THEN '{"error":{"message":"request failed with ' || status || '"}}' END,
      '{"content-type":"application/json","x-request-id":"' || substr(md5(random()::text), 1, 16) || '"}', false,
      CASE WHEN status >= 400 THEN 'request failed with ' || status || CASE WHEN status = 500 THEN ': database timeout' ELSE '' END END,
      ${now}, ${now}
    FROM (SELECT i, (random() * 2147483647)::bigint AS r, ('{${STATUSES.join(',')}}'::int[])[1 + floor(random() * ${STATUSES.length})::int] AS status
          FROM generate_series(0, ${n - 1}) AS i) g`;
}

function planted(endMs: number): AuditRecord[] {
  const base: AuditRecord = {
    traceId: 'a'.repeat(32), spanId: '0'.repeat(16), timestampUs: 0, method: 'POST', url: 'https://api.example.com/v1/charges', endpoint: '/v1/charges',
    status: 402, latencyMs: 12.5, tokenName: 'token-1', clientIp: '10.0.0.1', userAgent: 'acme-sdk/2.1 node/20', clientId: 'client-1',
    companyId: 'company-1', service: 'payments-api', requestPayload: '{"amount":100,"currency":"eur"}', responsePayload: '{"error":{"message":"card declined"}}',
    requestHeaders: { 'content-type': 'application/json', 'x-request-id': 'req-planted-0' }, truncated: false, error: 'card declined',
  };
  // Spread over the window: ten days ago, five days ago, …
  const at = (daysAgo: number, i: number) => Math.floor((endMs - daysAgo * DAY) * 1000) + i;
  return [
    { ...base, timestampUs: at(10, 1), spanId: '1'.repeat(16), requestHeaders: { 'x-request-id': RARE.requestId } },
    { ...base, timestampUs: at(5, 2), spanId: '2'.repeat(16), traceId: RARE.traceId },
    { ...base, timestampUs: at(20, 3), spanId: '3'.repeat(16), clientIp: RARE.ip },
    { ...base, timestampUs: at(15, 4), spanId: '4'.repeat(16), requestPayload: `{"amount":100,"note":"gift for ${RARE.word}"}` },
  ];
}

/** Seeding: migration 007 is reverted, the rows generated, then 007 applied again — its backfill, timed. */
async function seed(store: SqlStore, endMs: number): Promise<{ seedSeconds: number; backfillSeconds: number }> {
  const have = await store.countLogs({});
  if (have >= ROWS) {
    // A run stopped after generating rows but before planting them: plant them now.
    if (!(await store.raw('logs').where({ span_id: '1'.repeat(16) }).first('id'))) {
      await store.insertBatch(planted(endMs));
      await store.raw.raw(store.dialect === 'postgres' ? 'VACUUM ANALYZE logs' : 'ANALYZE');
    }
    return { seedSeconds: 0, backfillSeconds: 0 };
  }
  if (have !== 0) await store.raw('logs').del();
  const started = Date.now();
  // 010 first: on SQLite it indexes ids in a table that 007's backfill does not fill.
  await store.raw.migrate.down({ ...MIGRATION_CONFIG, name: '010_sqlite_write_indexes' });
  await store.raw.migrate.down({ ...MIGRATION_CONFIG, name: '007_search' });
  const stepUs = Math.floor((30 * DAY * 1000) / ROWS);
  const startUs = endMs * 1000 - ROWS * stepUs;
  for (let i = 0; i < ROWS; i += CHUNK) {
    const n = Math.min(CHUNK, ROWS - i);
    const sql = store.dialect === 'postgres' ? pgChunk(n, startUs + i * stepUs, stepUs, Date.now()) : sqliteChunk(n, startUs + i * stepUs, stepUs, Date.now());
    await store.raw.raw(sql);
    process.stderr.write(`\rsearch: seeded ${fmt(i + n)} / ${fmt(ROWS)} rows (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  process.stderr.write('\n');
  const backfillStarted = Date.now();
  await store.raw.migrate.latest(MIGRATION_CONFIG);
  const backfillSeconds = (Date.now() - backfillStarted) / 1000;
  process.stderr.write(`search: migration 007 built the search indexes over ${fmt(ROWS)} rows in ${fmt(backfillSeconds, 1)} s\n`);
  // The planted rows go through the store's own write path, with the search indexes in place.
  await store.insertBatch(planted(endMs));
  await store.raw.raw(store.dialect === 'postgres' ? 'VACUUM ANALYZE logs' : 'ANALYZE');
  return { seedSeconds: (Date.now() - started) / 1000, backfillSeconds };
}

async function openSeeded(dialect: 'sqlite' | 'postgres', endMs: number): Promise<{ store: SqlStore; seeded: { seedSeconds: number; backfillSeconds: number }; dispose(): Promise<void> }> {
  if (USE_DATASET) {
    const { store } = await openDataset(dialect, ROWS);
    const rows = planted(endMs);
    await store.insertBatch(rows);
    return {
      store, seeded: { seedSeconds: 0, backfillSeconds: 0 },
      async dispose() {
        // The dataset is shared: the planted rows go again (its rollups keep their few counts, which no timing depends on).
        await store.raw('logs').whereIn('span_id', rows.map((r) => r.spanId)).del();
        await store.close();
      },
    };
  }
  if (dialect === 'sqlite') {
    mkdirSync(DIR, { recursive: true });
    const file = join(DIR, `search-${label}.db`);
    const store = await openStore({ url: file });
    const seeded = await seed(store, endMs);
    return {
      store, seeded,
      async dispose() {
        await store.close();
        if (DROP) for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) rmSync(file + suffix);
      },
    };
  }
  const name = `bench_search_${label}`;
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  if ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  const store = await openStore({ url: u.toString() });
  const seeded = await seed(store, endMs);
  return {
    store, seeded,
    async dispose() {
      await store.close();
      if (!DROP) return;
      const c = new Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function timed(url: string, headers: Record<string, string>): Promise<{ ms: number; body: string }> {
  const t = performance.now();
  const res = await fetch(url, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`search: ${url} answered ${res.status}: ${body.slice(0, 200)}`);
  return { ms: performance.now() - t, body };
}

export async function run(): Promise<string> {
  const endMs = USE_DATASET ? DATASET_END_MS : Math.floor(Date.now() / DAY) * DAY;
  const sections: string[] = [];
  const wanted = (await pgReachable()) ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
  for (const dialect of wanted.filter((d) => !ONLY || d === ONLY)) {
    const { store, seeded, dispose } = await openSeeded(dialect, endMs);
    const { seedSeconds, backfillSeconds } = seeded;
    const adminKey = 'bench-admin-key-0123456789abcdef';
    const { base, close } = await listen(createHttpApp({ store, adminKey, version: 'bench', authFailureLimit: 1_000_000 }));
    const headers = { authorization: `Bearer ${adminKey}` };
    try {
      const sample = async (path: string, expect?: number): Promise<number[]> => {
        const first = await timed(`${base}${path}`, headers);
        const found = (JSON.parse(first.body) as { data?: unknown[] }).data?.length;
        if (expect !== undefined && found !== expect) throw new Error(`search: ${path} found ${found} rows, expected ${expect}`);
        for (let i = 0; i < 2; i++) await timed(`${base}${path}`, headers);
        const out: number[] = [];
        for (let i = 0; i < SAMPLES; i++) out.push((await timed(`${base}${path}`, headers)).ms);
        return out;
      };
      const healthz = median(await sample('/healthz'));
      const cases: Array<[string, string, number | undefined]> = [
        ['requestId: (one row)', `requestId:${RARE.requestId}`, 1],
        ['traceId: (one row)', `traceId:${RARE.traceId}`, 1],
        ['ip: (one row)', `ip:${RARE.ip}`, 1],
        ['a word in one payload', RARE.word, 1],
        ['a word in one payload, company-scoped', `${RARE.word} company:company-1`, 1],
        ['two words, one row', `${RARE.word} gift`, 1],
        ['a common word ("timeout", ~1 row in 22)', 'timeout', 50],
        ['a word in no row', 'nowherewordxyz', 0],
        ['no search (baseline page)', '', 50],
      ];
      const rows: string[][] = [];
      const plans: string[] = [];
      for (const [name, q, expect] of cases) {
        const times = await sample(`/api/logs?limit=50${q ? `&q=${encodeURIComponent(q)}` : ''}`, expect);
        rows.push([name, `\`${q}\``, `${fmt(median(times), 1)} ms`, `${fmt(percentile(times, 95), 1)} ms`, ratio(median(times), healthz)]);
        if (q) plans.push(`${name}:\n${(await store.explainListLogs(toFilter(parseQuery('logs', { q })))).split('\n').map((l) => `    ${l}`).join('\n')}`);
      }
      sections.push([
        `### ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL 15'}, ${fmt(ROWS)} rows${seedSeconds ? ` (generated in ${fmt(seedSeconds)} s; migration 007's backfill of the search indexes over them: ${fmt(backfillSeconds, 1)} s, ${fmt(backfillSeconds / (ROWS / 1e6), 1)} s per million rows)` : ''}`,
        '',
        `Baseline: \`GET /healthz\` ${fmt(healthz, 2)} ms.`,
        '',
        table(['search (limit=50)', 'q', 'p50', 'p95', 'vs /healthz'], rows),
        '',
        '<details><summary>Query plans (the index query; a plain word is first tried on the newest 2 000 rows)</summary>',
        '',
        '```',
        ...plans,
        '```',
        '',
        '</details>',
      ].join('\n'));
    } finally {
      await close();
      await dispose();
    }
  }
  return [
    '## Finding one request',
    '',
    USE_DATASET
      ? `\`BENCH_SEARCH_DATASET=1 BENCH_SEARCH_ROWS=${ROWS} npm run bench -- search\` — the ${fmt(ROWS)}-row dataset of bench/dataset.ts (the fixtures' mix over 30 days) plus four planted rows`
      : `\`BENCH_SEARCH_ROWS=${ROWS} npm run bench -- search\` — ${fmt(ROWS)} generated rows over 30 days plus four planted rows`,
    `(written by insertBatch) carrying the rare values; through the query API over HTTP with an admin key; ${SAMPLES} requests`,
    'per line after 2 warm-ups, one at a time.',
    '',
    ...sections,
  ].join('\n');
}
