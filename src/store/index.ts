import { parseDbUrl } from './connect';
import { SqlStore } from './sql-store';
import type { Store, StoreOptions } from './types';

export { parseDbUrl, DEFAULT_DB, type Dialect } from './connect';
export { SqlStore } from './sql-store';
export * from './errors';
export { insertIsolating, type IsolatedInsertResult, type RejectedRow } from './isolated-write';
export type * from './types';

/** Creates a store (no connection yet); call `migrate()` before use, or use `openStore`. */
export function createStore(options: StoreOptions = {}): SqlStore {
  const sync = options.sqliteSynchronous;
  if (sync !== undefined && sync !== 'normal' && sync !== 'full') throw new TypeError(`auditspan: sqliteSynchronous must be "normal" or "full", got ${JSON.stringify(sync)}`);
  return new SqlStore(parseDbUrl(options.url), options);
}

/** Creates a store and applies migrations; throws StoreUnavailableError when the database cannot be reached. */
export async function openStore(options: StoreOptions = {}): Promise<Store & SqlStore> {
  const store = createStore(options);
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
