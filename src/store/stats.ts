import type { Knex } from 'knex';
import type { Dialect } from './connect';
import { applyFilter } from './filter';
import type { LogFilter, Stats, StatusClassCounts } from './types';

const NICE_BUCKETS_MS = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 604_800_000];
/**
 * Percentiles come from at most this many rows, evenly sampled by id (SQLite has no percentile
 * function; on PostgreSQL sorting every row of a long window costs seconds). 50 000 samples put
 * p99 within a few hundredths of a percentile of the exact value.
 */
export const PERCENTILE_SAMPLE = 50_000;
const TOP_ENDPOINTS = 50;

/** A bucket width giving at most ~120 buckets over the range, rounded to a readable width. */
export function chooseBucketMs(fromMs: number, toMs: number): number {
  const span = Math.max(toMs - fromMs, 60_000);
  return NICE_BUCKETS_MS.find((b) => span / b <= 120) ?? NICE_BUCKETS_MS[NICE_BUCKETS_MS.length - 1];
}

function emptyClasses(): StatusClassCounts {
  return { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
}

function classKey(c: number): keyof StatusClassCounts | null {
  return c >= 1 && c <= 5 ? (`${c}xx` as keyof StatusClassCounts) : null;
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  // Linear interpolation between closest ranks, as PostgreSQL's percentile_cont.
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return round3(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo));
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : round3(Number(v)));

export async function computeStats(knex: Knex, dialect: Dialect, filter: LogFilter, bucketMsOption?: number): Promise<Stats> {
  const where = applyFilter(dialect, filter);
  // The window: as asked, else from the first matching row (an index lookup) to now.
  let fromMs = filter.from;
  if (fromMs === undefined) {
    const first = await knex('logs').modify(where).min('ts_us as lo').first();
    fromMs = first?.lo != null ? Math.floor(Number(first.lo) / 1000) : Date.now() - 3_600_000;
  }
  const toMs = filter.to ?? Math.max(Date.now(), fromMs + 60_000);
  const bucketMs = bucketMsOption ?? chooseBucketMs(fromMs, toMs);
  const bucketUs = bucketMs * 1000;
  // Integer division on both databases: a width above 2^31 µs is bound as a float by sqlite3.
  const bucketExpr = dialect === 'sqlite' ? knex.raw('CAST(ts_us / ? AS INTEGER)', [bucketUs]) : knex.raw('(ts_us / ?::bigint)', [bucketUs]);

  // One pass over the matching rows gives the totals, the series and the endpoint table.
  const groups = await knex('logs')
    .modify(where)
    .select({ b: bucketExpr, c: 'status_class', e: 'endpoint' })
    .count('* as n')
    .groupByRaw('1, 2, 3');
  let total = 0;
  const byStatusClass = emptyClasses();
  const series = new Map<number, Stats['series'][number]>();
  const bucketOf = (b: number) => {
    let s = series.get(b);
    if (!s) {
      s = { t: new Date((b * bucketUs) / 1000).toISOString(), total: 0, p50: null, p95: null, ...emptyClasses() };
      series.set(b, s);
    }
    return s;
  };
  const perEndpoint = new Map<string, { n: number; errors: number }>();
  for (const row of groups) {
    const n = num(row.n);
    const c = num(row.c);
    const key = classKey(c);
    const s = bucketOf(num(row.b));
    total += n;
    s.total += n;
    if (key) {
      byStatusClass[key] += n;
      s[key] += n;
    }
    const e = perEndpoint.get(String(row.e)) ?? { n: 0, errors: 0 };
    e.n += n;
    if (c >= 4) e.errors += n;
    perEndpoint.set(String(row.e), e);
  }
  const endpoints: Stats['endpoints'] = [...perEndpoint.entries()]
    .sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, TOP_ENDPOINTS)
    .map(([endpoint, e]) => ({ endpoint, count: e.n, errorRate: e.n > 0 ? round3(e.errors / e.n) : 0, p95: null }));

  let latency: Stats['latency'] = { p50: null, p95: null, p99: null };
  if (total > 0) {
    const stride = Math.ceil(total / PERCENTILE_SAMPLE);
    const sampled = (qb: Knex.QueryBuilder) => {
      if (stride > 1) qb.whereRaw('(id % ?) = 0', [stride]);
    };
    if (dialect === 'postgres') {
      const pct = "percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms)";
      const overall = await knex('logs').modify(where).modify(sampled).select(knex.raw(`${pct} as p`)).first();
      const p = (overall?.p ?? []) as number[];
      latency = { p50: numOrNull(p[0]), p95: numOrNull(p[1]), p99: numOrNull(p[2]) };
      const perBucket = await knex('logs').modify(where).modify(sampled).select({ b: bucketExpr }).select(knex.raw(`${pct} as p`)).groupByRaw('1');
      for (const row of perBucket) {
        const s = bucketOf(num(row.b));
        s.p50 = numOrNull((row.p as number[])[0]);
        s.p95 = numOrNull((row.p as number[])[1]);
      }
      if (endpoints.length > 0) {
        const perEndpoint = await knex('logs')
          .modify(where)
          .modify(sampled)
          .whereIn('endpoint', endpoints.map((e) => e.endpoint))
          .select('endpoint')
          .select(knex.raw('percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) as p95'))
          .groupBy('endpoint');
        const p95 = new Map<string, number | null>(perEndpoint.map((r: Record<string, unknown>) => [String(r.endpoint), numOrNull(r.p95)]));
        for (const e of endpoints) e.p95 = p95.get(e.endpoint) ?? null;
      }
    } else {
      const sample = await knex('logs')
        .modify(where)
        .modify(sampled)
        .select({ b: bucketExpr, e: 'endpoint', l: 'latency_ms' });
      const all: number[] = [];
      const perBucket = new Map<number, number[]>();
      const perEndpoint = new Map<string, number[]>(endpoints.map((e) => [e.endpoint, []]));
      for (const row of sample) {
        const l = Number(row.l);
        all.push(l);
        const b = num(row.b);
        let list = perBucket.get(b);
        if (!list) perBucket.set(b, (list = []));
        list.push(l);
        perEndpoint.get(String(row.e))?.push(l);
      }
      const asc = (x: number[]) => x.sort((a, b) => a - b);
      asc(all);
      latency = { p50: percentile(all, 0.5), p95: percentile(all, 0.95), p99: percentile(all, 0.99) };
      for (const [b, list] of perBucket) {
        asc(list);
        const s = bucketOf(b);
        s.p50 = percentile(list, 0.5);
        s.p95 = percentile(list, 0.95);
      }
      for (const e of endpoints) e.p95 = percentile(asc(perEndpoint.get(e.endpoint) ?? []), 0.95);
    }
  }

  const errors = byStatusClass['4xx'] + byStatusClass['5xx'];
  return {
    total,
    byStatusClass,
    errorRate: total > 0 ? round3(errors / total) : 0,
    latency,
    bucketMs,
    series: [...series.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s),
    endpoints,
  };
}
