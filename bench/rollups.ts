/**
 * Issue 19, targets 2, 3 and 6 through the real query API over HTTP, on the reusable datasets
 * of bench/dataset.ts (BENCH_ROLLUP_ROWS rows over 30 days, default 1 M):
 *
 * - stats and facets for windows of 15 min to 30 days (edges not on whole hours), unfiltered,
 *   filtered and company-scoped, from the rollups; the baseline is the same request answered
 *   from the rows (`minLatencyMs=0` sends it down the raw path) in the same run;
 * - first pages for each documented filter and the UI's combinations, scoped and not, a deep
 *   page by cursor, with their query plans; baseline `/healthz`;
 * - SQLite under retention: ingest rate of 512-row batches with and without a concurrent purge,
 *   the largest WAL seen, and the file size per million rows.
 */
import { copyFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHttpApp, generateApiKey, parseQuery, toFilter } from '../src/query-api';
import { openStore, type SqlStore } from '../src/store';
import { generateRecords } from '../test/helpers/fixtures';
import { listen } from '../test/helpers/http';
import { DATA_DIR, DATASET_END_MS, datasetUrl, openDataset } from './dataset';
import { type BenchStore, fmt, freshStore, median, percentile, pgReachable, SQLITE_CACHE_MB, table } from './lib';

const ROWS = Number(process.env.BENCH_ROLLUP_ROWS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_ROLLUP_SAMPLES ?? 7);
const PAGE_SAMPLES = Number(process.env.BENCH_ROLLUP_PAGE_SAMPLES ?? 20);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

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
  if (res.status !== 200) throw new Error(`rollups: ${url} answered ${res.status}: ${body.slice(0, 200)}`);
  return { ms: performance.now() - t, body };
}

async function sample(url: string, headers: Record<string, string>, n: number): Promise<number[]> {
  await timed(url, headers);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await timed(url, headers)).ms);
  return out;
}

async function queries(dialect: 'sqlite' | 'postgres'): Promise<string> {
  const opened = Date.now();
  const { store, madeSeconds } = await openDataset(dialect, ROWS);
  const openSeconds = (Date.now() - opened) / 1000 - madeSeconds;
  const viewer = generateApiKey();
  await store.raw('api_keys').where({ name: 'bench-acme' }).del();
  await store.createApiKey({ name: 'bench-acme', companyId: 'acme', hash: viewer.hash });
  const adminKey = 'bench-admin-key-0123456789abcdef';
  const { base, close } = await listen(createHttpApp({ store, adminKey, version: 'bench', authFailureLimit: 1_000_000 }));
  const admin = { authorization: `Bearer ${adminKey}` };
  const acme = { authorization: `Bearer ${viewer.key}` };
  const count = async (table: string) => Number(((await store.raw(table).count('* as n').first()) as { n: unknown }).n);
  const rollupRows = await count('logs_rollup');
  const coarseRows = await count('logs_rollup_coarse');
  try {
    // Windows end 17 minutes and 23 s before the newest row: no edge on a whole hour.
    const end = DATASET_END_MS - 17 * MIN - 23_000;
    const windows: Array<[string, number]> = [['15 min', 15 * MIN], ['24 h', DAY], ['7 days', 7 * DAY], ['30 days', 30 * DAY]];
    const filters: Array<[string, string, Record<string, string>]> = [
      ['no filter', '', admin],
      ['company acme (viewer key)', '', acme],
      ['status=5xx', 'status=5xx', admin],
      ['status=404', 'status=404', admin],
      ['endpoint + token + method', 'endpoint=%2Fv1%2Fcharges&token=prod-billing&method=POST', admin],
    ];
    const statsRows: string[][] = [];
    for (const [wname, span] of windows) {
      const w = `from=${end - span}&to=${end}`;
      for (const [fname, qs, headers] of wname === '30 days' || wname === '24 h' ? filters : filters.slice(0, 2)) {
        const q = `${w}${qs ? `&${qs}` : ''}`;
        const stats = median(await sample(`${base}/api/stats?${q}`, headers, SAMPLES));
        const facets = median(await sample(`${base}/api/facets?${q}`, headers, SAMPLES));
        // The same stats from the rows: a latency bound that every row meets takes the raw path.
        const unfiltered = fname === 'no filter' || fname === 'company acme (viewer key)';
        const raw = wname === '15 min' || unfiltered ? median(await sample(`${base}/api/stats?${q}&minLatencyMs=0`, headers, 3)) : NaN;
        // The same stats from the fine rollups alone: every row has this service, and naming one
        // makes the coarse rollups unusable (what these requests read before migration 011).
        const fine = unfiltered ? median(await sample(`${base}/api/stats?${q}&service=payments-api`, headers, SAMPLES)) : NaN;
        const ms = (v: number, digits: number) => (Number.isNaN(v) ? '' : `${fmt(v, digits)} ms`);
        statsRows.push([wname, fname, ms(stats, 1), ms(fine, 1), `${fmt(facets, 1)} ms`, ms(raw, 0)]);
      }
    }
    const open = median(await sample(`${base}/api/stats`, admin, SAMPLES));
    const openFine = median(await sample(`${base}/api/stats?service=payments-api`, admin, SAMPLES));
    statsRows.push(['all time (no from/to)', 'no filter', `${fmt(open, 1)} ms`, `${fmt(openFine, 1)} ms`, `${fmt(median(await sample(`${base}/api/facets`, admin, SAMPLES)), 1)} ms`, '']);

    const healthz = median(await sample(`${base}/healthz`, {}, PAGE_SAMPLES));
    const hour = `from=${end - 2 * DAY}&to=${end - 2 * DAY + HOUR}`;
    const pages: Array<[string, string, Record<string, string>]> = [
      ['newest, no filter', '', admin],
      ['status=5xx', 'status=5xx', admin],
      ['status=404', 'status=404', admin],
      ['endpoint', 'endpoint=%2Fv1%2Fcharges', admin],
      ['token', 'token=prod-billing', admin],
      ['method=DELETE', 'method=DELETE', admin],
      ['endpoint + status=4xx + token', 'endpoint=%2Fv1%2Fcharges&status=4xx&token=prod-billing', admin],
      ['endpoint + method + status=500', 'endpoint=%2Fv1%2Fcharges&method=POST&status=500', admin],
      ['one hour, two days ago', hour, admin],
      ['one hour + status=5xx', `${hour}&status=5xx`, admin],
      ['minLatencyMs=250 (common)', 'minLatencyMs=250', admin],
      ['minLatencyMs=600 (rare)', 'minLatencyMs=600', admin],
      ['maxLatencyMs=5.1 (rare)', 'maxLatencyMs=5.1', admin],
      ['viewer (acme), no filter', '', acme],
      ['viewer, status=5xx', 'status=5xx', acme],
      ['viewer, endpoint + status=4xx', 'endpoint=%2Fv1%2Fcharges&status=4xx', acme],
      ['viewer, token + method', 'token=prod-billing&method=POST', acme],
      ['viewer, status=404', 'status=404', acme],
      ['viewer, minLatencyMs=600', 'minLatencyMs=600', acme],
    ];
    const pageRows: string[][] = [];
    const plans: string[] = [];
    for (const [name, qs, headers] of pages) {
      const times = await sample(`${base}/api/logs?limit=50${qs ? `&${qs}` : ''}`, headers, PAGE_SAMPLES);
      pageRows.push([name, `${fmt(median(times), 1)} ms`, `${fmt(percentile(times, 95), 1)} ms`]);
      const filter = toFilter(parseQuery('logs', queryObject(qs)));
      if (headers === acme) filter.companyId = 'acme';
      plans.push(`${name}:\n${(await store.explainListLogs(filter)).split('\n').map((l) => `    ${l}`).join('\n')}`);
    }
    for (const [name, qs, headers] of [['page 101 by cursor, no filter', '', admin], ['page 101 by cursor, viewer status=5xx', 'status=5xx', acme]] as const) {
      let cursor = '';
      for (let i = 0; i < 100; i++) {
        const page = JSON.parse((await timed(`${base}/api/logs?limit=50${qs ? `&${qs}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, headers)).body) as { nextCursor: string };
        cursor = page.nextCursor;
      }
      const times = await sample(`${base}/api/logs?limit=50${qs ? `&${qs}` : ''}&cursor=${encodeURIComponent(cursor)}`, headers, PAGE_SAMPLES);
      pageRows.push([name, `${fmt(median(times), 1)} ms`, `${fmt(percentile(times, 95), 1)} ms`]);
    }
    return [
      `### ${dialect === 'sqlite' ? `SQLite${SQLITE_CACHE_MB ? ` (sqliteCacheMb ${SQLITE_CACHE_MB})` : ''}` : 'PostgreSQL 15'}, ${fmt(ROWS)} rows, ${fmt(rollupRows)} fine and ${fmt(coarseRows)} coarse rollup rows${madeSeconds ? ` (dataset made in ${fmt(madeSeconds)} s)` : ''}${openSeconds > 5 ? ` (open + migrations ${fmt(openSeconds)} s)` : ''}`,
      '',
      `Stats and facets (median of ${SAMPLES}; "fine rollups only" = the same stats with \`service=payments-api\`, which every row has, read from \`logs_rollup\` alone as before migration 011; "from rows" = the same stats on the raw path, median of 3):`,
      '',
      table(['window', 'filter', '/api/stats', 'stats, fine rollups only', '/api/facets', 'stats from rows'], statsRows),
      '',
      `First pages, limit=50 (${PAGE_SAMPLES} requests each; \`/healthz\` ${fmt(healthz, 2)} ms):`,
      '',
      table(['request', 'p50', 'p95'], pageRows),
      '',
      '<details><summary>Query plans</summary>',
      '',
      '```',
      ...plans,
      '```',
      '',
      '</details>',
    ].join('\n');
  } finally {
    await close();
    await store.close();
  }
}

/**
 * The store the retention part runs on: BENCH_RETENTION_DATASET=1 takes a copy of the SQLite
 * dataset of BENCH_ROLLUP_ROWS rows (30 days; each purge takes its oldest BENCH_RETENTION_PURGE_HOURS, default 6, left); otherwise a fresh file
 * with BENCH_RETENTION_ROWS generated rows over 5 days (each purge takes 1.25 days).
 */
async function retentionStore(): Promise<{ t: BenchStore; rows: number; oldestMs: number; purgeSpanMs: number }> {
  if (process.env.BENCH_RETENTION_DATASET === '1') {
    const { store } = await openDataset('sqlite', ROWS);
    await store.raw.raw('PRAGMA wal_checkpoint(TRUNCATE)');
    await store.close();
    const url = join(DATA_DIR, `retention-copy-${ROWS}.db`);
    const started = performance.now();
    copyFileSync(datasetUrl('sqlite', ROWS), url);
    process.stderr.write(`rollups: dataset copied in ${fmt((performance.now() - started) / 1000)} s\n`);
    const copy = await openStore({ url, sqliteCacheMb: SQLITE_CACHE_MB });
    const dispose = async () => {
      await copy.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(url + suffix, { force: true });
    };
    return { t: { store: copy, url, dispose }, rows: ROWS, oldestMs: DATASET_END_MS - 30 * DAY, purgeSpanMs: Number(process.env.BENCH_RETENTION_PURGE_HOURS ?? 6) * HOUR };
  }
  const t = await freshStore('sqlite');
  const rows = Number(process.env.BENCH_RETENTION_ROWS ?? 200_000);
  const oldestMs = Date.now() - 10 * DAY;
  for (let i = 0; i < rows; i += 10_000) {
    const records = generateRecords(10_000, 900 + i, { endMs: oldestMs + ((i + 10_000) / rows) * 5 * DAY, spanMs: (10_000 / rows) * 5 * DAY });
    for (let j = 0; j < records.length; j += 512) await t.store.insertBatch(records.slice(j, j + 512));
  }
  return { t, rows, oldestMs, purgeSpanMs: 1.25 * DAY };
}

/** SQLite ingest with and without a concurrent retention purge of older rows, in one process as `serve` runs them. */
async function retention(): Promise<string> {
  const { t, rows: PRELOAD, oldestMs, purgeSpanMs } = await retentionStore();
  const BATCHES = Number(process.env.BENCH_RETENTION_BATCHES ?? 100);
  try {
    let walMax = 0;
    const walTimer = setInterval(() => {
      try {
        walMax = Math.max(walMax, statSync(`${t.url}-wal`).size);
      } catch {
        // no WAL at this instant
      }
    }, 20);
    /** Batches of 512 rows: BATCHES of them, or, with `busy`, as long as it holds (at least 10, at most 10 × BATCHES). */
    const ingest = async (seed: number, busy?: () => boolean): Promise<{ rate: number; batches: number }> => {
      const records = generateRecords((busy ? 10 : 1) * BATCHES * 512, seed, { endMs: Date.now(), spanMs: HOUR });
      const started = performance.now();
      let written = 0;
      for (let j = 0; j < records.length; j += 512) {
        if (busy && !busy() && j >= 10 * 512) break;
        await t.store.insertBatch(records.slice(j, j + 512));
        written += Math.min(512, records.length - j);
      }
      return { rate: written / ((performance.now() - started) / 1000), batches: Math.ceil(written / 512) };
    };
    const alone: number[] = [];
    const during: number[] = [];
    const duringBatches: number[] = [];
    let purged = 0;
    let purgeMs = 0;
    // Interleaved: alone, during, alone, during, alone; each purge takes a fifth of the preloaded days.
    for (let round = 0; round < 3; round++) {
      alone.push((await ingest(100 + round)).rate);
      if (round === 2) break;
      const cutoff = oldestMs + (round + 1) * purgeSpanMs;
      const started = performance.now();
      let purging = true;
      const purge = t.store.purgeOlderThan(cutoff).finally(() => {
        purging = false;
      });
      // Ingest for as long as the purge runs: its rate is measured only while both compete.
      const { rate, batches } = await ingest(200 + round, () => purging);
      duringBatches.push(batches);
      purged += await purge;
      purgeMs += performance.now() - started;
      during.push(rate);
    }
    clearInterval(walTimer);
    return [
      '### SQLite under retention',
      '',
      `${fmt(PRELOAD)} rows preloaded${process.env.BENCH_RETENTION_DATASET === '1' ? ' (a copy of the dataset)' : ''}${SQLITE_CACHE_MB ? `, sqliteCacheMb ${SQLITE_CACHE_MB}` : ''}; ${BATCHES} batches of 512 rows per measurement, alone and while \`purgeOlderThan\` deletes older rows`,
      `(2 000-row time-ranged batches, one transaction each, rollups subtracted in it), interleaved alone/during/alone/during/alone.`,
      '',
      table(['', 'rows/s (median)', 'runs'], [
        ['ingest alone', fmt(median(alone)), alone.map((r) => fmt(r)).join(', ')],
        ['ingest during a purge', fmt(median(during)), during.map((r, i) => `${fmt(r)} (${duringBatches[i]} batches)`).join(', ')],
        ['ratio', `${(median(during) / median(alone)).toFixed(2)}×`, ''],
      ]),
      '',
      `Purged ${fmt(purged)} rows in ${fmt(purgeMs / 1000, 1)} s of overlapped time; largest WAL seen ${fmt(walMax / 1048576, 1)} MiB.`,
    ].join('\n');
  } finally {
    await t.dispose();
  }
}

export async function run(): Promise<string> {
  const sections: string[] = [];
  const pg = await pgReachable();
  if (process.env.BENCH_ROLLUP_PARTS?.includes('retention') ?? true) sections.push(await retention());
  if (process.env.BENCH_ROLLUP_PARTS?.includes('queries') ?? true) {
    const wanted = (process.env.BENCH_ROLLUP_DIALECTS ?? 'sqlite,postgres').split(',');
    for (const dialect of (['sqlite', 'postgres'] as const).filter((d) => wanted.includes(d) && (d === 'sqlite' || pg))) sections.push(await queries(dialect));
    const file = datasetUrl('sqlite', ROWS);
    const bytes = statSync(file).size;
    sections.push(`SQLite file: ${fmt(bytes / 1048576)} MiB for ${fmt(ROWS)} rows with their rollups = ${fmt(bytes / 1048576 / (ROWS / 1e6))} MiB per million rows.`);
  }
  return [
    '## Rollups, first pages and retention (issue 19: targets 2, 3, 6)',
    '',
    `\`npm run bench -- rollups\` (datasets of bench/dataset.ts, ${fmt(ROWS)} rows over 30 days, reused between runs).`,
    '',
    ...sections,
  ].join('\n');
}
