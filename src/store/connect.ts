import knexFactory, { type Knex } from 'knex';
import type { SqliteSynchronous, StoreOptions } from './types';
import type { ParsedDbUrl } from './url';
import { DEFAULT_SQLITE_CACHE_MB, MAX_SQLITE_CACHE_MB } from './sqlite-cache';

export { parseDbUrl, DEFAULT_DB, type Dialect, type ParsedDbUrl } from './url';

/** SQLite settings applied to every new connection. */
const SQLITE_PRAGMAS = [
  'PRAGMA journal_mode = WAL',
  // Other processes (an instrumented app and `auditspan serve`) may share the file.
  'PRAGMA busy_timeout = 5000',
  'PRAGMA foreign_keys = ON',
  'PRAGMA temp_store = MEMORY',
  // Checkpoint every 10 000 WAL pages (~40 MB) instead of SQLite's 1 000. Every commit rewrites
  // the recent leaf page of each index for each value in the batch (10 indexes); a longer WAL
  // window copies each such page back to the database once instead of several times: inserts
  // ran 1.12× as fast (docs/benchmarks.md, store inserts). The file shrinks back to 64 MB at most afterwards.
  'PRAGMA wal_autocheckpoint = 10000',
  'PRAGMA journal_size_limit = 67108864',
];

/** Knex would print driver errors itself; the store reports them as named errors instead. */
const quietLog = { warn() {}, error() {}, debug() {}, deprecate() {} };

/**
 * WAL + NORMAL (the default): never corrupt, and a commit survives a crash of the process (it is
 * in the WAL file, in the OS's cache); it is fsynced at the next checkpoint, so the newest
 * commits can be lost on a power failure or OS crash. FULL fsyncs the WAL at every commit: an
 * acknowledged batch survives that too, for a cost measured in docs/benchmarks.md.
 */
function synchronousPragma(mode: SqliteSynchronous): string {
  return `PRAGMA synchronous = ${mode === 'full' ? 'FULL' : 'NORMAL'}`;
}

export function createKnex(parsed: ParsedDbUrl, options: Omit<StoreOptions, 'url'> = {}): Knex {
  const { poolSize = 10, sqliteDriver = 'sqlite3', sqliteSynchronous = 'normal', sqliteCacheMb = DEFAULT_SQLITE_CACHE_MB } = options;
  // Checked here, where it is written into a PRAGMA: whichever way a store is made (createStore,
  // new SqlStore), nothing but a whole number of MiB reaches the SQL.
  if (!Number.isSafeInteger(sqliteCacheMb) || sqliteCacheMb < 1 || sqliteCacheMb > MAX_SQLITE_CACHE_MB) {
    throw new TypeError(`auditspan: sqliteCacheMb must be a whole number of MiB from 1 to ${MAX_SQLITE_CACHE_MB}, got ${JSON.stringify(sqliteCacheMb)}`);
  }
  const pragmas = [...SQLITE_PRAGMAS, synchronousPragma(sqliteSynchronous), `PRAGMA cache_size = ${-1024 * sqliteCacheMb}`].join(';');
  if (parsed.dialect === 'postgres') {
    return knexFactory({
      client: 'pg',
      connection: { connectionString: parsed.target, connectionTimeoutMillis: 5000, application_name: 'auditspan' } as Knex.PgConnectionConfig,
      // Idle connections close after 10 s, so an idle pool never keeps a finished process alive.
      pool: { min: 0, max: poolSize, idleTimeoutMillis: 10_000 },
      acquireConnectionTimeout: 6000,
      log: quietLog,
    });
  }
  return knexFactory({
    client: sqliteDriver,
    connection: { filename: parsed.target },
    useNullAsDefault: true,
    // One connection: SQLite has one writer anyway, and a single connection
    // means no SQLITE_BUSY between our own reads and writes. It closes after 5 s idle
    // (reopening costs about a millisecond) so that it never keeps a finished process alive.
    pool: {
      min: 0,
      max: 1,
      idleTimeoutMillis: 5_000,
      afterCreate: (conn: { exec(sql: string, cb?: (err: Error | null) => void): unknown }, done: (err: Error | null, conn: unknown) => void) => {
        if (sqliteDriver === 'sqlite3') {
          conn.exec(pragmas, (err) => done(err, conn));
          return;
        }
        try {
          conn.exec(pragmas); // better-sqlite3: synchronous
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
    acquireConnectionTimeout: 10_000,
    log: quietLog,
  });
}
