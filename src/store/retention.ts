/**
 * Retention: deletes rows older than a cutoff in small time-ordered batches, each its own short
 * transaction that also takes the deleted rows out of the rollups, so that stats stay exact at
 * every commit and concurrent writers wait one batch at most (docs/storage.md#retention).
 */
import type { Knex } from 'knex';
import type { Dialect } from './connect';
import { applyRollups, factFromRow, FACT_COLUMNS, GRAINS_US, ROLLUP_TABLE } from './rollups';

/** Pause between batches: lets a writer waiting on the database (another process) take its turn. */
const YIELD_MS = 2;

export async function purgeOlderThan(knex: Knex, dialect: Dialect, cutoffMs: number, options: { batchSize?: number } = {}): Promise<number> {
  const batch = Math.max(1, options.batchSize ?? 2000);
  const cutoffUs = Math.floor(cutoffMs * 1000);
  let total = 0;
  for (;;) {
    // The batch is a time range [oldest, boundary) read from the ts index: the start time of the
    // batch+1-th oldest row (or the cutoff), so a batch deletes at most `batch` rows.
    const next = (await knex('logs').select('ts_us').where('ts_us', '<', cutoffUs).orderBy('ts_us').offset(batch).limit(1).first()) as { ts_us: unknown } | undefined;
    const boundary = next ? Number(next.ts_us) : cutoffUs;
    const deleted = await knex.transaction(async (trx) => {
      // Rows of buckets that stay partly filled are subtracted one by one; buckets that end at
      // or before the boundary have lost all their rows and are dropped whole.
      const partialFrom = Math.floor(boundary / GRAINS_US[GRAINS_US.length - 1]) * GRAINS_US[GRAINS_US.length - 1];
      const partial = (await trx('logs').select(...FACT_COLUMNS).where('ts_us', '>=', partialFrom).where('ts_us', '<', boundary)) as Array<Record<string, unknown>>;
      const n = Number(await trx('logs').where('ts_us', '<', boundary).del());
      for (const grain of GRAINS_US) {
        const start = Math.floor(boundary / grain) * grain;
        const facts = partial.filter((r) => Number(r.ts_us) >= start).map(factFromRow);
        await applyRollups(trx, dialect, facts, -1, [grain]);
        await trx(ROLLUP_TABLE).where('grain', grain).where('bucket_us', '<=', start - grain).del();
      }
      return n;
    });
    total += deleted;
    if (!next) return total;
    await new Promise((r) => setTimeout(r, YIELD_MS));
  }
}
