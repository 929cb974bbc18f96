/**
 * PostgreSQL time partitions (migration 005): what converting an existing unpartitioned table
 * costs per million rows, what purging one day costs by dropping its partition against deleting
 * the same rows in batches from an unpartitioned table (the way before 005), and the plan of a
 * time-bounded first page (partition pruning). Rows generated inside the database (preload.ts).
 */
import type { SqlStore } from '../src/store';
import { MIGRATION_CONFIG } from '../src/store/migrations';
import { createRollupTable, LEVELS } from '../src/store/rollups';
import { purgeOlderThan } from '../src/store/retention';
import { COLUMNS, rowSql } from './preload';
import { fmt, freshStore, pgReachable, table } from './lib';

const ROWS = Number(process.env.BENCH_PARTITION_ROWS ?? 1_000_000);
const DAY_MS = 86_400_000;
const DAYS = 10;
const END_MS = Date.UTC(2026, 10, 1);

/**
 * A store migrated to 004 (unpartitioned) holding ROWS generated rows over DAYS days, with the
 * rollup tables of 006 and 011 made empty beside it: a purge keeps them up to date as it does
 * today, so their upkeep is timed (their values, negative counts here, are not read).
 */
async function unpartitioned(): Promise<{ store: SqlStore; dispose(): Promise<void> }> {
  const s = await freshStore('postgres');
  await s.store.rollbackAll();
  for (let i = 0; i < 4; i++) await s.store.raw.migrate.up(MIGRATION_CONFIG);
  for (const level of LEVELS) await createRollupTable(s.store.raw, 'postgres', level);
  const startUs = (END_MS - DAYS * DAY_MS) * 1000;
  const stepUs = Math.floor((DAYS * DAY_MS * 1000) / ROWS);
  for (let from = 0; from < ROWS; from += 1_000_000) {
    const to = Math.min(ROWS, from + 1_000_000);
    await s.store.raw.raw(`INSERT INTO logs (${COLUMNS}) SELECT ${rowSql('g', `${startUs} + g * ${stepUs}`, END_MS, 'postgres')} FROM generate_series(${from}::bigint, ${to - 1}) g`);
  }
  await s.store.raw.raw('ANALYZE logs');
  return { store: s.store, dispose: s.dispose };
}

const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
};

export async function run(): Promise<string> {
  if (!(await pgReachable())) return '## PostgreSQL partitions\n\n(skipped: PostgreSQL is not reachable)';
  const perDay = ROWS / DAYS;
  const firstDayEnd = END_MS - (DAYS - 1) * DAY_MS;

  // Before 005: purge the oldest day by batched deletes; then migrate the rest.
  const a = await unpartitioned();
  let deleteSeconds: number;
  let migrateSeconds: number;
  let remaining: number;
  try {
    deleteSeconds = await seconds(() => purgeOlderThan(a.store.raw, 'postgres', firstDayEnd * 1000, 5000));
    remaining = await a.store.countLogs({});
    // Migration 005 alone (the later ones build the rollups and search indexes: not its cost).
    migrateSeconds = await seconds(() => a.store.raw.migrate.up(MIGRATION_CONFIG));
  } finally {
    await a.dispose();
  }

  // After 005: purge the oldest day by dropping its partition (the rows counted first).
  const b = await unpartitioned();
  let dropSeconds: number;
  let plan: string;
  try {
    await b.store.raw.migrate.up(MIGRATION_CONFIG);
    await b.store.raw.raw('ANALYZE logs');
    dropSeconds = await seconds(() => purgeOlderThan(b.store.raw, 'postgres', firstDayEnd * 1000, 5000));
    plan = await b.store.explainListLogs({ from: END_MS - 2 * DAY_MS, to: END_MS - DAY_MS, endpoints: ['/v1/charges'] });
  } finally {
    await b.dispose();
  }

  return [
    '## PostgreSQL partitions',
    '',
    `\`npm run bench -- partitions\` — ${fmt(ROWS)} generated rows over ${DAYS} days (BENCH_PARTITION_ROWS), PostgreSQL 15, one run.`,
    '',
    table(['step', 'seconds', 'per million rows'], [
      [`purge one day (${fmt(perDay)} rows) by batched DELETE, unpartitioned (before 005)`, deleteSeconds.toFixed(2), (deleteSeconds / (perDay / 1e6)).toFixed(2)],
      [`purge one day (${fmt(perDay)} rows) by dropping its partition (after 005; includes counting its rows)`, dropSeconds.toFixed(2), (dropSeconds / (perDay / 1e6)).toFixed(2)],
      [`migration 005 of ${fmt(remaining)} rows (copy into the partitioned table, indexes rebuilt)`, migrateSeconds.toFixed(1), (migrateSeconds / (remaining / 1e6)).toFixed(1)],
    ]),
    '',
    'First page of one endpoint over one day: the plan reads only that day\'s partition:',
    '',
    '```',
    plan,
    '```',
  ].join('\n');
}
