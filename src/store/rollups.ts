/**
 * Rollups: counts and latency histograms of `logs` per hour and per day, kept at two levels so
 * that stats, facets and the endpoint table read a bounded number of rows whatever the row count:
 *
 * - `logs_rollup` (migration 006): one row per (grain, bucket start, endpoint, method, company,
 *   service, token, status code), for every combination of the dimensions the UI filters on;
 * - `logs_rollup_coarse` (migration 011): one row per (grain, bucket start, endpoint, method,
 *   company, status class), a tenth to a thirtieth of the rows, for the stats and endpoint
 *   tables that filter on none of token, service or status code (unfiltered and
 *   company-scoped pages, the common case).
 *
 * Each row holds n (rows), last_us (newest start time) and h0…h81 (rows per latency bin). Both
 * are maintained in the same write transaction as the rows, from the rows actually inserted (a
 * retried span that was skipped as a duplicate adds nothing): `applyRollups()` on the Knex
 * paths, `prepareRollups()` on better-sqlite3. Retention subtracts what it deletes
 * (retention.ts). docs/storage.md#rollups describes the design and its error bounds.
 */
import type { Knex } from 'knex';
import type BetterSqlite3 from 'better-sqlite3';
import type { Dialect } from './connect';
import type { AuditRecord } from '../record/types';

export const ROLLUP_TABLE = 'logs_rollup';
export const HOUR_US = 3_600_000_000;
export const DAY_US = 86_400_000_000;
/** The time grains, finest first; each divides the next. */
export const GRAINS_US = [HOUR_US, DAY_US] as const;

/**
 * Latency bins: bin 0 below 2^-4 ms (62.5 µs), bins 1…80 quarter-octaves up to 2^16 ms
 * (65.5 s), bin 81 above. Bin k in 1…80 covers [2^((k-1)/4 - 4), 2^(k/4 - 4)) ms; a value is
 * estimated by its bin's geometric middle, at most 2^(1/8) − 1 = 9.05 % from any value in it.
 */
export const LATENCY_BINS = 82;
const BIN_MIN_LOG2 = -4;
const BIN_MAX_MS = 65_536;
const BINS_PER_OCTAVE = 4;
/** The largest relative error of a latency percentile read from the histograms (values in bins 1…80). */
export const PERCENTILE_RELATIVE_ERROR = 2 ** (1 / (2 * BINS_PER_OCTAVE)) - 1;

export function latencyBin(ms: number): number {
  if (!(ms >= 2 ** BIN_MIN_LOG2)) return 0;
  if (ms >= BIN_MAX_MS) return LATENCY_BINS - 1;
  return Math.min(LATENCY_BINS - 2, 1 + Math.floor(BINS_PER_OCTAVE * (Math.log2(ms) - BIN_MIN_LOG2)));
}

/** The value that stands for bin k: the geometric middle of its bounds (its bound for 0 and 81). */
export function binValue(k: number): number {
  if (k <= 0) return 2 ** BIN_MIN_LOG2;
  if (k >= LATENCY_BINS - 1) return BIN_MAX_MS;
  return 2 ** ((k - 0.5) / BINS_PER_OCTAVE + BIN_MIN_LOG2);
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * The p-quantile (0…1) of a histogram, interpolated between closest ranks like PostgreSQL's
 * percentile_cont and the raw path (stats.ts): each rank's value is its bin's middle, so the
 * result is within PERCENTILE_RELATIVE_ERROR of the exact figure.
 */
export function histogramPercentile(hist: ArrayLike<number>, p: number): number | null {
  let total = 0;
  for (let k = 0; k < hist.length; k++) total += hist[k];
  if (total === 0) return null;
  const rank = p * (total - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const valueAt = (r: number): number => {
    let seen = 0;
    for (let k = 0; k < hist.length; k++) {
      seen += hist[k];
      if (seen > r) return binValue(k);
    }
    return binValue(hist.length - 1);
  };
  const a = valueAt(lo);
  const b = hi === lo ? a : valueAt(hi);
  return round3(a + (b - a) * (rank - lo));
}

export const HIST_COLUMNS = Array.from({ length: LATENCY_BINS }, (_, k) => `h${k}`);
const HIST_SET = new Set(HIST_COLUMNS);

/** One level of rollups: its table and the dimensions of its key, after (grain, bucket_us). */
export interface RollupLevel {
  table: string;
  /** Key columns after (grain, bucket_us), in primary-key order. */
  dimensions: readonly string[];
  /** A fact's values of `dimensions`, in the same order (NULL text as ''). */
  key(f: RollupFact): Array<string | number>;
}

/** Every dimension the UI filters on. */
export const FINE: RollupLevel = {
  table: ROLLUP_TABLE,
  dimensions: ['endpoint', 'method', 'company_id', 'service', 'token_name', 'status'],
  key: (f) => [f.endpoint, f.method, f.companyId ?? '', f.service ?? '', f.tokenName ?? '', f.status],
};

/** Endpoint, method, company and status class only: for filters on nothing else. */
export const COARSE: RollupLevel = {
  table: 'logs_rollup_coarse',
  dimensions: ['endpoint', 'method', 'company_id', 'status_class'],
  key: (f) => [f.endpoint, f.method, f.companyId ?? '', Math.floor(f.status / 100)],
};

export const LEVELS: readonly RollupLevel[] = [FINE, COARSE];

const keyColumns = (level: RollupLevel): string[] => ['grain', 'bucket_us', ...level.dimensions];
const columns = (level: RollupLevel): string[] => [...keyColumns(level), 'n', 'last_us', ...HIST_COLUMNS];

/**
 * What a rollup needs of one stored row. Nullable text dimensions are stored as '' in the
 * rollups (a primary key cannot hold NULL), so NULL and '' are one value there.
 */
export interface RollupFact {
  tsUs: number;
  endpoint: string;
  method: string;
  companyId: string | null;
  service: string | null;
  tokenName: string | null;
  status: number;
  latencyMs: number;
}

export function factFromRecord(r: AuditRecord): RollupFact {
  return {
    tsUs: r.timestampUs, endpoint: r.endpoint, method: r.method, companyId: r.companyId, service: r.service, tokenName: r.tokenName,
    status: r.status, latencyMs: r.latencyMs,
  };
}

/** The columns a query on `logs` selects to make facts with `factFromRow`. */
export const FACT_COLUMNS = ['ts_us', 'endpoint', 'method', 'company_id', 'service', 'token_name', 'status', 'latency_ms'] as const;

export function factFromRow(row: Record<string, unknown>): RollupFact {
  return {
    tsUs: Number(row.ts_us), endpoint: String(row.endpoint), method: String(row.method),
    companyId: (row.company_id as string | null) ?? null, service: (row.service as string | null) ?? null,
    tokenName: (row.token_name as string | null) ?? null, status: Number(row.status), latencyMs: Number(row.latency_ms),
  };
}

/** One rollup row's change: added to the stored row, or inserted when there is none. */
export interface RollupDelta {
  grain: number;
  bucketUs: number;
  /** The level's dimension values (RollupLevel.key). */
  key: Array<string | number>;
  n: number;
  lastUs: number;
  hist: number[];
}

/**
 * Sums facts into one delta per rollup row of `level` and each grain. `sign` -1 makes deltas
 * that take the facts out again (retention); their last_us is 0, which leaves the stored
 * maximum as it is.
 */
export function aggregateFacts(facts: readonly RollupFact[], level: RollupLevel = FINE, grains: readonly number[] = GRAINS_US, sign: 1 | -1 = 1): RollupDelta[] {
  const byKey = new Map<string, RollupDelta>();
  for (const f of facts) {
    const bin = latencyBin(f.latencyMs);
    const key = level.key(f);
    const keyText = key.join('\u0001');
    for (const grain of grains) {
      const bucketUs = Math.floor(f.tsUs / grain) * grain;
      const k = `${grain}\u0001${bucketUs}\u0001${keyText}`;
      let d = byKey.get(k);
      if (!d) byKey.set(k, (d = { grain, bucketUs, key, n: 0, lastUs: 0, hist: new Array<number>(LATENCY_BINS).fill(0) }));
      d.n += sign;
      d.hist[bin] += sign;
      if (sign > 0 && f.tsUs > d.lastUs) d.lastUs = f.tsUs;
    }
  }
  // Sorted by key: concurrent transactions then lock the rows they share in the same order, so
  // two writers upserting the same buckets wait for each other instead of deadlocking (40P01).
  return [...byKey.values()].sort(compareDeltas);
}

function compareDeltas(a: RollupDelta, b: RollupDelta): number {
  const c = a.grain - b.grain || a.bucketUs - b.bucketUs;
  if (c !== 0) return c;
  for (let i = 0; i < a.key.length; i++) {
    const x = a.key[i];
    const y = b.key[i];
    if (x !== y) return typeof x === 'number' && typeof y === 'number' ? x - y : x < y ? -1 : 1;
  }
  return 0;
}

function deltaValues(d: RollupDelta): Array<string | number> {
  return [d.grain, d.bucketUs, ...d.key, d.n, d.lastUs, ...d.hist];
}

function upsertTail(dialect: Dialect, level: RollupLevel): string {
  const max = dialect === 'postgres' ? 'GREATEST' : 'MAX';
  const t = level.table;
  const sets = ['n', ...HIST_COLUMNS].map((c) => `${c} = ${t}.${c} + excluded.${c}`);
  sets.push(`last_us = ${max}(${t}.last_us, excluded.last_us)`);
  return `ON CONFLICT (${keyColumns(level).join(', ')}) DO UPDATE SET ${sets.join(', ')}`;
}

/** A single-row upsert (better-sqlite3's prepared statement). */
function upsertSql(level: RollupLevel): string {
  return `INSERT INTO ${level.table} (${columns(level).join(', ')}) VALUES (${columns(level).map(() => '?').join(', ')}) ${upsertTail('sqlite', level)}`;
}

/**
 * The Knex paths' upsert of many rollup rows, with one parameter per statement or per column
 * instead of one per value: binding ~90 values per rollup row cost more than the SQL itself
 * (node's sqlite3 binds each on the event loop, knex formats each).
 *
 * SQLite reads the rows from one JSON array, as "unit" rows: a delta's key, one of its latency
 * bins and that bin's count (`unitRows`), so each row carries 11 values, not 90, and the
 * histogram columns are spelled out in SQL. Extracting 90 JSON values per row made the
 * statement ten times slower than a prepared single-row upsert; unit rows match it. SQLite
 * applies the rows one by one, so a delta's second unit row updates what its first inserted.
 * PostgreSQL, which refuses to update one row twice in a statement, unnests one array per
 * column of whole deltas.
 */
function bulkUpsertSql(dialect: Dialect, level: RollupLevel): string {
  const cols = columns(level);
  if (dialect === 'sqlite') {
    const unit = [...keyColumns(level), 'n', 'last_us', 'bin'];
    return `WITH d AS MATERIALIZED (SELECT ${unit.map((c, i) => `value->>${i} AS ${c}`).join(', ')} FROM json_each(?)) ` +
      `INSERT INTO ${level.table} (${cols.join(', ')}) ` +
      `SELECT ${[...keyColumns(level), 'n', 'last_us'].join(', ')}, ${HIST_COLUMNS.map((_, k) => `iif(bin = ${k}, n, 0)`).join(', ')} ` +
      // WHERE true: SQLite's parser needs it between an INSERT … SELECT and its ON CONFLICT.
      `FROM d WHERE true ${upsertTail(dialect, level)}`;
  }
  const pgType = (c: string): string => (HIST_SET.has(c) ? 'int4' : level.dimensions.includes(c) && !NUMERIC_DIMENSIONS.has(c) ? 'text' : 'int8');
  return `INSERT INTO ${level.table} (${cols.join(', ')}) SELECT * FROM unnest(${cols.map((c) => `?::${pgType(c)}[]`).join(', ')}) ${upsertTail(dialect, level)}`;
}

/** SQLite's unit rows of deltas: [grain, bucket, ...key, count, last_us, bin] per non-empty bin. */
function unitRows(deltas: readonly RollupDelta[]): Array<Array<string | number>> {
  const rows: Array<Array<string | number>> = [];
  for (const d of deltas) {
    for (let k = 0; k < d.hist.length; k++) if (d.hist[k] !== 0) rows.push([d.grain, d.bucketUs, ...d.key, d.hist[k], d.lastUs, k]);
  }
  return rows;
}

/** The bindings of bulkUpsertSql for these deltas. */
function bulkUpsertBindings(dialect: Dialect, deltas: readonly RollupDelta[]): Knex.RawBinding[] {
  if (dialect === 'sqlite') return [JSON.stringify(unitRows(deltas))];
  const rows = deltas.map(deltaValues);
  return rows[0].map((_, c) => rows.map((row) => row[c]) as Knex.RawBinding);
}

/** Rollup rows per upsert statement on the Knex paths. */
const DELTAS_PER_STATEMENT = 1000;

/** Removes the rollup rows that subtraction left empty, in the buckets the deltas touched. */
async function dropEmpty(trx: Knex | Knex.Transaction, level: RollupLevel, deltas: readonly RollupDelta[]): Promise<void> {
  const ranges = new Map<number, [number, number]>();
  for (const d of deltas) {
    const r = ranges.get(d.grain);
    if (!r) ranges.set(d.grain, [d.bucketUs, d.bucketUs]);
    else {
      r[0] = Math.min(r[0], d.bucketUs);
      r[1] = Math.max(r[1], d.bucketUs);
    }
  }
  for (const [grain, [lo, hi]] of ranges) {
    await trx(level.table).where('grain', grain).whereBetween('bucket_us', [lo, hi]).where('n', '<=', 0).del();
  }
}

/**
 * Adds (or, with sign -1, subtracts) these rows to the rollups of every level. Call it inside
 * the write transaction that inserted (or deleted) exactly these rows, so that the rollups and
 * the rows commit together. The one function of the Knex write paths (sqlite3 and pg).
 */
export async function applyRollups(
  trx: Knex | Knex.Transaction, dialect: Dialect, facts: readonly RollupFact[], sign: 1 | -1 = 1, grains: readonly number[] = GRAINS_US, levels = LEVELS,
): Promise<void> {
  if (facts.length === 0) return;
  for (const level of levels) {
    const deltas = aggregateFacts(facts, level, grains, sign);
    for (let i = 0; i < deltas.length; i += DELTAS_PER_STATEMENT) {
      const chunk = deltas.slice(i, i + DELTAS_PER_STATEMENT);
      await trx.raw(bulkUpsertSql(dialect, level), bulkUpsertBindings(dialect, chunk));
    }
    if (sign < 0) await dropEmpty(trx, level, deltas);
  }
}

type PreparedRollups = (facts: readonly RollupFact[]) => void;
const preparedByConnection = new WeakMap<BetterSqlite3.Database, PreparedRollups>();

/**
 * The better-sqlite3 equivalent of `applyRollups(…, +1)`: one prepared single-row upsert run
 * per delta. Call the returned function inside the transaction that inserted the facts' rows.
 */
export function prepareRollups(db: BetterSqlite3.Database): PreparedRollups {
  let apply = preparedByConnection.get(db);
  if (!apply) {
    const statements = LEVELS.map((level) => ({ level, statement: db.prepare(upsertSql(level)) }));
    apply = (facts) => {
      for (const { level, statement } of statements) for (const d of aggregateFacts(facts, level)) statement.run(deltaValues(d));
    };
    preparedByConnection.set(db, apply);
  }
  return apply;
}

const NUMERIC_DIMENSIONS = new Set(['status', 'status_class']);

/** Creates the rollup table of a level (migrations 006 and 011). */
export async function createRollupTable(knex: Knex, dialect: Dialect, level: RollupLevel = FINE): Promise<void> {
  const int = dialect === 'postgres' ? 'bigint' : 'INTEGER';
  const hist = HIST_COLUMNS.map((c) => `${c} ${dialect === 'postgres' ? 'integer' : 'INTEGER'} NOT NULL DEFAULT 0`).join(', ');
  const dims = level.dimensions.map((d) => `${d} ${NUMERIC_DIMENSIONS.has(d) ? int : 'TEXT'} NOT NULL`).join(', ');
  // SQLite: WITHOUT ROWID clusters the rows on the key, so a window is one ordered range read.
  await knex.raw(
    `CREATE TABLE ${level.table} (grain ${int} NOT NULL, bucket_us ${int} NOT NULL, ${dims}, ` +
      `n ${int} NOT NULL, last_us ${int} NOT NULL, ${hist}, PRIMARY KEY (${keyColumns(level).join(', ')}))` +
      (dialect === 'sqlite' ? ' WITHOUT ROWID' : ''),
  );
}

/**
 * Creates the coarse rollups and fills them from the fine ones (migration 011): one grouped
 * INSERT … SELECT over `logs_rollup`, which holds every fine row's counts and histograms.
 */
export async function createCoarseRollups(knex: Knex, dialect: Dialect): Promise<void> {
  await createRollupTable(knex, dialect, COARSE);
  const hist = HIST_COLUMNS.map((c) => `SUM(${c})`).join(', ');
  await knex.raw(
    `INSERT INTO ${COARSE.table} (${columns(COARSE).join(', ')}) ` +
      `SELECT grain, bucket_us, endpoint, method, company_id, status / 100, SUM(n), MAX(last_us), ${hist} ` +
      `FROM ${ROLLUP_TABLE} GROUP BY grain, bucket_us, endpoint, method, company_id, status / 100`,
  );
  await analyzeRollups(knex, dialect, [COARSE]);
}

/**
 * PostgreSQL plans a rollup read from the table's statistics; right after a backfill it has none
 * (autovacuum comes later): a 30-day facet read over 10 M rows, expecting 20 rollup rows for
 * 46 k, sorted them with a spill to disk instead of hashing them (217 ms through the API; 41 ms
 * for the query once analyzed). SQLite's plans follow the primary key and need none.
 */
async function analyzeRollups(knex: Knex, dialect: Dialect, levels: readonly RollupLevel[]): Promise<void> {
  if (dialect === 'postgres') for (const level of levels) await knex.raw(`ANALYZE ${level.table}`);
}

/**
 * Rebuilds every rollup row from `logs` (migration 006's backfill, and after bulk loads that
 * bypassed the store): one day of rows at a time, in time order, so memory stays bounded.
 */
export async function rebuildRollups(knex: Knex, dialect: Dialect, onProgress?: (rows: number) => void): Promise<number> {
  // Migration 006 rebuilds before migration 011 has made the coarse table.
  const levels: RollupLevel[] = [];
  for (const level of LEVELS) if (await knex.schema.hasTable(level.table)) levels.push(level);
  for (const level of levels) await knex(level.table).del();
  const bounds = (await knex('logs').min('ts_us as lo').max('ts_us as hi').first()) as { lo: unknown; hi: unknown } | undefined;
  if (!bounds || bounds.lo === null || bounds.lo === undefined) return 0;
  const lo = Math.floor(Number(bounds.lo) / DAY_US) * DAY_US;
  const hi = Number(bounds.hi);
  let rows = 0;
  for (let day = lo; day <= hi; day += DAY_US) {
    const chunk = (await knex('logs').select(...FACT_COLUMNS).where('ts_us', '>=', day).where('ts_us', '<', day + DAY_US)) as Array<Record<string, unknown>>;
    if (chunk.length === 0) continue;
    await knex.transaction((trx) => applyRollups(trx, dialect, chunk.map(factFromRow), 1, GRAINS_US, levels));
    rows += chunk.length;
    onProgress?.(rows);
  }
  await analyzeRollups(knex, dialect, levels);
  return rows;
}

/**
 * Takes the rows of [lo, hi) (lo null: everything older) out of the rollups, inside the
 * transaction that deletes them and before it does: rollup buckets wholly inside the range are
 * dropped; the rows still stored in the buckets that straddle an end (at most two per grain)
 * are read and subtracted. Rows of the range deleted by earlier transactions are no longer read.
 * Rollup rows are changed level by level, finest grain first, the order of the write paths, so
 * that a purge and a concurrent write never wait for each other in a cycle.
 */
export async function removeRangeFromRollups(trx: Knex | Knex.Transaction, dialect: Dialect, lo: number | null, hi: number): Promise<void> {
  const perGrain: Array<{ grain: number; whole: [number, number] | null; facts: RollupFact[] }> = [];
  for (const grain of GRAINS_US) {
    const firstWhole = lo === null ? -Infinity : Math.ceil(lo / grain) * grain;
    const wholeEnd = Math.floor(hi / grain) * grain;
    const partial: Array<[number | null, number]> = [];
    if (lo !== null && firstWhole > wholeEnd) partial.push([lo, hi]); // both ends in one bucket
    else {
      if (lo !== null && lo < firstWhole) partial.push([lo, Math.min(firstWhole, hi)]);
      if (wholeEnd < hi) partial.push([lo === null ? wholeEnd : Math.max(wholeEnd, lo), hi]);
    }
    const facts: RollupFact[] = [];
    for (const [from, to] of partial) {
      const rows = (await trx('logs').select(...FACT_COLUMNS).where('ts_us', '<', to).modify((qb) => {
        if (from !== null) qb.where('ts_us', '>=', from);
      })) as Array<Record<string, unknown>>;
      for (const row of rows) facts.push(factFromRow(row));
    }
    perGrain.push({ grain, whole: firstWhole < wholeEnd ? [firstWhole, wholeEnd] : null, facts });
  }
  for (const level of LEVELS) {
    for (const { grain, whole, facts } of perGrain) {
      if (whole) {
        await trx(level.table).where('grain', grain).where('bucket_us', '<', whole[1]).modify((qb) => {
          if (lo !== null) qb.where('bucket_us', '>=', whole[0]);
        }).del();
      }
      await applyRollups(trx, dialect, facts, -1, [grain], [level]);
    }
  }
}
