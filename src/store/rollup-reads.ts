/**
 * Stats, facets and the per-endpoint summary read from the rollups (rollups.ts): a window is
 * cut into whole days and whole hours, read from rollup rows, and the partial hours at its
 * edges, read from `logs` itself, so every count is exact whatever the window's alignment.
 * Filters the rollups do not carry (text `q`, latency bounds) go to the raw path (stats.ts).
 */
import type { Knex } from 'knex';
import type { Dialect } from './connect';
import { applyFilter } from './filter';
import { COARSE, DAY_US, FINE, GRAINS_US, HIST_COLUMNS, HOUR_US, histogramPercentile, LATENCY_BINS, type RollupLevel } from './rollups';
import { chooseBucketMs } from './stats';
import type { EndpointFigures, EndpointSummaryOptions, Facets, LogFilter, Stats, StatusClassCounts } from './types';

const TOP_ENDPOINTS = 50;
const FACET_LIMIT = 200;
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** True when the rollups carry every dimension the filter uses. */
export function rollupsServe(filter: LogFilter): boolean {
  return (filter.q === undefined || filter.q === '') && filter.minLatencyMs === undefined && filter.maxLatencyMs === undefined;
}

/** A time range in µs; `hi` null is open-ended (every later row). */
export interface Range { lo: number; hi: number | null }
export interface WindowPlan {
  /** Ranges read from `logs`. */
  raw: Range[];
  /** Ranges of whole grain buckets read from the rollups. */
  rollup: Array<{ grain: number; lo: number; hi: number }>;
}

/**
 * Cuts [fromUs, toUs) into raw edges (the partial finest-grain buckets) and whole buckets of the
 * coarsest grain that fits, finer grains at its sides. `nowUs` bounds an open end: rows from its
 * finest bucket on are read raw.
 */
export function planWindow(fromUs: number, toUs: number | null, grains: readonly number[], nowUs = Date.now() * 1000): WindowPlan {
  const plan: WindowPlan = { raw: [], rollup: [] };
  if (grains.length === 0) {
    plan.raw.push({ lo: fromUs, hi: toUs });
    return plan;
  }
  const g0 = grains[0];
  const a = Math.ceil(fromUs / g0) * g0;
  const b = Math.floor((toUs ?? nowUs) / g0) * g0;
  if (a >= b) {
    plan.raw.push({ lo: fromUs, hi: toUs });
    return plan;
  }
  if (fromUs < a) plan.raw.push({ lo: fromUs, hi: a });
  if (toUs === null || b < toUs) plan.raw.push({ lo: b, hi: toUs });
  const fill = (lo: number, hi: number, level: number): void => {
    const next = grains[level + 1];
    const A = next ? Math.ceil(lo / next) * next : hi;
    const B = next ? Math.floor(hi / next) * next : hi;
    if (!next || A >= B) {
      plan.rollup.push({ grain: grains[level], lo, hi });
      return;
    }
    if (lo < A) plan.rollup.push({ grain: grains[level], lo, hi: A });
    if (B < hi) plan.rollup.push({ grain: grains[level], lo: B, hi });
    fill(A, B, level + 1);
  };
  fill(a, b, 0);
  return plan;
}

/**
 * The rollup level that serves a filter: the coarse rollups (endpoint, method, company, status
 * class) unless it names a token, a service or a status code.
 */
function levelFor(filter: LogFilter): RollupLevel {
  return filter.tokens?.length || filter.services?.length || filter.statusCodes?.length ? FINE : COARSE;
}

/** A level's status class in SQL. */
const classOf = (level: RollupLevel): string => (level === COARSE ? 'status_class' : '(status / 100)');

/** The filter's dimensions on rollup rows of a level (same semantics as applyFilter on `logs`). */
function applyRollupFilter(filter: LogFilter, level: RollupLevel) {
  return (qb: Knex.QueryBuilder): void => {
    if (filter.companyId !== undefined) qb.where('company_id', filter.companyId);
    if (filter.endpoints?.length) qb.whereIn('endpoint', filter.endpoints);
    if (filter.methods?.length) qb.whereIn('method', filter.methods);
    if (filter.tokens?.length) qb.whereIn('token_name', filter.tokens);
    if (filter.services?.length) qb.whereIn('service', filter.services);
    const classes = filter.statusClasses ?? [];
    const codes = filter.statusCodes ?? [];
    const classSql = `${classOf(level)} IN (${classes.map(() => '?').join(', ')})`;
    if (classes.length && codes.length) qb.where((w) => w.whereRaw(classSql, classes).orWhereIn('status', codes));
    else if (classes.length) qb.whereRaw(classSql, classes);
    else if (codes.length) qb.whereIn('status', codes);
  };
}

/** Counts and a latency histogram of one (time key, endpoint, method) cell. */
export interface Cell {
  t: number;
  endpoint: string;
  method: string;
  n: number;
  /** Rows per status class 1…5 (index 0 counts the rest). */
  classes: number[];
  lastUs: number;
  hist: number[];
}

function classSums(level: RollupLevel): string {
  return [1, 2, 3, 4, 5].map((c) => `SUM(CASE WHEN ${classOf(level)} = ${c} THEN n ELSE 0 END) AS c${c}`).join(', ');
}

/** Rows per status class 1…5 of raw rows grouped in SQL. */
const rawClassSums = [1, 2, 3, 4, 5].map((c) => `SUM(CASE WHEN status_class = ${c} THEN 1 ELSE 0 END) AS c${c}`).join(', ');

/** Raw ranges up to a day long list their rows' latency bins per cell (readCells). */
const listed = (r: Range): boolean => (r.hi ?? Date.now() * 1000) - r.lo <= DAY_US;

/** The latency bins of a group's rows, comma-separated. */
function binList(dialect: Dialect): string {
  return dialect === 'postgres' ? `string_agg((${binSql(dialect)})::text, ',')` : `group_concat(${binSql(dialect)})`;
}

/** The latency bin of `latency_ms` in SQL, as latencyBin() computes it. */
function binSql(dialect: Dialect): string {
  const log2 = dialect === 'postgres' ? '(ln(latency_ms) / ln(2))' : 'log2(latency_ms)';
  const floor = dialect === 'postgres' ? `floor(4 * (${log2} + 4))::int` : `CAST(floor(4 * (${log2} + 4)) AS INTEGER)`;
  const min = dialect === 'postgres' ? 'LEAST' : 'MIN';
  return `CASE WHEN latency_ms IS NULL OR latency_ms < 0.0625 THEN 0 WHEN latency_ms >= 65536 THEN ${LATENCY_BINS - 1} ELSE ${min}(${LATENCY_BINS - 2}, 1 + ${floor}) END`;
}

/**
 * Every (t, endpoint, method) cell of the window, where t = floor((start µs − originUs) / keyUs):
 * rollup rows grouped in key order (a rollup row's start is its bucket's), plus the raw edge
 * rows grouped in SQL by the same key, class and latency bin. With `keyUs` a multiple of every
 * grain in the plan and `originUs` 0, each cell holds exactly its own rows; otherwise a bucket
 * counts wholly in the cell where it starts.
 */
export async function readCells(knex: Knex, dialect: Dialect, filter: LogFilter, plan: WindowPlan, keyUs: number, originUs = 0): Promise<Map<string, Cell>> {
  const cells = new Map<string, Cell>();
  const cell = (t: number, endpoint: string, method: string): Cell => {
    const k = `${t}\u0001${endpoint}\u0001${method}`;
    let c = cells.get(k);
    if (!c) cells.set(k, (c = { t, endpoint, method, n: 0, classes: [0, 0, 0, 0, 0, 0], lastUs: 0, hist: new Array<number>(LATENCY_BINS).fill(0) }));
    return c;
  };
  const level = levelFor(filter);
  const rollupFilter = applyRollupFilter(filter, level);
  for (const r of plan.rollup) {
    // Grouped in primary-key order (grain, bucket_us, endpoint, method, …): one ordered range read.
    const rows = (await knex(level.table)
      .select('bucket_us', 'endpoint', 'method')
      .select(knex.raw(`SUM(n) AS n, ${classSums(level)}, MAX(last_us) AS last_us, ${HIST_COLUMNS.map((h) => `SUM(${h}) AS ${h}`).join(', ')}`))
      .where('grain', r.grain)
      .where('bucket_us', '>=', r.lo)
      .where('bucket_us', '<', r.hi)
      .modify(rollupFilter)
      .groupBy('bucket_us', 'endpoint', 'method')) as Array<Record<string, unknown>>;
    for (const row of rows) {
      const c = cell(Math.floor((Number(row.bucket_us) - originUs) / keyUs), String(row.endpoint), String(row.method));
      c.n += Number(row.n);
      for (let k = 1; k <= 5; k++) c.classes[k] += Number(row[`c${k}`]);
      c.lastUs = Math.max(c.lastUs, Number(row.last_us));
      for (let k = 0; k < LATENCY_BINS; k++) c.hist[k] += Number(row[`h${k}`]);
    }
  }
  const tExpr = dialect === 'sqlite' ? 'CAST((ts_us - ?) / ? AS INTEGER)' : '((ts_us - ?::bigint) / ?::bigint)';
  for (const r of plan.raw) {
    const rows = (await knex('logs')
      .modify(applyFilter(dialect, { ...filter, from: undefined, to: undefined }))
      .where('ts_us', '>=', r.lo)
      .modify((qb) => {
        if (r.hi !== null) qb.where('ts_us', '<', r.hi);
      })
      // Edges: one result row per cell, its rows' latency bins as a list (a tenth of the result
      // rows of grouping by bin too, at the density of a busy API). A longer range (a window
      // read wholly from the rows) is grouped by bin too: its lists would hold every row.
      .select(knex.raw(`${tExpr} AS t`, [originUs, keyUs]), 'endpoint', 'method')
      .modify((qb) => {
        if (listed(r)) qb.select(knex.raw(`${rawClassSums}, ${binList(dialect)} AS bins`)).groupByRaw('1, 2, 3');
        else qb.select(knex.raw(`${binSql(dialect)} AS bin, ${rawClassSums}`)).groupByRaw('1, 2, 3, 4');
      })
      .count('* as n')
      .max('ts_us as last_us')) as Array<Record<string, unknown>>;
    for (const row of rows) {
      const c = cell(Number(row.t), String(row.endpoint), String(row.method));
      const n = Number(row.n);
      let classified = 0;
      for (let k = 1; k <= 5; k++) {
        const m = Number(row[`c${k}`]);
        c.classes[k] += m;
        classified += m;
      }
      c.n += n;
      c.classes[0] += n - classified;
      c.lastUs = Math.max(c.lastUs, Number(row.last_us));
      if (row.bins === undefined) c.hist[Number(row.bin)] += n;
      else for (const bin of String(row.bins).split(',')) c.hist[Number(bin)]++;
    }
  }
  return cells;
}

/** The exact first start time (ms) of a matching row, or null: found through the coarsest rollups, then raw rows. */
async function firstMatchMs(knex: Knex, dialect: Dialect, filter: LogFilter): Promise<number | null> {
  const level = levelFor(filter);
  const rollupFilter = applyRollupFilter(filter, level);
  let lo = -Infinity;
  let hi = Infinity;
  for (const grain of [...GRAINS_US].reverse()) {
    const row = (await knex(level.table)
      .min('bucket_us as b')
      .where('grain', grain)
      .modify((qb) => {
        if (lo > -Infinity) qb.where('bucket_us', '>=', lo).where('bucket_us', '<', hi);
      })
      .modify(rollupFilter)
      .first()) as { b: unknown } | undefined;
    if (row?.b === null || row?.b === undefined) break;
    lo = Number(row.b);
    hi = lo + grain;
  }
  // The rows of that hour (or, with no rollups yet, every row) hold the first match.
  const first = (await knex('logs')
    .modify(applyFilter(dialect, { ...filter, from: undefined, to: undefined }))
    .modify((qb) => {
      if (lo > -Infinity) qb.where('ts_us', '>=', lo).where('ts_us', '<', hi);
    })
    .min('ts_us as lo')
    .first()) as { lo: unknown } | undefined;
  if (first?.lo !== null && first?.lo !== undefined) return Math.floor(Number(first.lo) / 1000);
  if (lo === -Infinity) return null;
  // Rows newer than the rollups' first bucket but no rollup yet (cannot happen when both are
  // written together); read the raw rows as a last resort.
  const any = (await knex('logs').modify(applyFilter(dialect, { ...filter, from: undefined, to: undefined })).min('ts_us as lo').first()) as { lo: unknown } | undefined;
  return any?.lo !== null && any?.lo !== undefined ? Math.floor(Number(any.lo) / 1000) : null;
}

/**
 * The series bucket width when the rollups answer: as the raw path would choose it, raised to a
 * whole hour for windows over 6 hours and to a whole day for windows over 3 days, so that
 * whole hours and days of rollup rows map to single points.
 */
export function chooseRollupBucketMs(fromMs: number, toMs: number): number {
  const chosen = chooseBucketMs(fromMs, toMs);
  const span = toMs - fromMs;
  if (span > 3 * 86_400_000) return Math.max(chosen, DAY_US / 1000);
  if (span > 6 * 3_600_000) return Math.max(chosen, HOUR_US / 1000);
  return chosen;
}

const usableGrains = (keyUs: number): number[] => GRAINS_US.filter((g) => keyUs % g === 0);

function emptyClasses(): StatusClassCounts {
  return { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
}

function addHist(into: number[], from: number[]): void {
  for (let k = 0; k < into.length; k++) into[k] += from[k];
}

/** /api/stats from the rollups: counts exact, percentiles within PERCENTILE_RELATIVE_ERROR. */
export async function rollupStats(knex: Knex, dialect: Dialect, filter: LogFilter, bucketMsOption?: number): Promise<Stats> {
  let fromMs = filter.from;
  if (fromMs === undefined) fromMs = (await firstMatchMs(knex, dialect, filter)) ?? Date.now() - 3_600_000;
  const toMs = filter.to ?? Math.max(Date.now(), fromMs + 60_000);
  const bucketMs = bucketMsOption ?? chooseRollupBucketMs(fromMs, toMs);
  const bucketUs = bucketMs * 1000;
  const plan = planWindow(Math.floor(fromMs * 1000), filter.to === undefined ? null : Math.floor(filter.to * 1000), usableGrains(bucketUs));
  const cells = await readCells(knex, dialect, filter, plan, bucketUs);

  let total = 0;
  const byStatusClass = emptyClasses();
  const overall = new Array<number>(LATENCY_BINS).fill(0);
  const series = new Map<number, { counts: StatusClassCounts & { total: number }; hist: number[] }>();
  const perEndpoint = new Map<string, { n: number; errors: number; hist: number[] }>();
  const keys = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
  for (const c of cells.values()) {
    total += c.n;
    let s = series.get(c.t);
    if (!s) series.set(c.t, (s = { counts: { total: 0, ...emptyClasses() }, hist: new Array<number>(LATENCY_BINS).fill(0) }));
    s.counts.total += c.n;
    keys.forEach((key, i) => {
      byStatusClass[key] += c.classes[i + 1];
      s.counts[key] += c.classes[i + 1];
    });
    addHist(s.hist, c.hist);
    addHist(overall, c.hist);
    let e = perEndpoint.get(c.endpoint);
    if (!e) perEndpoint.set(c.endpoint, (e = { n: 0, errors: 0, hist: new Array<number>(LATENCY_BINS).fill(0) }));
    e.n += c.n;
    e.errors += c.classes[4] + c.classes[5];
    addHist(e.hist, c.hist);
  }
  const errors = byStatusClass['4xx'] + byStatusClass['5xx'];
  return {
    total,
    byStatusClass,
    errorRate: total > 0 ? round3(errors / total) : 0,
    latency: { p50: histogramPercentile(overall, 0.5), p95: histogramPercentile(overall, 0.95), p99: histogramPercentile(overall, 0.99) },
    bucketMs,
    series: [...series.entries()]
      .filter(([, s]) => s.counts.total > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([t, s]) => ({ t: new Date((t * bucketUs) / 1000).toISOString(), ...s.counts, p50: histogramPercentile(s.hist, 0.5), p95: histogramPercentile(s.hist, 0.95) })),
    endpoints: [...perEndpoint.entries()]
      .filter(([, e]) => e.n > 0)
      .sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, TOP_ENDPOINTS)
      .map(([endpoint, e]) => ({ endpoint, count: e.n, errorRate: round3(e.errors / e.n), p95: histogramPercentile(e.hist, 0.95) })),
  };
}

/**
 * Per (endpoint, method) of [from, to) (to: now; no from: every row): count, error rate
 * (4xx + 5xx), p50/p95/p99, last seen and, with `sparkBuckets` and `from`, requests per equal
 * slice of the window — from the rollups and raw edges, so counts are exact and percentiles
 * within PERCENTILE_RELATIVE_ERROR. Rollups of a grain coarser than a slice are not used; a
 * rollup hour that straddles two slices counts in the one where it starts. Needs no text or
 * latency filter (rollupsServe). Busiest first, at most `limit`.
 */
export async function rollupEndpointSummary(
  knex: Knex, dialect: Dialect, filter: LogFilter, options: EndpointSummaryOptions, limit: number,
): Promise<EndpointFigures[]> {
  const buckets = Math.max(0, Math.floor(options.sparkBuckets ?? 0));
  const fromUs = filter.from === undefined ? -Number.MAX_SAFE_INTEGER : Math.floor(filter.from * 1000);
  const toUs = filter.to === undefined ? null : Math.floor(filter.to * 1000);
  const endUs = toUs ?? Date.now() * 1000;
  const sliceUs = buckets > 0 && filter.from !== undefined && endUs > fromUs ? Math.ceil((endUs - fromUs) / buckets) : 0;
  const plan = planWindow(fromUs, toUs, sliceUs > 0 ? GRAINS_US.filter((g) => g <= sliceUs) : GRAINS_US);
  const cells = await readCells(knex, dialect, filter, plan, sliceUs > 0 ? sliceUs : DAY_US * 36_500, sliceUs > 0 ? fromUs : 0);
  interface Acc { endpoint: string; method: string; n: number; errors: number; lastUs: number; hist: number[]; spark: number[] | undefined }
  const byKey = new Map<string, Acc>();
  for (const c of cells.values()) {
    const key = `${c.endpoint}\u0001${c.method}`;
    let e = byKey.get(key);
    if (!e) {
      e = { endpoint: c.endpoint, method: c.method, n: 0, errors: 0, lastUs: 0, hist: new Array<number>(LATENCY_BINS).fill(0), spark: sliceUs > 0 ? new Array<number>(buckets).fill(0) : undefined };
      byKey.set(key, e);
    }
    e.n += c.n;
    e.errors += c.classes[4] + c.classes[5];
    e.lastUs = Math.max(e.lastUs, c.lastUs);
    addHist(e.hist, c.hist);
    if (e.spark) e.spark[Math.min(buckets - 1, Math.max(0, c.t))] += c.n;
  }
  return [...byKey.values()]
    .filter((e) => e.n > 0)
    .sort((a, b) => b.n - a.n || cmp(a.endpoint, b.endpoint) || cmp(a.method, b.method))
    .slice(0, limit)
    .map((e) => {
      const out: EndpointFigures = {
        endpoint: e.endpoint, method: e.method, count: e.n, errorRate: round3(e.errors / e.n),
        p50: histogramPercentile(e.hist, 0.5), p95: histogramPercentile(e.hist, 0.95), p99: histogramPercentile(e.hist, 0.99),
        lastSeen: new Date(Math.floor(e.lastUs / 1000)).toISOString(),
      };
      if (e.spark) out.sparkline = e.spark;
      return out;
    });
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * /api/facets from the rollups: every endpoint, token, method and status seen in the window
 * (not only in its newest rows), the most frequent FACET_LIMIT of each; `q` and latency bounds
 * are not applied.
 */
export async function rollupFacets(knex: Knex, dialect: Dialect, full: LogFilter): Promise<Facets> {
  // Text and latency bounds are not rollup dimensions: facets leave them out (docs/query-api.md).
  const filter: LogFilter = { ...full, q: undefined, minLatencyMs: undefined, maxLatencyMs: undefined };
  const fromUs = filter.from === undefined ? -Number.MAX_SAFE_INTEGER : Math.floor(filter.from * 1000);
  const plan = planWindow(fromUs, filter.to === undefined ? null : Math.floor(filter.to * 1000), GRAINS_US);
  const counts = { e: new Map<string, number>(), t: new Map<string, number>(), m: new Map<string, number>(), s: new Map<number, number>(), v: new Map<string, number>() };
  const add = <K>(m: Map<K, number>, k: K, n: number) => m.set(k, (m.get(k) ?? 0) + n);
  const rollupFilter = applyRollupFilter(filter, FINE);
  for (const r of plan.rollup) {
    const rows = (await knex(FINE.table)
      .select('endpoint', 'method', 'token_name', 'status', 'service')
      .sum('n as n')
      .where('grain', r.grain)
      .where('bucket_us', '>=', r.lo)
      .where('bucket_us', '<', r.hi)
      .modify(rollupFilter)
      .groupBy('endpoint', 'method', 'token_name', 'status', 'service')) as Array<Record<string, unknown>>;
    for (const row of rows) {
      const n = Number(row.n);
      add(counts.e, String(row.endpoint), n);
      add(counts.m, String(row.method), n);
      if (row.token_name !== '') add(counts.t, String(row.token_name), n);
      add(counts.s, Number(row.status), n);
      if (row.service !== null && row.service !== '') add(counts.v, String(row.service), n);
    }
  }
  for (const r of plan.raw) {
    const rows = (await knex('logs')
      .modify(applyFilter(dialect, { ...filter, from: undefined, to: undefined }))
      .where('ts_us', '>=', r.lo)
      .modify((qb) => {
        if (r.hi !== null) qb.where('ts_us', '<', r.hi);
      })
      .select('endpoint', 'method', 'token_name', 'status', 'service')
      .count('* as n')
      .groupBy('endpoint', 'method', 'token_name', 'status', 'service')) as Array<Record<string, unknown>>;
    for (const row of rows) {
      const n = Number(row.n);
      add(counts.e, String(row.endpoint), n);
      add(counts.m, String(row.method), n);
      if (row.token_name !== null && row.token_name !== '') add(counts.t, String(row.token_name), n);
      add(counts.s, Number(row.status), n);
      if (row.service !== null && row.service !== '') add(counts.v, String(row.service), n);
    }
  }
  const top = <K>(m: Map<K, number>): K[] =>
    [...m.entries()]
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1] || (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0))
      .slice(0, FACET_LIMIT)
      .map(([k]) => k);
  return {
    endpoints: top(counts.e).sort(),
    tokens: top(counts.t).sort(),
    methods: top(counts.m).sort(),
    statuses: top(counts.s).sort((a, b) => a - b),
    services: top(counts.v).sort(),
  };
}
