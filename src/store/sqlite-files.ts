import { resolve } from 'node:path';
import type { SqliteDriver } from './types';

/**
 * sqlite3 and better-sqlite3 each bundle their own copy of SQLite. Two copies in one process
 * must never open the same file: closing it in one drops the POSIX locks the other holds, and
 * the file can be corrupted (sqlite.org/howtocorrupt.html §2.3). Every SQLite file this
 * process opens is claimed here with its driver; a claim with the other driver is refused.
 * Process-wide (globalThis), so that copies of this module loaded twice still share it.
 */
const CLAIMS = Symbol.for('auditspan.sqliteFileClaims');
type Claims = Map<string, { driver: SqliteDriver; count: number }>;

function claims(): Claims {
  const g = globalThis as { [CLAIMS]?: Claims };
  g[CLAIMS] ??= new Map();
  return g[CLAIMS];
}

/** Claims `file` for `driver`; returns the release function. Throws when the other driver holds it. */
export function claimSqliteFile(file: string, driver: SqliteDriver): () => void {
  if (file === ':memory:' || file === '') return () => {};
  const key = resolve(file);
  const held = claims().get(key);
  if (held && held.driver !== driver) {
    throw new TypeError(
      `auditspan: ${file} is open in this process with ${held.driver} (auditspan's pipeline worker writes with better-sqlite3); ` +
        `opening it with ${driver} as well could corrupt it. Pass { sqliteDriver: '${held.driver}' }, or read it from another process (auditspan serve).`,
    );
  }
  const claim = held ?? { driver, count: 0 };
  claim.count += 1;
  claims().set(key, claim);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    claim.count -= 1;
    if (claim.count === 0) claims().delete(key);
  };
}
