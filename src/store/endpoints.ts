/**
 * Per-endpoint figures for one window (`GET /api/endpoints`): requests, error rate, latency
 * percentiles, last seen and an optional volume sparkline, per (route template, method).
 * Read from the rollups whenever the filter allows (rollup-reads.ts: a bounded number of rows
 * whatever the row count); with text or latency bounds, from the matching rows: one grouped
 * pass gives the counts, errors, newest time and sparkline slices, a second pass (sampled, as
 * in stats.ts) the percentiles.
 */
import type { Knex } from 'knex';
import type { Dialect } from './connect';
import { applyFilter } from './filter';
import { rollupEndpointSummary, rollupsServe } from './rollup-reads';
import { percentile, PERCENTILE_SAMPLE } from './stats';
import type { EndpointFigures, EndpointSummaryOptions, LogFilter } from './types';

/** More endpoints than this are cut (busiest kept): route templates keep the set small. */
export const MAX_ENDPOINTS = 1000;
const MAX_SPARK_BUCKETS = 120;

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : round3(Number(v)));
const keyOf = (endpoint: unknown, method: unknown): string => `${String(method)} ${String(endpoint)}`;

export async function endpointSummary(
  knex: Knex, dialect: Dialect, filter: LogFilter, options: EndpointSummaryOptions = {},
): Promise<EndpointFigures[]> {
  const sparkBuckets = Math.min(MAX_SPARK_BUCKETS, Math.max(0, Math.floor(options.sparkBuckets ?? 0)));
  if (rollupsServe(filter)) return rollupEndpointSummary(knex, dialect, filter, { sparkBuckets }, MAX_ENDPOINTS);
  return rowEndpointSummary(knex, dialect, filter, sparkBuckets);
}

async function rowEndpointSummary(knex: Knex, dialect: Dialect, filter: LogFilter, buckets: number): Promise<EndpointFigures[]> {
  const where = applyFilter(dialect, filter);
  const fromUs = filter.from !== undefined ? Math.floor(filter.from * 1000) : undefined;
  const toUs = filter.to !== undefined ? Math.floor(filter.to * 1000) : Date.now() * 1000;
  const sliceUs = buckets > 0 && fromUs !== undefined && toUs > fromUs ? Math.ceil((toUs - fromUs) / buckets) : 0;
  // Slice index relative to the window start; integer division on both databases.
  const sliceExpr = sliceUs > 0
    ? dialect === 'sqlite'
      ? knex.raw('CAST((ts_us - ?) / ? AS INTEGER)', [fromUs ?? 0, sliceUs])
      : knex.raw('((ts_us - ?::bigint) / ?::bigint)', [fromUs ?? 0, sliceUs])
    : knex.raw('0');

  const groups = (await knex('logs')
    .modify(where)
    .select({ e: 'endpoint', m: 'method', b: sliceExpr })
    .count('* as n')
    .select(knex.raw('SUM(CASE WHEN status_class >= 4 THEN 1 ELSE 0 END) as errors'))
    .max('ts_us as last')
    .groupByRaw('1, 2, 3')) as Array<Record<string, unknown>>;

  interface Acc { endpoint: string; method: string; count: number; errors: number; last: number; spark: number[] | undefined }
  const byKey = new Map<string, Acc>();
  for (const g of groups) {
    const key = keyOf(g.e, g.m);
    let acc = byKey.get(key);
    if (!acc) {
      acc = { endpoint: String(g.e), method: String(g.m), count: 0, errors: 0, last: 0, spark: sliceUs > 0 ? new Array<number>(buckets).fill(0) : undefined };
      byKey.set(key, acc);
    }
    const n = Number(g.n ?? 0);
    acc.count += n;
    acc.errors += Number(g.errors ?? 0);
    acc.last = Math.max(acc.last, Number(g.last ?? 0));
    if (acc.spark) {
      const b = Math.min(buckets - 1, Math.max(0, Number(g.b ?? 0)));
      acc.spark[b] += n;
    }
  }
  const rows = [...byKey.values()]
    .sort((a, b) => b.count - a.count || (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : a.method < b.method ? -1 : 1))
    .slice(0, MAX_ENDPOINTS);
  if (rows.length === 0) return [];

  const total = rows.reduce((s, r) => s + r.count, 0);
  const stride = Math.ceil(total / PERCENTILE_SAMPLE);
  const sampled = (qb: Knex.QueryBuilder): void => {
    if (stride > 1) qb.whereRaw('(id % ?) = 0', [stride]);
  };
  const pct = new Map<string, [number | null, number | null, number | null]>();
  if (dialect === 'postgres') {
    const perEndpoint = (await knex('logs')
      .modify(where)
      .modify(sampled)
      .select({ e: 'endpoint', m: 'method' })
      .select(knex.raw('percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms) as p'))
      .groupBy('endpoint', 'method')) as Array<Record<string, unknown>>;
    for (const r of perEndpoint) {
      const p = (r.p ?? []) as number[];
      pct.set(keyOf(r.e, r.m), [numOrNull(p[0]), numOrNull(p[1]), numOrNull(p[2])]);
    }
  } else {
    const lists = new Map<string, number[]>();
    const sample = (await knex('logs').modify(where).modify(sampled).select({ e: 'endpoint', m: 'method', l: 'latency_ms' })) as Array<Record<string, unknown>>;
    for (const r of sample) {
      const key = keyOf(r.e, r.m);
      let list = lists.get(key);
      if (!list) lists.set(key, (list = []));
      list.push(Number(r.l));
    }
    for (const [key, list] of lists) {
      list.sort((a, b) => a - b);
      pct.set(key, [percentile(list, 0.5), percentile(list, 0.95), percentile(list, 0.99)]);
    }
  }

  return rows.map((r) => {
    // A rarely used endpoint can miss the sample entirely: its percentiles are then unknown.
    const [p50, p95, p99] = pct.get(keyOf(r.endpoint, r.method)) ?? [null, null, null];
    const out: EndpointFigures = {
      endpoint: r.endpoint, method: r.method, count: r.count,
      errorRate: r.count > 0 ? round3(r.errors / r.count) : 0,
      p50, p95, p99,
      lastSeen: new Date(Math.floor(r.last / 1000)).toISOString(),
    };
    if (r.spark) out.sparkline = r.spark;
    return out;
  });
}
