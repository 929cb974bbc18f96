/**
 * What limits SQLite writes past a few million rows (issue 19, targets 1 and 6): the merges of the
 * FTS5 search indexes, and what splitting them into parts (migration 012, search-parts.ts) does
 * about it. Each variant writes the same BENCH_FTS_BATCHES batches of 512 rows through
 * `insertBatch` (serve's write path: rows, search indexes, rollups in one transaction) into its
 * own copy of the bench/dataset.ts dataset of BENCH_FTS_ROWS rows (its search indexes in parts of
 * a million rows), so every variant starts from the same structure:
 *
 * - parts, a new part: the newest part is full, so the batches begin the next one (the best
 *   case of a part's life);
 * - parts, a full part: the part size raised to 2 M for the run, so the batches go into the
 *   newest part of 1 M rows (the worst case of a part's life at the default size);
 * - one part: the copy's search indexes rebuilt as one part of every row, as before 012
 *   (rebuilt once, outside the measurement);
 * - each with the default 32 MiB page cache, and the worst and the one-part cases again with
 *   `sqliteCacheMb: 1024`.
 *
 *   BENCH_FTS_ROWS=10000000 npm run bench -- fts-merge
 *   BENCH_FTS_ROWS=10000000 BENCH_FTS_BATCHES=1500 BENCH_FTS_VARIANTS=full-part,one-part npm run bench -- fts-merge
 */
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src/store';
import { PART_ROWS_META, rebuildSearchParts } from '../src/store/search-parts';
import { generateRecords } from '../test/helpers/fixtures';
import { DATA_DIR, DATASET_END_MS, datasetUrl, openDataset } from './dataset';
import { fmt, median, percentile, ratio, table } from './lib';

const ROWS = Number(process.env.BENCH_FTS_ROWS ?? 1_000_000);
const BATCHES = Number(process.env.BENCH_FTS_BATCHES ?? 100);
const HOUR = 3_600_000;

interface Variant {
  id: string;
  name: string;
  cacheMb?: number;
  /** The part size for the run (auditspan_meta), where not the default. */
  partRows?: number;
  /** Written into the copy whose indexes are one part. */
  onePart?: boolean;
}

const VARIANTS: Variant[] = [
  { id: 'new-part', name: 'parts, writing into a new part (32 MiB cache)' },
  { id: 'full-part', name: 'parts, writing into a full part of 1 M rows (32 MiB cache)', partRows: 2_000_000 },
  { id: 'one-part', name: 'one part of every row, as before 012 (32 MiB cache)', onePart: true },
  { id: 'full-part-1g', name: 'parts, a full part, sqliteCacheMb 1024', partRows: 2_000_000, cacheMb: 1024 },
  { id: 'one-part-1g', name: 'one part, sqliteCacheMb 1024', onePart: true, cacheMb: 1024 },
  { id: 'new-part-256m', name: 'parts, writing into a new part, sqliteCacheMb 256', cacheMb: 256 },
];
/** BENCH_FTS_VARIANTS: a comma-separated list of variant ids to run (default: all). */
const ONLY = process.env.BENCH_FTS_VARIANTS?.split(',');

const removeDb = (path: string): void => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
};

async function measure(v: Variant, source: string, copy: string): Promise<{ rate: number; batches: number[]; rssMb: number }> {
  removeDb(copy);
  copyFileSync(source, copy);
  const store = await openStore({ url: copy, sqliteCacheMb: v.cacheMb });
  try {
    if (v.partRows) await store.raw('auditspan_meta').insert({ name: PART_ROWS_META, value: String(v.partRows) });
    // Newer than the dataset, one hour of the fixtures' mix.
    const records = generateRecords(BATCHES * 512, 4242, { endMs: DATASET_END_MS + HOUR, spanMs: HOUR });
    const rss0 = process.memoryUsage().rss;
    const batches: number[] = [];
    const started = performance.now();
    for (let i = 0; i < records.length; i += 512) {
      const t = performance.now();
      await store.insertBatch(records.slice(i, i + 512));
      batches.push(performance.now() - t);
    }
    const rate = records.length / ((performance.now() - started) / 1000);
    return { rate, batches, rssMb: (process.memoryUsage().rss - rss0) / 1048576 };
  } finally {
    await store.close();
    removeDb(copy);
  }
}

/** A copy of the dataset whose search indexes are one part of every row (made once, kept). */
async function onePartCopy(): Promise<string> {
  const path = join(DATA_DIR, `fts-merge-one-part-${ROWS}.db`);
  if (existsSync(path)) return path;
  const building = `${path}.building`;
  removeDb(building);
  copyFileSync(datasetUrl('sqlite', ROWS), building);
  const store = await openStore({ url: building });
  const started = performance.now();
  await rebuildSearchParts(store.raw, Number.MAX_SAFE_INTEGER);
  await store.raw.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await store.close();
  process.stderr.write(`fts-merge: one-part copy rebuilt in ${fmt((performance.now() - started) / 1000)} s\n`);
  renameSync(building, path);
  removeDb(building);
  return path;
}

export async function run(): Promise<string> {
  const { store } = await openDataset('sqlite', ROWS);
  await store.raw.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await store.close();
  const copy = join(DATA_DIR, `fts-merge-copy-${ROWS}.db`);
  const onePart = await onePartCopy();
  const results = [];
  for (const v of VARIANTS.filter((x) => !ONLY || ONLY.includes(x.id))) {
    process.stderr.write(`fts-merge: ${v.name}\n`);
    results.push({ v, ...(await measure(v, v.onePart ? onePart : datasetUrl('sqlite', ROWS), copy)) });
  }
  const baseline = results.find((r) => r.v.onePart && !r.v.cacheMb) ?? results[0];
  const base = baseline.rate;
  return [
    `## SQLite writes at ${fmt(ROWS)} rows: the search indexes' merges (issue 19, targets 1 and 6)`,
    '',
    `${BATCHES} batches of 512 rows through \`insertBatch\` (sqlite3, serve's write path), each variant on its own copy of the dataset:`,
    '',
    table(['variant', 'rows/s', `vs ${baseline.v.id}`, 'batch p50', 'batch p90', 'slowest batch', 'batches over 1 s', 'RSS growth'], results.map((r) => [
      r.v.name,
      fmt(r.rate),
      ratio(r.rate, base),
      `${fmt(median(r.batches))} ms`,
      `${fmt(percentile(r.batches, 90))} ms`,
      `${fmt(Math.max(...r.batches))} ms`,
      String(r.batches.filter((b) => b > 1000).length),
      `${fmt(r.rssMb)} MiB`,
    ])),
  ].join('\n');
}
