import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { openStore, type SqlStore, type SqliteDriver } from '../../src/store';

/** The PostgreSQL server the tests use: AUDITSPAN_TEST_PG, else the machine's default. */
export const PG_URL = process.env.AUDITSPAN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
/** In CI (`.ci/run`) a missing database or browser is a failure, not a skip. */
export const REQUIRE_ALL = process.env.AUDITSPAN_TEST_REQUIRE_ALL === '1';

let pgAvailable: Promise<boolean> | undefined;
export function pgReachable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const client = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return pgAvailable;
}

export interface TestStore {
  store: SqlStore;
  url: string;
  cleanup(): Promise<void>;
}

/** A fresh, isolated store: a temp SQLite file, or a new PostgreSQL database created for it. */
export async function createTestStore(dialect: 'sqlite' | 'postgres', sqliteDriver?: SqliteDriver): Promise<TestStore> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'auditspan-test-'));
    const url = join(dir, 'audit.db');
    const store = await openStore({ url, sqliteDriver });
    return {
      store, url,
      async cleanup() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `auditspan_t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const store = await openStore({ url, poolSize: 4 });
  return {
    store, url,
    async cleanup() {
      await store.close();
      const c = new Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface StoreContext {
  store: () => SqlStore;
  url: () => string;
  dialect: 'sqlite' | 'postgres';
}

/**
 * Runs a suite once per database: SQLite with each driver (sqlite3 serves queries,
 * better-sqlite3 the pipeline worker's writes), PostgreSQL when it answers (always in CI).
 * Each run gets its own fresh store.
 */
export function forEachStore(title: string, suite: (ctx: StoreContext) => void): void {
  const runs = [['sqlite'], ['sqlite', 'better-sqlite3'], ['postgres']] as Array<['sqlite' | 'postgres', SqliteDriver?]>;
  for (const [dialect, driver] of runs) {
    describe(`${title} [${driver ? `${dialect}, ${driver}` : dialect}]`, function () {
      let current: TestStore | undefined;
      before(async function () {
        if (dialect === 'postgres' && !(await pgReachable())) {
          if (REQUIRE_ALL) throw new Error(`PostgreSQL at ${PG_URL} is not reachable`);
          console.warn(`    (skipped: PostgreSQL at ${PG_URL} is not reachable; set AUDITSPAN_TEST_PG)`);
          this.skip();
        }
        current = await createTestStore(dialect, driver);
      });
      after(async () => {
        await current?.cleanup();
      });
      suite({
        dialect,
        store: () => {
          if (!current) throw new Error('store not ready');
          return current.store;
        },
        url: () => current?.url ?? '',
      });
    });
  }
}
