/**
 * What SQLite's strict durability costs: `insertBatch` in 512-row batches (the exporter's and
 * the receiver's batch size, one commit each) with synchronous=NORMAL (the default) against
 * synchronous=FULL (AUDITSPAN_SQLITE_SYNCHRONOUS=full: an fsync of the WAL per commit), for
 * both drivers, rounds interleaved so that both settings see the same machine load.
 *
 *   npm run bench -- sqlite-durability     (BENCH_DURABILITY_ROWS, BENCH_ROUNDS)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type SqliteDriver, type SqliteSynchronous } from '../src/store';
import { generateRecords } from '../test/helpers/fixtures';
import { fmt, median, ratio, table } from './lib';

const ROWS = Number(process.env.BENCH_DURABILITY_ROWS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCH = 512;

async function round(driver: SqliteDriver, mode: SqliteSynchronous, seed: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'auditspan-bench-sync-'));
  const store = await openStore({ url: join(dir, 'a.db'), sqliteDriver: driver, sqliteSynchronous: mode });
  const records = generateRecords(ROWS, seed);
  try {
    const started = performance.now();
    for (let i = 0; i < records.length; i += BATCH) await store.insertBatch(records.slice(i, i + BATCH));
    return ROWS / ((performance.now() - started) / 1000);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<string> {
  const rows: Array<Array<string | number>> = [];
  for (const driver of ['better-sqlite3', 'sqlite3'] as const) {
    const rates: Record<SqliteSynchronous, number[]> = { normal: [], full: [] };
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which setting goes first in a round.
      const order: SqliteSynchronous[] = r % 2 ? ['full', 'normal'] : ['normal', 'full'];
      for (const mode of order) rates[mode].push(await round(driver, mode, 100 + r));
    }
    const normal = median(rates.normal);
    const full = median(rates.full);
    rows.push([driver, fmt(normal), fmt(full), ratio(full, normal), `${fmt((1000 * BATCH) / full - (1000 * BATCH) / normal, 1)} ms`]);
  }
  return [
    `## SQLite durability: synchronous=NORMAL vs FULL (${fmt(ROWS)} rows in ${BATCH}-row batches, medians of ${ROUNDS} interleaved rounds)`,
    '',
    table(['driver', 'NORMAL rows/s', 'FULL rows/s', 'FULL / NORMAL', 'extra per 512-row commit'], rows),
  ].join('\n');
}
