/**
 * The whole view lives in the URL, with the query API's parameter names, so that every
 * view is a link: `/?status=5xx&token=prod-billing`, `/logs/<id>?range=1h`. Pure: no DOM.
 */

export const RANGE_PRESETS = {
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '24h': 24 * 60 * 60_000,
  '7d': 7 * 24 * 60 * 60_000,
  '30d': 30 * 24 * 60 * 60_000,
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;
export const DEFAULT_RANGE: RangePreset = '24h';

export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;

export interface FilterState {
  /** Relative window ending now; null when a custom `from`/`to` is set. */
  range: RangePreset | null;
  /** Custom bounds, epoch ms (`to` exclusive). */
  from: number | null;
  to: number | null;
  endpoint: string[];
  token: string[];
  /** `2xx`…`5xx` classes or exact codes such as `404`. */
  status: string[];
  method: string[];
  q: string;
  minLatencyMs: number | null;
}

export interface ViewState {
  filters: FilterState;
  /** Id of the log open in the detail panel. */
  log: string | null;
}

export function defaultFilters(): FilterState {
  return { range: DEFAULT_RANGE, from: null, to: null, endpoint: [], token: [], status: [], method: [], q: '', minLatencyMs: null };
}

export function isRangePreset(value: string | null | undefined): value is RangePreset {
  return value !== null && value !== undefined && Object.prototype.hasOwnProperty.call(RANGE_PRESETS, value);
}

/** ISO 8601 or epoch milliseconds, as the API accepts; null when neither. */
export function parseTime(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d{1,16}$/.test(v)) return Number(v);
  // Only full ISO dates: Date.parse would also accept "1" or "March".
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

/** `2026-11-23T04:00:00Z`, with milliseconds only when there are some. */
export function formatTimeParam(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

function splitList(values: string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const item = part.trim();
      if (item && !out.includes(item)) out.push(item);
    }
  }
  return out;
}

/** Keeps `2xx`…`5xx` (any case) and three-digit codes 100–599; drops the rest. */
export function normalizeStatus(values: string[]): string[] {
  const out: string[] = [];
  for (const raw of splitList(values)) {
    const v = raw.toLowerCase();
    const ok = /^[1-5]xx$/.test(v) || (/^\d{3}$/.test(v) && +v >= 100 && +v <= 599);
    if (ok && !out.includes(v)) out.push(v);
  }
  return out;
}

function parseNonNegative(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

const LOG_PATH = /^\/logs\/([^/]+)\/?$/;

/** Reads a location (`pathname`, `search`) into a view; invalid values fall back to defaults. */
export function parseLocation(pathname: string, search: string): ViewState {
  const params = new URLSearchParams(search);
  const filters = defaultFilters();
  const from = parseTime(params.get('from'));
  const to = parseTime(params.get('to'));
  const range = params.get('range');
  if (from !== null || to !== null) {
    filters.range = null;
    filters.from = from;
    filters.to = to;
  } else if (isRangePreset(range)) {
    filters.range = range;
  }
  filters.endpoint = params.getAll('endpoint').filter((v) => v !== '');
  filters.token = params.getAll('token').filter((v) => v !== '');
  filters.status = normalizeStatus(params.getAll('status'));
  filters.method = splitList(params.getAll('method')).map((m) => m.toUpperCase()).filter((m) => /^[A-Z]+$/.test(m));
  filters.q = params.get('q') ?? '';
  filters.minLatencyMs = parseNonNegative(params.get('minLatencyMs'));

  let log: string | null = null;
  const match = LOG_PATH.exec(pathname);
  if (match) {
    try {
      log = decodeURIComponent(match[1]);
    } catch {
      log = null;
    }
  }
  log ??= params.get('log') || null;
  return { filters, log };
}

/** The filters as URL parameters; defaults are left out so that `/` is the default view. */
export function filterParams(filters: FilterState): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.from !== null || filters.to !== null) {
    if (filters.from !== null) params.set('from', formatTimeParam(filters.from));
    if (filters.to !== null) params.set('to', formatTimeParam(filters.to));
  } else if (filters.range && filters.range !== DEFAULT_RANGE) {
    params.set('range', filters.range);
  }
  for (const e of filters.endpoint) params.append('endpoint', e);
  for (const t of filters.token) params.append('token', t);
  if (filters.status.length) params.set('status', filters.status.join(','));
  if (filters.method.length) params.set('method', filters.method.join(','));
  if (filters.q.trim()) params.set('q', filters.q.trim());
  if (filters.minLatencyMs !== null) params.set('minLatencyMs', String(filters.minLatencyMs));
  return params;
}

/** The URL of a view: `/logs/<id>?…` when a log is open, `/?…` otherwise. */
export function toLocation(view: ViewState): string {
  // `:`, `,` and `/` are legal in a query string: leave them readable in the address bar.
  const query = filterParams(view.filters).toString().replace(/%(2C|3A|2F)/g, (m) => decodeURIComponent(m));
  const path = view.log ? `/logs/${encodeURIComponent(view.log)}` : '/';
  return query ? `${path}?${query}` : path;
}

/** Absolute bounds for a request made at `now`. */
export function timeBounds(filters: FilterState, now: number): { from: number | null; to: number | null } {
  if (filters.from !== null || filters.to !== null) return { from: filters.from, to: filters.to };
  return { from: now - RANGE_PRESETS[filters.range ?? DEFAULT_RANGE], to: null };
}

/** Query parameters for `/api/logs`, `/api/stats` and `/api/export`: relative ranges become `from`. */
export function apiParams(filters: FilterState, now: number): URLSearchParams {
  const params = filterParams({ ...filters, range: null, from: null, to: null });
  const { from, to } = timeBounds(filters, now);
  const out = new URLSearchParams();
  if (from !== null) out.set('from', String(from));
  if (to !== null) out.set('to', String(to));
  for (const [k, v] of params) out.append(k, v);
  return out;
}

export function filtersEqual(a: FilterState, b: FilterState): boolean {
  return filterParams(a).toString() === filterParams(b).toString();
}

/** True when any filter other than time is set: the empty state then suggests clearing them. */
export function hasNarrowingFilters(filters: FilterState): boolean {
  return filters.endpoint.length > 0 || filters.token.length > 0 || filters.status.length > 0 ||
    filters.method.length > 0 || filters.q.trim() !== '' || filters.minLatencyMs !== null;
}
