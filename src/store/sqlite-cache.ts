/**
 * The SQLite page cache of a connection (StoreOptions.sqliteCacheMb, AUDITSPAN_SQLITE_CACHE_MB),
 * in MiB. Kept apart from connect.ts so that the configuration can name these without loading knex.
 */
export const DEFAULT_SQLITE_CACHE_MB = 32;
/** The largest accepted: 1 TiB (SQLite reads cache_size as a 32-bit count of KiB). */
export const MAX_SQLITE_CACHE_MB = 1_048_576;
