import type { Knex } from 'knex';
import type { Dialect } from './connect';
import { applySearch, parseSearch, type TextMode } from './search';
import type { LogFilter } from './types';

/**
 * Applies a LogFilter to a query on `logs` (use with `.modify()`). Bound
 * parameters only; the company scope is always applied when present. `q` is read by the
 * search language of search.ts (throws InvalidSearchError); `text` says how its plain words
 * are matched.
 */
export function applyFilter(dialect: Dialect, filter: LogFilter, text: TextMode = 'index') {
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
      const window = { fromUs: filter.from === undefined ? undefined : Math.floor(filter.from * 1000), toUs: filter.to === undefined ? undefined : Math.floor(filter.to * 1000) };
      applySearch(dialect, parseSearch(filter.q), text, window)(qb);
    }
  };
}
