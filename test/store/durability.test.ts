import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { createStore, openStore } from '../../src/store';
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
