// Parsing a database URL needs no driver: the app's thread uses it without loading knex.

export type Dialect = 'sqlite' | 'postgres';

export interface ParsedDbUrl {
  dialect: Dialect;
  /** SQLite file path or the PostgreSQL connection string. */
  target: string;
}

export const DEFAULT_DB = './auditspan.db';

export function parseDbUrl(url: string = DEFAULT_DB): ParsedDbUrl {
  const trimmed = url.trim();
  if (trimmed === '') throw new TypeError('auditspan: the database URL is empty');
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { dialect: 'postgres', target: trimmed };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new TypeError(`auditspan: unsupported database URL scheme in "${trimmed.split(':')[0]}://…" (use a SQLite file path or postgres://)`);
  }
  return { dialect: 'sqlite', target: trimmed.replace(/^sqlite:(\/\/)?/i, '') };
}
