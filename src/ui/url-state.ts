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
/** A relative range: `45m`, `6h`, `90d` (the presets are some of them). */
export type RelativeRange = RangePreset | (string & {});
const RELATIVE = /^([1-9]\d{0,3})([mhd])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
/** The longest relative range accepted: 400 days. */
export const MAX_RANGE_MS = 400 * 86_400_000;

/** Milliseconds of a relative range (`90m` → 5 400 000); null when it is not one. */
export function rangeMs(range: string | null | undefined): number | null {
  if (!range) return null;
  const m = RELATIVE.exec(range);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return ms <= MAX_RANGE_MS ? ms : null;
}

export type Page = 'logs' | 'endpoints' | 'views';

/** Filters of the views page (the audit of the audit log). */
export interface ViewsFilter {
  kind: '' | 'view' | 'export';
  key: string;
  company: string;
}

export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;

export interface FilterState {
  /** Relative window ending now (`24h`, `45m`); null when a custom `from`/`to` is set. */
  range: RelativeRange | null;
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
  maxLatencyMs: number | null;
  /** Resource `service.name` values. */
  service: string[];
  /** Show the previous period of the same length beside the figures and charts. */
  compare: boolean;
}

export interface ViewState {
  filters: FilterState;
  /** Id of the log open in the detail panel. */
  log: string | null;
  /** Which page; `logs` when absent. */
  page?: Page;
  /** Endpoints page sort: a column name, `-` first for descending (`-count`). */
  sort?: string | null;
  /** Views page filters. */
  views?: ViewsFilter;
}

export function defaultFilters(): FilterState {
  return {
    range: DEFAULT_RANGE, from: null, to: null, endpoint: [], token: [], status: [], method: [], q: '', minLatencyMs: null,
    maxLatencyMs: null, service: [], compare: false,
  };
}

export function isRangePreset(value: string | null | undefined): value is RangePreset {
  return value !== null && value !== undefined && Object.prototype.hasOwnProperty.call(RANGE_PRESETS, value);
}

/** A preset or any relative range (`45m`, `6h`, `90d`) up to 400 days. */
export function isRelativeRange(value: string | null | undefined): value is RelativeRange {
  return rangeMs(value) !== null;
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
  } else if (isRelativeRange(range)) {
    filters.range = range;
  }
  filters.endpoint = params.getAll('endpoint').filter((v) => v !== '');
  filters.token = params.getAll('token').filter((v) => v !== '');
  filters.status = normalizeStatus(params.getAll('status'));
  filters.method = splitList(params.getAll('method')).map((m) => m.toUpperCase()).filter((m) => /^[A-Z]+$/.test(m));
  filters.q = params.get('q') ?? '';
  filters.minLatencyMs = parseNonNegative(params.get('minLatencyMs'));
  filters.maxLatencyMs = parseNonNegative(params.get('maxLatencyMs'));
  filters.service = params.getAll('service').filter((v) => v !== '');
  filters.compare = params.get('compare') === 'previous';

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
  const page: Page = PAGE_PATHS[pathname.replace(/\/+$/, '')] ?? 'logs';
  const kind = params.get('kind');
  return {
    filters, log: page === 'logs' ? log : null, page,
    sort: page === 'endpoints' ? params.get('sort') || null : null,
    views: { kind: kind === 'view' || kind === 'export' ? kind : '', key: params.get('key') ?? '', company: params.get('company') ?? '' },
  };
}

const PAGE_PATHS: Record<string, Page> = { '/endpoints': 'endpoints', '/views': 'views' };

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
  if (filters.maxLatencyMs !== null) params.set('maxLatencyMs', String(filters.maxLatencyMs));
  for (const v of filters.service) params.append('service', v);
  if (filters.compare) params.set('compare', 'previous');
  return params;
}

/** The URL of a view: `/logs/<id>?…` when a log is open, `/endpoints?…`, `/views?…`, `/?…` otherwise. */
export function toLocation(view: ViewState): string {
  const page = view.page ?? 'logs';
  const params = filterParams(view.filters);
  if (page === 'endpoints' && view.sort) params.set('sort', view.sort);
  if (page === 'views') {
    // The views page has its own filters besides the time range.
    for (const key of [...params.keys()]) if (!['range', 'from', 'to'].includes(key)) params.delete(key);
    if (view.views?.kind) params.set('kind', view.views.kind);
    if (view.views?.key) params.set('key', view.views.key);
    if (view.views?.company) params.set('company', view.views.company);
  }
  // `:`, `,` and `/` are legal in a query string: leave them readable in the address bar.
  const query = params.toString().replace(/%(2C|3A|2F)/g, (m) => decodeURIComponent(m));
  const path = page === 'endpoints' ? '/endpoints' : page === 'views' ? '/views' : view.log ? `/logs/${encodeURIComponent(view.log)}` : '/';
  return query ? `${path}?${query}` : path;
}

/** Absolute bounds for a request made at `now`. */
export function timeBounds(filters: FilterState, now: number): { from: number | null; to: number | null } {
  if (filters.from !== null || filters.to !== null) return { from: filters.from, to: filters.to };
  return { from: now - (rangeMs(filters.range) ?? RANGE_PRESETS[DEFAULT_RANGE]), to: null };
}

/** The window just before the current one, of the same length (for comparisons). */
export function previousBounds(filters: FilterState, now: number): { from: number; to: number } | null {
  const { from, to } = timeBounds(filters, now);
  if (from === null) return null;
  const end = to ?? now;
  return { from: from - (end - from), to: from };
}

/** Query parameters for `/api/logs`, `/api/stats` and `/api/export`: relative ranges become `from`. */
export function apiParams(filters: FilterState, now: number): URLSearchParams {
  const params = filterParams({ ...filters, range: null, from: null, to: null, compare: false });
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
    filters.method.length > 0 || filters.q.trim() !== '' || filters.minLatencyMs !== null ||
    filters.maxLatencyMs !== null || filters.service.length > 0;
}
