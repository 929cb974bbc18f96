import type { Knex } from 'knex';
import type { Dialect } from './connect';
import type { LogFilter } from './types';

/** Escapes LIKE wildcards so user text matches literally (ESCAPE '\'). */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Applies a LogFilter to a query on `logs` (use with `.modify()`). Bound
 * parameters only; the company scope is always applied when present.
 */
export function applyFilter(dialect: Dialect, filter: LogFilter) {
  return (qb: Knex.QueryBuilder): void => {
    if (filter.companyId !== undefined) qb.where('company_id', filter.companyId);
    if (filter.from !== undefined) qb.where('ts_us', '>=', Math.floor(filter.from * 1000));
    if (filter.to !== undefined) qb.where('ts_us', '<', Math.floor(filter.to * 1000));
    if (filter.endpoints?.length) qb.whereIn('endpoint', filter.endpoints);
    if (filter.methods?.length) qb.whereIn('method', filter.methods);
    if (filter.tokens?.length) qb.whereIn('token_name', filter.tokens);
    if (filter.services?.length) qb.whereIn('service', filter.services);
    const classes = filter.statusClasses ?? [];
    const codes = filter.statusCodes ?? [];
    if (classes.length && codes.length) {
      qb.where((w) => w.whereIn('status_class', classes).orWhereIn('status', codes));
    } else if (classes.length) {
      qb.whereIn('status_class', classes);
    } else if (codes.length) {
      qb.whereIn('status', codes);
    }
    if (filter.minLatencyMs !== undefined) qb.where('latency_ms', '>=', filter.minLatencyMs);
    if (filter.maxLatencyMs !== undefined) qb.where('latency_ms', '<=', filter.maxLatencyMs);
    if (filter.q !== undefined && filter.q !== '') {
      const pattern = likePattern(filter.q);
      if (dialect === 'postgres') {
        qb.where((w) => w.whereRaw(`url ILIKE ? ESCAPE '\\'`, [pattern]).orWhereRaw(`error ILIKE ? ESCAPE '\\'`, [pattern]));
      } else {
        // SQLite's LIKE is case-insensitive for ASCII.
        qb.where((w) => w.whereRaw(`url LIKE ? ESCAPE '\\'`, [pattern]).orWhereRaw(`error LIKE ? ESCAPE '\\'`, [pattern]));
      }
    }
  };
}
