/**
 * Rollups: counts and latency histograms of `logs` per hour and per day, for every combination
 * of the dimensions the UI filters on, kept in `logs_rollup` (migration 006) so that stats,
 * facets and the endpoint table read a bounded number of rows whatever the row count.
 *
 * One rollup row = (grain, bucket start, endpoint, method, company, service, token, status
 * code) → n (rows), last_us (newest start time) and h0…h81 (rows per latency bin). They are
 * maintained in the same write transaction as the rows, from the rows actually inserted (a
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

/** The dimensions of a rollup row, in primary-key order after (grain, bucket_us). */
export const DIMENSIONS = ['endpoint', 'method', 'company_id', 'service', 'token_name', 'status'] as const;
export const HIST_COLUMNS = Array.from({ length: LATENCY_BINS }, (_, k) => `h${k}`);
const KEY_COLUMNS = ['grain', 'bucket_us', ...DIMENSIONS];
const COLUMNS = [...KEY_COLUMNS, 'n', 'last_us', ...HIST_COLUMNS];

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
  endpoint: string;
  method: string;
  companyId: string;
  service: string;
  tokenName: string;
  status: number;
  n: number;
  lastUs: number;
  hist: number[];
}

/**
 * Sums facts into one delta per rollup row of each grain. `sign` -1 makes deltas that take
 * the facts out again (retention); their last_us is 0, which leaves the stored maximum as it is.
 */
export function aggregateFacts(facts: readonly RollupFact[], grains: readonly number[] = GRAINS_US, sign: 1 | -1 = 1): RollupDelta[] {
  const byKey = new Map<string, RollupDelta>();
  for (const f of facts) {
    const bin = latencyBin(f.latencyMs);
    const company = f.companyId ?? '';
    const service = f.service ?? '';
    const token = f.tokenName ?? '';
    for (const grain of grains) {
      const bucketUs = Math.floor(f.tsUs / grain) * grain;
      const key = `${grain}\u0001${bucketUs}\u0001${f.endpoint}\u0001${f.method}\u0001${company}\u0001${service}\u0001${token}\u0001${f.status}`;
      let d = byKey.get(key);
      if (!d) {
        d = { grain, bucketUs, endpoint: f.endpoint, method: f.method, companyId: company, service, tokenName: token, status: f.status, n: 0, lastUs: 0, hist: new Array<number>(LATENCY_BINS).fill(0) };
        byKey.set(key, d);
      }
      d.n += sign;
      d.hist[bin] += sign;
      if (sign > 0 && f.tsUs > d.lastUs) d.lastUs = f.tsUs;
    }
  }
  // Sorted by key: concurrent transactions then lock the rows they share in the same order, so
  // two writers upserting the same buckets wait for each other instead of deadlocking (40P01).
  return [...byKey.entries()].sort((a, b) => compareKeys(a[1], b[1])).map(([, d]) => d);
}

function compareKeys(a: RollupDelta, b: RollupDelta): number {
  return a.grain - b.grain || a.bucketUs - b.bucketUs || cmp(a.endpoint, b.endpoint) || cmp(a.method, b.method) ||
    cmp(a.companyId, b.companyId) || cmp(a.service, b.service) || cmp(a.tokenName, b.tokenName) || a.status - b.status;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function deltaValues(d: RollupDelta): Array<string | number> {
  return [d.grain, d.bucketUs, d.endpoint, d.method, d.companyId, d.service, d.tokenName, d.status, d.n, d.lastUs, ...d.hist];
}

function upsertSql(dialect: Dialect, rows: number): string {
  const max = dialect === 'postgres' ? 'GREATEST' : 'MAX';
  const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
  const sets = ['n', ...HIST_COLUMNS].map((c) => `${c} = ${ROLLUP_TABLE}.${c} + excluded.${c}`);
  sets.push(`last_us = ${max}(${ROLLUP_TABLE}.last_us, excluded.last_us)`);
  return `INSERT INTO ${ROLLUP_TABLE} (${COLUMNS.join(', ')}) VALUES ${new Array(rows).fill(tuple).join(', ')} ` +
    `ON CONFLICT (${KEY_COLUMNS.join(', ')}) DO UPDATE SET ${sets.join(', ')}`;
}

/** Rollup rows per upsert statement: 92 parameters each, under SQLite's 32 766. */
const DELTAS_PER_STATEMENT = 300;

/** Removes the rollup rows that subtraction left empty, in the buckets the deltas touched. */
async function dropEmpty(trx: Knex | Knex.Transaction, deltas: readonly RollupDelta[]): Promise<void> {
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
    await trx(ROLLUP_TABLE).where('grain', grain).whereBetween('bucket_us', [lo, hi]).where('n', '<=', 0).del();
  }
}

/**
 * Adds (or, with sign -1, subtracts) these rows to the rollups. Call it inside the write
 * transaction that inserted (or deleted) exactly these rows, so that the rollups and the rows
 * commit together. The one function of the Knex write paths (sqlite3 and pg).
 */
export async function applyRollups(trx: Knex | Knex.Transaction, dialect: Dialect, facts: readonly RollupFact[], sign: 1 | -1 = 1, grains: readonly number[] = GRAINS_US): Promise<void> {
  if (facts.length === 0) return;
  const deltas = aggregateFacts(facts, grains, sign);
  for (let i = 0; i < deltas.length; i += DELTAS_PER_STATEMENT) {
    const chunk = deltas.slice(i, i + DELTAS_PER_STATEMENT);
    await trx.raw(upsertSql(dialect, chunk.length), chunk.flatMap(deltaValues));
  }
  if (sign < 0) await dropEmpty(trx, deltas);
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
    const statement = db.prepare(upsertSql('sqlite', 1));
    apply = (facts) => {
      for (const d of aggregateFacts(facts)) statement.run(deltaValues(d));
    };
    preparedByConnection.set(db, apply);
  }
  return apply;
}

/** Creates the rollup table (migration 006). */
export async function createRollupTable(knex: Knex, dialect: Dialect): Promise<void> {
  const int = dialect === 'postgres' ? 'bigint' : 'INTEGER';
  const hist = HIST_COLUMNS.map((c) => `${c} ${dialect === 'postgres' ? 'integer' : 'INTEGER'} NOT NULL DEFAULT 0`).join(', ');
  // SQLite: WITHOUT ROWID clusters the rows on the key, so a window is one ordered range read.
  await knex.raw(
    `CREATE TABLE ${ROLLUP_TABLE} (grain ${int} NOT NULL, bucket_us ${int} NOT NULL, endpoint TEXT NOT NULL, method TEXT NOT NULL, ` +
      `company_id TEXT NOT NULL, service TEXT NOT NULL, token_name TEXT NOT NULL, status ${int} NOT NULL, ` +
      `n ${int} NOT NULL, last_us ${int} NOT NULL, ${hist}, PRIMARY KEY (${KEY_COLUMNS.join(', ')}))` +
      (dialect === 'sqlite' ? ' WITHOUT ROWID' : ''),
  );
}

/**
 * Rebuilds every rollup row from `logs` (migration 006's backfill, and after bulk loads that
 * bypassed the store): one day of rows at a time, in time order, so memory stays bounded.
 */
export async function rebuildRollups(knex: Knex, dialect: Dialect, onProgress?: (rows: number) => void): Promise<number> {
  await knex(ROLLUP_TABLE).del();
  const bounds = (await knex('logs').min('ts_us as lo').max('ts_us as hi').first()) as { lo: unknown; hi: unknown } | undefined;
  if (!bounds || bounds.lo === null || bounds.lo === undefined) return 0;
  const lo = Math.floor(Number(bounds.lo) / DAY_US) * DAY_US;
  const hi = Number(bounds.hi);
  let rows = 0;
  for (let day = lo; day <= hi; day += DAY_US) {
    const chunk = (await knex('logs').select(...FACT_COLUMNS).where('ts_us', '>=', day).where('ts_us', '<', day + DAY_US)) as Array<Record<string, unknown>>;
    if (chunk.length === 0) continue;
    await knex.transaction((trx) => applyRollups(trx, dialect, chunk.map(factFromRow)));
    rows += chunk.length;
    onProgress?.(rows);
  }
  return rows;
}

/**
 * Takes the rows of [lo, hi) (lo null: everything older) out of the rollups, inside the
 * transaction that deletes them and before it does: rollup buckets wholly inside the range are
 * dropped; the rows still stored in the buckets that straddle an end (at most two per grain)
 * are read and subtracted. Rows of the range deleted by earlier transactions are no longer read.
 */
export async function removeRangeFromRollups(trx: Knex | Knex.Transaction, dialect: Dialect, lo: number | null, hi: number): Promise<void> {
  for (const grain of GRAINS_US) {
    const firstWhole = lo === null ? -Infinity : Math.ceil(lo / grain) * grain;
    const wholeEnd = Math.floor(hi / grain) * grain;
    if (firstWhole < wholeEnd) {
      await trx(ROLLUP_TABLE).where('grain', grain).where('bucket_us', '<', wholeEnd).modify((qb) => {
        if (lo !== null) qb.where('bucket_us', '>=', firstWhole);
      }).del();
    }
    const partial: Array<[number | null, number]> = [];
    if (lo !== null && firstWhole > wholeEnd) partial.push([lo, hi]); // both ends in one bucket
    else {
      if (lo !== null && lo < firstWhole) partial.push([lo, Math.min(firstWhole, hi)]);
      if (wholeEnd < hi) partial.push([lo === null ? wholeEnd : Math.max(wholeEnd, lo), hi]);
    }
    for (const [from, to] of partial) {
      const rows = (await trx('logs').select(...FACT_COLUMNS).where('ts_us', '<', to).modify((qb) => {
        if (from !== null) qb.where('ts_us', '>=', from);
      })) as Array<Record<string, unknown>>;
      await applyRollups(trx, dialect, rows.map(factFromRow), -1, [grain]);
    }
  }
}
