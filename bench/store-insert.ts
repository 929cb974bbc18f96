/**
 * Store writes: `insertBatch` (the one write path of the exporter and the receiver: 500-row
 * statements in one transaction, duplicates ignored on (trace_id, span_id), 10 indexes) against
 * the fastest raw insert on the same database in the same run — a prepared single-row
 * statement in one transaction on SQLite, and COPY-free multi-row INSERT without conflict
 * handling or secondary indexes on PostgreSQL (the table layout a plain log sink would use).
 */
import type { Knex } from 'knex';
import type { SqliteDriver } from '../src/store';
import { generateRecords } from '../test/helpers/fixtures';
import { dialects, fmt, freshStore, median, pgReachable, ratio, table } from './lib';

const ROWS = Number(process.env.BENCH_INSERT_ROWS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 512;

/** The same columns in a table with only a primary key: what any audit table needs at least. */
async function rawInsert(knex: Knex, rows: Array<Record<string, unknown>>): Promise<number> {
  await knex.schema.dropTableIfExists('raw_logs');
  await knex.schema.createTable('raw_logs', (t) => {
    t.bigIncrements('id').primary();
    for (const column of Object.keys(rows[0])) t.text(column);
  });
  const started = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    const chunk = rows.slice(i, i + BATCH);
    await knex.transaction(async (trx) => {
      for (let j = 0; j < chunk.length; j += 500) await trx('raw_logs').insert(chunk.slice(j, j + 500));
    });
  }
  const seconds = (performance.now() - started) / 1000;
  await knex.schema.dropTable('raw_logs');
  return rows.length / seconds;
}

export async function run(): Promise<string> {
  // In arrival order, as an exporter or a collector delivers them (timestamps roughly increasing).
  const records = generateRecords(ROWS, 11).sort((a, b) => a.timestampUs - b.timestampUs);
  const flat = records.map((r) => ({ ...r, requestHeaders: JSON.stringify(r.requestHeaders) }) as Record<string, unknown>);
  const out: string[][] = [];
  // The last SQLite row runs with SQLite's own checkpoint interval, to show what the store's
  // (10 000 WAL pages, src/store/connect.ts) saves.
  const targets = dialects(await pgReachable()).flatMap((d): Array<['sqlite' | 'postgres', SqliteDriver?, number?]> =>
    d === 'sqlite' ? [['sqlite', 'sqlite3'], ['sqlite', 'better-sqlite3'], ['sqlite', 'better-sqlite3', 1000]] : [['postgres']]);
  for (const [dialect, driver, checkpointPages] of targets) {
    const store: number[] = [];
    const raw: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const s = await freshStore(dialect, driver);
      try {
        // One pooled connection (SQLite), so the setting holds for the whole round.
        if (checkpointPages) await s.store.raw.raw(`PRAGMA wal_autocheckpoint = ${checkpointPages}`);
        raw.push(await rawInsert(s.store.raw, flat));
        const started = performance.now();
        for (let i = 0; i < records.length; i += BATCH) await s.store.insertBatch(records.slice(i, i + BATCH));
        store.push(records.length / ((performance.now() - started) / 1000));
        // Re-sending the same batches (an exporter retry) must insert nothing.
        const again = await s.store.insertBatch(records.slice(0, BATCH));
        if (again.inserted !== 0) throw new Error('store-insert: a retried batch inserted duplicates');
      } finally {
        await s.dispose();
      }
    }
    const name = dialect === 'postgres' ? 'PostgreSQL 15' : `SQLite (${driver}${checkpointPages ? `, checkpoint every ${fmt(checkpointPages)} pages` : ''})`;
    out.push([name, fmt(median(raw)), fmt(median(store)), ratio(median(store), median(raw))]);
  }
  return [
    '## Store inserts',
    '',
    `\`npm run bench -- store-insert\` — ${fmt(ROWS)} generated audit rows in arrival order, ${BATCH}-row batches, ${ROUNDS} rounds, medians, fresh`,
    'database each round. Baseline: the same rows through knex into a table with no secondary index and no',
    'conflict handling, in the same database and run.',
    '',
    table(['database', 'baseline rows/s', 'insertBatch rows/s', 'vs baseline'], out),
    '',
    'insertBatch maintains the 10 indexes the query API needs (docs/storage.md) and ignores duplicates, so a',
    'retried batch never creates a second row. SQLite (better-sqlite3) is the in-process pipeline\'s writer (on',
    'its worker thread): one prepared statement per row in one transaction; its baseline is knex on the same driver.',
    'The store checkpoints the SQLite WAL every 10 000 pages; the row "checkpoint every 1,000 pages" is SQLite\'s',
    'default, measured in the same run.',
  ].join('\n');
}
