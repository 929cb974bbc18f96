/**
 * Retention: rows older than a cutoff go in small time-ordered batches, each its own short
 * transaction that also takes the deleted rows out of the rollups (rollups.ts), so that stats
 * stay exact at every commit and concurrent writers wait one batch at most; on a partitioned
 * PostgreSQL table, whole partitions are dropped (docs/storage.md#retention).
 */
import type { Knex } from 'knex';
import type { Dialect } from './connect';
import { listPartitions, type PartitionRange } from './partitions';
import { applyRollups, FACT_COLUMNS, factFromRow, removeRangeFromRollups } from './rollups';
import { dropEmptyParts } from './search-parts';

/** A time range whose rows retention removed: ts_us in [fromUs, toUs); fromUs null = everything older. */
export interface RemovedRange {
  fromUs: number | null;
  toUs: number;
}

/** Pause between batches: lets a writer waiting on the database (another process too) take its turn. */
const YIELD_MS = 2;
/**
 * SQLite has one writer: after each batch a purge rests this many times as long as the batch
 * took, so that it holds the write lock at most a fifth of the time and ingest keeps its pace
 * (docs/storage.md#retention). PostgreSQL's deletes do not block inserts.
 */
const SQLITE_REST = 4;

/**
 * Deletes the rows of a range in time-ordered batches: each batch is the time range [start,
 * start time of the batch+1-th oldest row) read from the ts index, so it holds at most `batch`
 * rows (more only when a concurrent writer adds late spans to it), and its own transaction
 * removes the rows it deleted from the rollups too.
 */
async function deleteInBatches(knex: Knex, dialect: Dialect, range: RemovedRange, batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    const inRange = (qb: Knex.QueryBuilder) => {
      qb.where('ts_us', '<', range.toUs);
      if (range.fromUs !== null) qb.where('ts_us', '>=', range.fromUs);
    };
    const next = (await knex('logs').select('ts_us').modify(inRange).orderBy('ts_us').offset(batch).limit(1).first()) as { ts_us: unknown } | undefined;
    const boundary = next ? Number(next.ts_us) : range.toUs;
    const started = performance.now();
    const deleted = await knex.transaction(async (trx) => {
      // The rows first, then what they leave in the rollups: exactly the rows this statement
      // deleted. Reading the range before deleting it would miss a late span that a concurrent
      // PostgreSQL writer commits in between (deleted, yet left counted), and this is the
      // writers' lock order too (logs, then rollups).
      const since = range.fromUs !== null ? ' AND ts_us >= ?' : '';
      const result = (await trx.raw(`DELETE FROM logs WHERE ts_us < ?${since} RETURNING ${FACT_COLUMNS.join(', ')}`,
        range.fromUs !== null ? [boundary, range.fromUs] : [boundary])) as Array<Record<string, unknown>> | { rows: Array<Record<string, unknown>> };
      const rows = Array.isArray(result) ? result : result.rows;
      await applyRollups(trx, dialect, rows.map(factFromRow), -1);
      return rows.length;
    });
    total += deleted;
    if (!next) return total;
    const rest = dialect === 'sqlite' ? Math.max(YIELD_MS, SQLITE_REST * (performance.now() - started)) : YIELD_MS;
    await new Promise((r) => setTimeout(r, rest));
  }
}

/**
 * Drops one whole partition: the time a DROP TABLE takes, whatever it holds. Its rows are
 * counted first (an index-only count: a second or so per 10 M rows) for the purge's report.
 */
async function dropPartition(knex: Knex, dialect: Dialect, p: PartitionRange): Promise<number> {
  return knex.transaction(async (trx) => {
    // Dropping a partition locks `logs` exclusively for a moment; rather than queue every write
    // behind a long-running read, give up and try again at the next purge.
    await trx.raw("SET LOCAL lock_timeout = '10s'");
    // Take that lock first, before any rollup row: a writer takes its lock on `logs` before its
    // rollup rows too, so a late span written into this day while it is dropped waits instead of
    // deadlocking (40P01) with the purge.
    await trx.raw('LOCK TABLE logs IN ACCESS EXCLUSIVE MODE');
    const { rows } = (await trx.raw(`SELECT count(*) AS n FROM ${p.name}`)) as { rows: Array<{ n: string }> };
    // No writer can add to the day under this lock: its buckets are taken out of the rollups whole.
    await removeRangeFromRollups(trx, dialect, p.fromUs, p.toUs);
    await trx.raw(`DROP TABLE ${p.name}`);
    return Number(rows[0].n);
  });
}

/**
 * Removes every row older than `cutoffUs`. On a partitioned PostgreSQL table, the partitions
 * entirely older are dropped, and the rows older than the cutoff in the partition that spans it
 * are deleted in batches; elsewhere (SQLite, PostgreSQL before migration 005) rows are deleted
 * in batches. Returns the number of rows removed.
 */
export async function purgeOlderThan(knex: Knex, dialect: Dialect, cutoffUs: number, batch: number): Promise<number> {
  if (dialect === 'sqlite') {
    const removed = await deleteInBatches(knex, dialect, { fromUs: null, toUs: cutoffUs }, batch);
    // The search indexes keep the entries of deleted rows until none of their part's rows is left.
    await dropEmptyParts(knex);
    return removed;
  }
  const partitions = await listPartitions(knex);
  if (partitions.length === 0) return deleteInBatches(knex, dialect, { fromUs: null, toUs: cutoffUs }, batch);
  let total = 0;
  for (const p of partitions) {
    if (p.toUs <= cutoffUs) total += await dropPartition(knex, dialect, p);
    else if (p.fromUs < cutoffUs) total += await deleteInBatches(knex, dialect, { fromUs: p.fromUs, toUs: cutoffUs }, batch);
  }
  return total;
}
