/**
 * What limits SQLite writes past a few million rows (issue 19, targets 1 and 6): the merges of the
 * two FTS5 search indexes (`logs_search`, `logs_ids`). Each variant writes the same
 * BENCH_FTS_BATCHES batches of 512 rows through `insertBatch` (serve's write path: rows, search
 * indexes, rollups in one transaction) into its own copy of the bench/dataset.ts dataset of
 * BENCH_FTS_ROWS rows, so every variant starts from the same index structure:
 *
 * - shipped defaults: a 32 MiB page cache, FTS5's automerge of 4;
 * - `sqliteCacheMb: 1024`: the same with a page cache that holds the search indexes;
 * - automerge 16 (crisismerge 64): wider, rarer merges;
 * - no merges in the write transaction (automerge 0, crisismerge 1999): the cost of everything
 *   but merging — a lower bound, not a setting to run with (segments pile up, searches slow down).
 *
 *   BENCH_FTS_ROWS=10000000 npm run bench -- fts-merge
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src/store';
import { FTS_TABLE, IDS_TABLE } from '../src/store/search';
import { generateRecords } from '../test/helpers/fixtures';
import { DATA_DIR, DATASET_END_MS, datasetUrl, openDataset } from './dataset';
import { fmt, median, percentile, ratio, table } from './lib';

const ROWS = Number(process.env.BENCH_FTS_ROWS ?? 1_000_000);
const BATCHES = Number(process.env.BENCH_FTS_BATCHES ?? 100);
const HOUR = 3_600_000;

interface Variant {
  name: string;
  cacheMb?: number;
  /** FTS5 settings written into both search tables before the run. */
  fts?: { automerge: number; crisismerge: number };
}

const VARIANTS: Variant[] = [
  { name: 'shipped defaults (32 MiB cache, automerge 4)' },
  { name: 'sqliteCacheMb 1024', cacheMb: 1024 },
  { name: 'automerge 16, crisismerge 64', fts: { automerge: 16, crisismerge: 64 } },
  { name: 'no merges while writing (lower bound)', fts: { automerge: 0, crisismerge: 1999 } },
];

async function measure(v: Variant, copy: string): Promise<{ rate: number; batches: number[]; rssMb: number }> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(copy + suffix, { force: true });
  copyFileSync(datasetUrl('sqlite', ROWS), copy);
  const store = await openStore({ url: copy, sqliteCacheMb: v.cacheMb });
  try {
    if (v.fts) {
      for (const t of [FTS_TABLE, IDS_TABLE]) {
        for (const [k, n] of Object.entries(v.fts)) await store.raw.raw(`INSERT INTO ${t}(${t}, rank) VALUES ('${k}', ${n})`);
      }
    }
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
    for (const suffix of ['', '-wal', '-shm']) rmSync(copy + suffix, { force: true });
  }
}

export async function run(): Promise<string> {
  const { store } = await openDataset('sqlite', ROWS);
  await store.raw.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await store.close();
  const copy = join(DATA_DIR, `fts-merge-copy-${ROWS}.db`);
  const results = [];
  for (const v of VARIANTS) {
    process.stderr.write(`fts-merge: ${v.name}\n`);
    results.push({ v, ...(await measure(v, copy)) });
  }
  const base = results[0].rate;
  return [
    `## SQLite writes at ${fmt(ROWS)} rows: the search indexes' merges (issue 19, targets 1 and 6)`,
    '',
    `${BATCHES} batches of 512 rows through \`insertBatch\` (sqlite3, serve's write path), each variant on its own copy of the dataset:`,
    '',
    table(['variant', 'rows/s', 'vs shipped defaults', 'batch p50', 'batch p90', 'slowest batch', 'batches over 1 s', 'RSS growth'], results.map((r) => [
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
