/** Small helpers shared by the benchmarks: statistics, formatting, temp stores. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { openStore, type SqlStore } from '../src/store';

export const PG_URL = process.env.AUDITSPAN_BENCH_PG ?? process.env.AUDITSPAN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const ratio = (n: number, base: number): string => `${(n / base).toFixed(2)}×`;

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export async function pgReachable(): Promise<boolean> {
  const client = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface BenchStore {
  store: SqlStore;
  url: string;
  dispose(): Promise<void>;
}

/** A fresh store: a temp SQLite file, or a new PostgreSQL database dropped afterwards. */
export async function freshStore(dialect: 'sqlite' | 'postgres'): Promise<BenchStore> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'auditspan-bench-'));
    const url = join(dir, 'audit.db');
    const store = await openStore({ url });
    return { store, url, dispose: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const name = `auditspan_bench_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const store = await openStore({ url });
  return {
    store, url,
    dispose: async () => {
      await store.close();
      const c = new Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function dialects(pg: boolean): Array<'sqlite' | 'postgres'> {
  return pg ? ['sqlite', 'postgres'] : ['sqlite'];
}
