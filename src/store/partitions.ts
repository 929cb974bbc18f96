import type { Knex } from 'knex';

/**
 * PostgreSQL only: `logs` is range-partitioned by `ts_us` (migration 005), one partition per
 * interval (a day by default). Partitions are created ahead of time (at start and hourly), and
 * on demand when a write holds a span outside every partition (a late or a future span), so no
 * span ever fails for want of a partition. Retention drops whole partitions (retention.ts).
 *
 * There is no DEFAULT partition on purpose: once it holds rows of a day, that day's partition
 * can no longer be created without moving them (PostgreSQL scans the default partition and
 * refuses), and retention could not drop them as a table.
 */

export const HOUR_US = 3_600_000_000;
export const DAY_US = 24 * HOUR_US;
/** Default partition width. */
export const DEFAULT_PARTITION_HOURS = 24;
/** Partitions created ahead of the current one, at start and hourly. */
export const PARTITIONS_AHEAD = 3;

/** A partition's bounds: ts_us in [fromUs, toUs). */
export interface PartitionRange {
  name: string;
  fromUs: number;
  toUs: number;
}

/**
 * One key for every process that creates partitions of this database: holding it while reading
 * the catalog and creating makes creation race-free between several `serve` processes.
 */
const LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('auditspan.logs.partitions'))";

const BOUND = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/;

/** The partitions of `logs` with their bounds, oldest first (empty when `logs` is not partitioned). */
export async function listPartitions(knex: Knex | Knex.Transaction): Promise<PartitionRange[]> {
  const res = (await knex.raw(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = to_regclass('logs')`,
  )) as { rows: Array<{ name: string; bound: string }> };
  const out: PartitionRange[] = [];
  for (const row of res.rows) {
    const m = BOUND.exec(row.bound);
    if (m) out.push({ name: row.name, fromUs: Number(m[1]), toUs: Number(m[2]) });
  }
  return out.sort((a, b) => a.fromUs - b.fromUs);
}

/** Whether `logs` is a partitioned table (false on a database before migration 005). */
export async function isPartitioned(knex: Knex): Promise<boolean> {
  const res = (await knex.raw("SELECT relkind FROM pg_class WHERE oid = to_regclass('logs')")) as { rows: Array<{ relkind: string }> };
  return res.rows[0]?.relkind === 'p';
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `logs_p20261202` for a partition starting at midnight UTC, `logs_p20261202_1300` otherwise. */
export function partitionName(fromUs: number): string {
  const d = new Date(Math.floor(fromUs / 1000));
  const year = d.getUTCFullYear();
  if (!Number.isFinite(d.getTime()) || year < 1000 || year > 9999 || fromUs % 1_000_000 !== 0) {
    return `logs_p_us${fromUs < 0 ? `m${-fromUs}` : fromUs}`;
  }
  const day = `logs_p${year}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
  const time = d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds();
  return time === 0 ? day : `${day}_${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/**
 * The range a new partition holding `tsUs` gets: its interval, clipped to the partitions that
 * already exist (after a change of the interval, the new ones fill the gaps between the old).
 */
export function rangeFor(tsUs: number, intervalUs: number, existing: readonly PartitionRange[]): { fromUs: number; toUs: number } {
  let fromUs = Math.floor(tsUs / intervalUs) * intervalUs;
  let toUs = fromUs + intervalUs;
  for (const p of existing) {
    if (p.toUs <= tsUs && p.toUs > fromUs) fromUs = p.toUs;
    if (p.fromUs > tsUs && p.fromUs < toUs) toUs = p.fromUs;
  }
  return { fromUs, toUs };
}

const covering = (ranges: readonly PartitionRange[], tsUs: number): PartitionRange | undefined =>
  ranges.find((p) => p.fromUs <= tsUs && tsUs < p.toUs);

/**
 * Creates the partitions that hold each of `timestamps` (µs), where missing. Serialized across
 * processes by an advisory lock; the partition is created as a plain table and then attached,
 * which locks `logs` only in SHARE UPDATE EXCLUSIVE mode (reads and writes go on meanwhile),
 * where `CREATE TABLE … PARTITION OF` would take an exclusive lock. Returns every partition.
 */
export async function ensurePartitions(knex: Knex, timestamps: Iterable<number>, intervalUs: number): Promise<PartitionRange[]> {
  return knex.transaction(async (trx) => {
    await trx.raw("SET LOCAL lock_timeout = '10s'");
    await trx.raw(LOCK_SQL);
    const existing = await listPartitions(trx);
    for (const ts of timestamps) {
      if (covering(existing, ts)) continue;
      const { fromUs, toUs } = rangeFor(ts, intervalUs, existing);
      const name = partitionName(fromUs);
      await trx.raw(`CREATE TABLE ${name} (LIKE logs INCLUDING DEFAULTS)`);
      await trx.raw(`ALTER TABLE logs ATTACH PARTITION ${name} FOR VALUES FROM (${fromUs}) TO (${toUs})`);
      existing.push({ name, fromUs, toUs });
      existing.sort((a, b) => a.fromUs - b.fromUs);
    }
    return existing;
  });
}

/** The current partition and the `ahead` following ones, as timestamps to ensure. */
export function aheadTimestamps(nowMs: number, intervalUs: number, ahead = PARTITIONS_AHEAD): number[] {
  const nowUs = Math.floor(nowMs * 1000);
  return Array.from({ length: ahead + 1 }, (_, i) => nowUs + i * intervalUs);
}

/**
 * What a writer knows about the partitions, so that the common write (every span in existing
 * partitions) costs no catalog query. Refreshed when a span falls outside, and after a write
 * fails because its partition was dropped meanwhile (retention in another process).
 */
export class PartitionCache {
  private ranges: PartitionRange[] | undefined;

  constructor(private readonly knex: Knex, readonly intervalUs: number) {}

  /** Makes sure every timestamp has a partition; a catalog read only when one is unknown. */
  async ensure(timestamps: Iterable<number>): Promise<void> {
    const ranges = this.ranges;
    let missing: number[] | undefined;
    let last: PartitionRange | undefined;
    for (const ts of timestamps) {
      if (last && last.fromUs <= ts && ts < last.toUs) continue;
      last = ranges && covering(ranges, ts);
      if (!last) (missing ??= []).push(ts);
    }
    if (missing) this.ranges = await ensurePartitions(this.knex, missing, this.intervalUs);
  }

  forget(): void {
    this.ranges = undefined;
  }
}
