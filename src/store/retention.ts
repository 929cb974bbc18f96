import type { Knex } from 'knex';
import type { Dialect } from './connect';
import { listPartitions, type PartitionRange } from './partitions';

/** A time range whose rows retention removed: ts_us in [fromUs, toUs); fromUs null = everything older. */
export interface RemovedRange {
  fromUs: number | null;
  toUs: number;
}

/**
 * Called once per time range that retention emptied, inside the transaction that removed its
 * last rows: the one place where data derived from those rows (per-minute rollups) is removed
 * with them. Nothing is derived yet.
 */
export async function onRangeRemoved(trx: Knex.Transaction, range: RemovedRange): Promise<void> {
  void trx;
  void range;
}

/**
 * Deletes rows older than `cutoffUs` in small batches, each its own transaction, so that
 * concurrent inserts wait milliseconds, not the whole purge. The last batch's transaction also
 * runs `onRangeRemoved` for the range.
 */
async function deleteInBatches(knex: Knex, dialect: Dialect, range: RemovedRange, batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await knex.transaction(async (trx) => {
      const victims = trx('logs').where('ts_us', '<', range.toUs).modify((qb) => {
        if (range.fromUs !== null) qb.where('ts_us', '>=', range.fromUs);
      }).orderBy('ts_us').limit(batch);
      // PostgreSQL: by (ts_us, id), the partitioned table's primary key, so that only the
      // partitions of the range are touched; SQLite: by its rowid primary key.
      const n = dialect === 'postgres'
        ? Number(await trx('logs').whereIn(['ts_us', 'id'], victims.select('ts_us', 'id')).del())
        : Number(await trx('logs').whereIn('id', victims.select('id')).del());
      if (n < batch) await onRangeRemoved(trx, range);
      return n;
    });
    total += deleted;
    if (deleted < batch) return total;
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Drops one whole partition: the time a DROP TABLE takes, whatever it holds. Its rows are
 * counted first (an index-only count: a second or so per 10 M rows) for the purge's report.
 */
async function dropPartition(knex: Knex, p: PartitionRange): Promise<number> {
  return knex.transaction(async (trx) => {
    // Dropping a partition locks `logs` exclusively for a moment; rather than queue every write
    // behind a long-running read, give up and try again at the next purge.
    await trx.raw("SET LOCAL lock_timeout = '10s'");
    const { rows } = (await trx.raw(`SELECT count(*) AS n FROM ${p.name}`)) as { rows: Array<{ n: string }> };
    await onRangeRemoved(trx, { fromUs: p.fromUs, toUs: p.toUs });
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
  const partitions = dialect === 'postgres' ? await listPartitions(knex) : [];
  if (partitions.length === 0) return deleteInBatches(knex, dialect, { fromUs: null, toUs: cutoffUs }, batch);
  let total = 0;
  for (const p of partitions) {
    if (p.toUs <= cutoffUs) total += await dropPartition(knex, p);
    else if (p.fromUs < cutoffUs) total += await deleteInBatches(knex, dialect, { fromUs: p.fromUs, toUs: cutoffUs }, batch);
  }
  return total;
}
