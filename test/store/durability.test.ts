import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { createStore, openStore, parseDbUrl, SqlStore } from '../../src/store';
import { forEachStore } from '../helpers/stores';

forEachStore('durability', ({ store, dialect }) => {
  it('states what a commit survives: SQLite synchronous=NORMAL by default, PostgreSQL its synchronous_commit', async () => {
    expect(await store().durability()).to.match(dialect === 'postgres' ? /^postgres synchronous_commit=(on|off|local|remote_write|remote_apply)$/ : /^sqlite synchronous=normal$/);
  });
});

describe('durability: the strict SQLite setting', () => {
  for (const driver of ['sqlite3', 'better-sqlite3'] as const) {
    it(`fsyncs every commit with sqliteSynchronous "full" (${driver})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'auditspan-sync-'));
      const store = await openStore({ url: join(dir, 'a.db'), sqliteDriver: driver, sqliteSynchronous: 'full' });
      try {
        expect(await store.durability()).to.equal('sqlite synchronous=full');
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('is a setting with a flag, and refuses anything but normal or full', () => {
    expect(loadConfig({}).sqliteSynchronous).to.equal('normal');
    expect(loadConfig({ AUDITSPAN_SQLITE_SYNCHRONOUS: 'FULL' }).sqliteSynchronous).to.equal('full');
    expect(loadConfig({}, { sqliteSynchronous: 'full' }).sqliteSynchronous).to.equal('full');
    expect(() => loadConfig({ AUDITSPAN_SQLITE_SYNCHRONOUS: 'extra' })).to.throw(ConfigError, /AUDITSPAN_SQLITE_SYNCHRONOUS: "extra" is not one of normal, full/);
    expect(() => createStore({ url: ':memory:', sqliteSynchronous: 'off' as never })).to.throw(TypeError, /sqliteSynchronous/);
  });
});

describe('the SQLite page cache setting', () => {
  const cacheOf = async (store: { raw: { raw(sql: string): Promise<unknown> } }): Promise<number> =>
    ((await store.raw.raw('PRAGMA cache_size')) as Array<{ cache_size: number }>)[0].cache_size;

  for (const driver of ['sqlite3', 'better-sqlite3'] as const) {
    it(`gives every connection 32 MiB by default and sqliteCacheMb MiB when set (${driver})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'auditspan-cache-'));
      try {
        const plain = await openStore({ url: join(dir, 'a.db'), sqliteDriver: driver });
        expect(await cacheOf(plain)).to.equal(-32 * 1024);
        await plain.close();
        const large = await openStore({ url: join(dir, 'a.db'), sqliteDriver: driver, sqliteCacheMb: 1024 });
        expect(await cacheOf(large)).to.equal(-1024 * 1024);
        await large.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('is a serve setting with a flag, and refuses anything but a positive whole number of MiB', () => {
    expect(loadConfig({}).sqliteCacheMb).to.equal(32);
    expect(loadConfig({ AUDITSPAN_SQLITE_CACHE_MB: '2048' }).sqliteCacheMb).to.equal(2048);
    expect(loadConfig({}, { sqliteCacheMb: '512' }).sqliteCacheMb).to.equal(512);
    for (const bad of ['0', '-5', '1.5', 'lots', '1e3']) {
      expect(() => loadConfig({ AUDITSPAN_SQLITE_CACHE_MB: bad })).to.throw(ConfigError, /AUDITSPAN_SQLITE_CACHE_MB: ".*" is not a positive whole number/);
    }
    expect(loadConfig({ AUDITSPAN_SQLITE_CACHE_MB: '1048576' }).sqliteCacheMb).to.equal(1_048_576);
    expect(() => loadConfig({}, { sqliteCacheMb: '1048577' })).to.throw(ConfigError, /--sqlite-cache-mb: "1048577" is more than 1048576/);
    for (const bad of [0, -1, 1.5, Number.NaN, '64' as never, 1_048_577, 2 ** 53]) {
      expect(() => createStore({ url: ':memory:', sqliteCacheMb: bad })).to.throw(TypeError, /sqliteCacheMb must be a whole number of MiB from 1 to 1048576/);
    }
    expect(() => createStore({ url: ':memory:', sqliteCacheMb: 1_048_576 })).not.to.throw();
  });

  it('refuses a bad value however the store is made, and leaves the file free for the other driver', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditspan-cache-'));
    const file = join(dir, 'a.db');
    try {
      // Written into a PRAGMA: text must never reach the SQL.
      expect(() => new SqlStore(parseDbUrl(file), { sqliteCacheMb: '1; DROP TABLE logs' as never })).to.throw(TypeError, /sqliteCacheMb must be a whole number/);
      const other = await openStore({ url: file, sqliteDriver: 'better-sqlite3' });
      await other.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
