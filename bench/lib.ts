/** Small helpers shared by the benchmarks: statistics, formatting, temp stores. */
import type { SqlStore, SqliteDriver } from '../src/store';
import { prng } from '../test/helpers/fixtures';
import { createTestStore } from '../test/helpers/stores';

export { PG_URL, pgReachable } from '../test/helpers/stores';

/** BENCH_SQLITE_CACHE_MB: the `sqliteCacheMb` of the SQLite stores that ingest and retention write into (unset: the default). */
export const SQLITE_CACHE_MB = process.env.BENCH_SQLITE_CACHE_MB ? Number(process.env.BENCH_SQLITE_CACHE_MB) : undefined;

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * A 95 % confidence interval of the median of `values`, by the percentile bootstrap (2 000
 * resamples, a fixed seed so that a run's report is reproducible from its data): the range the
 * median of another run on the same machine would likely fall in, unlike the spread of the
 * values themselves.
 */
export function medianInterval(values: number[], resamples = 2000): [number, number] {
  const random = prng(0x9e3779b9);
  const medians: number[] = [];
  for (let i = 0; i < resamples; i++) medians.push(median(values.map(() => values[Math.floor(random() * values.length)])));
  return [percentile(medians, 2.5), percentile(medians, 97.5)];
}

export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const ratio = (n: number, base: number): string => `${(n / base).toFixed(2)}×`;

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface BenchStore {
  store: SqlStore;
  url: string;
  dispose(): Promise<void>;
}

/** A fresh store: a temp SQLite file, or a new PostgreSQL database dropped afterwards. */
export async function freshStore(dialect: 'sqlite' | 'postgres', sqliteDriver?: SqliteDriver): Promise<BenchStore> {
  const t = await createTestStore(dialect, sqliteDriver);
  return { store: t.store, url: t.url, dispose: t.cleanup };
}

/** The B-tree indexes of SQLite's `logs` that serve filters, the latency-bin one included (not the unique key). */
export const SQLITE_FILTER_INDEXES = [
  'logs_ts', 'logs_company_ts', 'logs_class_ts', 'logs_status_ts', 'logs_method_ts', 'logs_company_endpoint_ts', 'logs_company_class_ts',
  'logs_endpoint_ts', 'logs_token_ts', 'logs_client_ip_ts', 'logs_client_id_ts', 'logs_latency_bin_ts',
];

export function dialects(pg: boolean): Array<'sqlite' | 'postgres'> {
  return pg ? ['sqlite', 'postgres'] : ['sqlite'];
}
