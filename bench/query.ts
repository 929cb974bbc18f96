/**
 * Query latency at scale, through the real query API over HTTP: the first page (50 rows,
 * newest first) for each documented filter, a deep page by cursor, one log by id, stats, facets and the
 * export rate, on 1 M generated rows over 30 days in SQLite and PostgreSQL. The baseline is
 * `/healthz` on the same server in the same run (the HTTP round trip itself). The query plans
 * are printed too: every first page must walk an index in (ts, id) order.
 *
 * The seeded databases are kept in .bench-data/ (SQLite) and as database
 * auditspan_bench_q_<rows> (PostgreSQL), so that later runs skip the seeding.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createHttpApp, generateApiKey, parseQuery, toFilter } from '../src/query-api';
import { openStore, type SqlStore } from '../src/store';
import { generateRecords } from '../test/helpers/fixtures';
import { listen } from '../test/helpers/http';
import { fmt, median, percentile, PG_URL, pgReachable, ratio, table } from './lib';

const ROWS = Number(process.env.BENCH_QUERY_ROWS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_QUERY_SAMPLES ?? 30);
const DATA_DIR = join(__dirname, '..', '.bench-data');
const DAY = 86_400_000;

async function seed(store: SqlStore, end: number): Promise<void> {
  const have = await store.countLogs({});
  if (have === ROWS) return;
  if (have !== 0) await store.raw('logs').del();
  const chunk = 20_000;
  const started = Date.now();
  for (let i = 0; i < ROWS; i += chunk) {
    // Seeded per chunk so that the data is the same on every run and database.
    const records = generateRecords(Math.min(chunk, ROWS - i), 1000 + i / chunk, { endMs: end - (i / ROWS) * 30 * DAY, spanMs: (chunk / ROWS) * 30 * DAY });
    for (let j = 0; j < records.length; j += 500) await store.insertBatch(records.slice(j, j + 500));
    process.stderr.write(`\rquery: seeding ${fmt(i + records.length)} / ${fmt(ROWS)} rows (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  process.stderr.write('\n');
  if (store.dialect === 'postgres') await store.raw.raw('VACUUM ANALYZE logs');
  else await store.raw.raw('ANALYZE');
}

async function openSeeded(dialect: 'sqlite' | 'postgres', end: number): Promise<SqlStore> {
  if (dialect === 'sqlite') {
    mkdirSync(DATA_DIR, { recursive: true });
    const store = await openStore({ url: join(DATA_DIR, `query-${ROWS}.db`) });
    await seed(store, end);
    return store;
  }
  const name = `auditspan_bench_q_${ROWS}`;
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  const store = await openStore({ url: u.toString() });
  await seed(store, end);
  return store;
}

function queryObject(qs: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(qs)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

async function timed(url: string, headers: Record<string, string>): Promise<{ ms: number; body: string }> {
  const t = performance.now();
  const res = await fetch(url, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`query: ${url} answered ${res.status}: ${body.slice(0, 200)}`);
  return { ms: performance.now() - t, body };
}

async function sample(url: string, headers: Record<string, string>, n = SAMPLES): Promise<number[]> {
  for (let i = 0; i < 3; i++) await timed(url, headers);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await timed(url, headers)).ms);
  return out;
}

export async function run(): Promise<string> {
  const sections: string[] = [];
  // The newest row is "now" rounded to the day, so that time windows hit data on any run.
  const end = Math.floor(Date.now() / DAY) * DAY;
  for (const dialect of (await pgReachable()) ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
    const seededAt = Date.now();
    const store = await openSeeded(dialect, end);
    const newest = (await store.listLogs({}, { limit: 1 })).data[0];
    const newestMs = newest.timestampUs / 1000;
    const seedSeconds = (Date.now() - seededAt) / 1000;
    const viewer = generateApiKey();
    await store.raw('api_keys').where({ name: 'bench-acme' }).del();
    await store.createApiKey({ name: 'bench-acme', companyId: 'acme', hash: viewer.hash });
    const adminKey = 'bench-admin-key-0123456789abcdef';
    const { base, close } = await listen(createHttpApp({ store, adminKey, version: 'bench', authFailureLimit: 1_000_000 }));
    const admin = { authorization: `Bearer ${adminKey}` };
    const acme = { authorization: `Bearer ${viewer.key}` };
    try {
      const healthz = median(await sample(`${base}/healthz`, {}));
      const hour = `from=${Math.round(newestMs - 2 * DAY)}&to=${Math.round(newestMs - 2 * DAY + 3_600_000)}`;
      const cases: Array<[string, string, Record<string, string>]> = [
        ['newest, no filter', '', admin],
        ['status=5xx', 'status=5xx', admin],
        ['status=404', 'status=404', admin],
        ['endpoint=/v1/charges', 'endpoint=%2Fv1%2Fcharges', admin],
        ['token=prod-billing', 'token=prod-billing', admin],
        ['method=DELETE', 'method=DELETE', admin],
        ['endpoint + status=4xx + token', 'endpoint=%2Fv1%2Fcharges&status=4xx&token=prod-billing', admin],
        ['one hour, two days ago', hour, admin],
        ['minLatencyMs=250', 'minLatencyMs=250', admin],
        ['q=timeout (text search)', 'q=timeout', admin],
        ['viewer key (company acme), status=5xx', 'status=5xx', acme],
      ];
      const rows: string[][] = [];
      const plans: string[] = [];
      for (const [name, qs, headers] of cases) {
        const times = await sample(`${base}/api/logs?limit=50${qs ? `&${qs}` : ''}`, headers);
        rows.push([name, `${fmt(median(times), 1)} ms`, `${fmt(percentile(times, 95), 1)} ms`, ratio(median(times), healthz)]);
        const filter = toFilter(parseQuery('logs', queryObject(qs)));
        if (headers === acme) filter.companyId = 'acme';
        plans.push(`${name}:\n${(await store.explainListLogs(filter)).split('\n').map((l) => `    ${l}`).join('\n')}`);
      }
      // A deep page: follow the cursor 20 pages down, then time that page.
      let cursor = '';
      for (let i = 0; i < 20; i++) {
        const page = JSON.parse((await timed(`${base}/api/logs?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, admin)).body) as { nextCursor: string };
        cursor = page.nextCursor;
      }
      const deep = await sample(`${base}/api/logs?limit=50&cursor=${encodeURIComponent(cursor)}`, admin);
      rows.push(['page 21 by cursor', `${fmt(median(deep), 1)} ms`, `${fmt(percentile(deep, 95), 1)} ms`, ratio(median(deep), healthz)]);
      // One log by its id (the detail panel): one entry of the unique (ts_us, span_id, trace_id) index.
      const detail = await sample(`${base}/api/logs/${encodeURIComponent(newest.id)}`, admin);
      rows.push(['one log by id', `${fmt(median(detail), 1)} ms`, `${fmt(percentile(detail, 95), 1)} ms`, ratio(median(detail), healthz)]);
      for (const [name, path] of [['stats, last 24 h', `/api/stats?from=${Math.round(newestMs - DAY)}`], ['stats, 30 days', '/api/stats'], ['facets, last 24 h', `/api/facets?from=${Math.round(newestMs - DAY)}`]] as const) {
        const times = await sample(`${base}${path}`, admin, 10);
        rows.push([name, `${fmt(median(times), 1)} ms`, `${fmt(percentile(times, 95), 1)} ms`, ratio(median(times), healthz)]);
      }
      // Export: every 4xx row of 30 days as NDJSON, streamed.
      const t = performance.now();
      const exported = (await timed(`${base}/api/export?format=ndjson&status=4xx`, admin)).body.split('\n').filter(Boolean).length;
      const exportRate = exported / ((performance.now() - t) / 1000);

      sections.push([
        `### ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL 15'}, ${fmt(ROWS)} rows${seedSeconds > 5 ? ` (seeded in ${fmt(seedSeconds)} s)` : ''}`,
        '',
        `Baseline: \`GET /healthz\` ${fmt(healthz, 2)} ms.`,
        '',
        table(['request (limit=50)', 'p50', 'p95', 'vs /healthz'], rows),
        '',
        `Export: ${fmt(exported)} rows (status=4xx, NDJSON) at ${fmt(exportRate)} rows/s.`,
        '',
        '<details><summary>Query plans of the first pages</summary>',
        '',
        '```',
        ...plans,
        '```',
        '',
        '</details>',
      ].join('\n'));
    } finally {
      await close();
      await store.close();
    }
  }
  return [
    '## Queries at scale',
    '',
    `\`npm run bench -- query\` — ${fmt(ROWS)} generated rows over 30 days (4 companies, 6 tokens, 10 endpoints, a realistic`,
    `status mix), through the query API over HTTP with an admin key unless noted; ${SAMPLES} requests per line after 3 warm-ups`,
    '(stats and facets: 10), one at a time. Seeded data is kept in .bench-data/ and database auditspan_bench_q_<rows>.',
    '',
    ...sections,
  ].join('\n');
}

