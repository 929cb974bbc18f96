/** Pure formatters: no DOM, no globals besides Date, unit-tested in test/ui/format.test.ts. */

export type TimeZoneMode = 'utc' | 'local';
export type StatusTone = 'info' | 'success' | 'redirect' | 'client-error' | 'server-error' | 'unknown';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `4.2 ms`, `123 ms`, `1.25 s`, `2m 05s`; `—` when unknown. */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 0) return '—';
  if (ms < 10) return `${(Math.round(ms * 10) / 10).toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m ${pad(Math.round((ms - minutes * 60_000) / 1000))}s`;
}

interface Parts { y: number; mo: number; d: number; h: number; mi: number; s: number; ms: number }

function parts(date: Date, zone: TimeZoneMode): Parts {
  return zone === 'utc'
    ? { y: date.getUTCFullYear(), mo: date.getUTCMonth(), d: date.getUTCDate(), h: date.getUTCHours(), mi: date.getUTCMinutes(), s: date.getUTCSeconds(), ms: date.getUTCMilliseconds() }
    : { y: date.getFullYear(), mo: date.getMonth(), d: date.getDate(), h: date.getHours(), mi: date.getMinutes(), s: date.getSeconds(), ms: date.getMilliseconds() };
}

function toDate(value: string | number | Date): Date | null {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Dense table form: `Nov 23 04:35:12.123`. */
export function formatTimeShort(value: string | number | Date, zone: TimeZoneMode): string {
  const date = toDate(value);
  if (!date) return String(value);
  const p = parts(date, zone);
  return `${MONTHS[p.mo]} ${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}.${pad(p.ms, 3)}`;
}

/** Full form with the zone named: `2026-11-23 04:35:12.123 UTC`. */
export function formatTimeFull(value: string | number | Date, zone: TimeZoneMode): string {
  const date = toDate(value);
  if (!date) return String(value);
  const p = parts(date, zone);
  const base = `${p.y}-${pad(p.mo + 1)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}.${pad(p.ms, 3)}`;
  if (zone === 'utc') return `${base} UTC`;
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${base} UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/** Value for an `<input type="datetime-local">` holding UTC: `2026-11-23T04:35`. */
export function toDateTimeLocalUtc(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** Reads a datetime-local value as UTC; null when empty or invalid. */
export function fromDateTimeLocalUtc(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0);
  return Number.isNaN(ms) ? null : ms;
}

/** `2xx` for 204, `unknown` outside 100–599. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'unknown';
}

export function statusTone(status: number): StatusTone {
  if (status >= 100 && status < 200) return 'info';
  if (status >= 200 && status < 300) return 'success';
  if (status >= 300 && status < 400) return 'redirect';
  if (status >= 400 && status < 500) return 'client-error';
  if (status >= 500 && status < 600) return 'server-error';
  return 'unknown';
}

/** `12,345` — fixed separator so that tests and screenshots do not depend on the locale. */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  const pct = ratio * 100;
  return `${pct === 0 || pct >= 10 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

/** Pretty-prints JSON payloads; anything else comes back unchanged. */
export function prettyPayload(payload: string): { text: string; json: boolean } {
  const trimmed = payload.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { text: JSON.stringify(JSON.parse(trimmed), null, 2), json: true };
    } catch {
      // A truncated JSON payload no longer parses: show it as it was stored.
    }
  }
  return { text: payload, json: false };
}

/** Path and query of a URL (`/v1/customers?limit=20`); the input when it is not absolute. */
export function pathAndQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

/** Fills `{traceId}` / `{spanId}` in a trace viewer URL template; null without a template. */
export function traceLink(template: string | null | undefined, traceId: string, spanId: string): string | null {
  if (!template || !traceId) return null;
  return template.replaceAll('{traceId}', encodeURIComponent(traceId)).replaceAll('{spanId}', encodeURIComponent(spanId));
}

/** Headers a cURL command never carries, even if a redacted copy was stored. */
const SECRET_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-auth-token',
]);
/** Headers curl computes itself. */
const TRANSPORT_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'accept-encoding']);

/** POSIX shell single-quoting: safe for any value. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export interface CurlInput {
  method: string;
  url: string;
  requestHeaders?: Record<string, string> | null;
  requestPayload?: string | null;
}

/**
 * A cURL command reproducing the request from the stored (already redacted) data.
 * Credentials are never included: the user adds their own key.
 */
export function buildCurl(log: CurlInput): string {
  const method = (log.method || 'GET').toUpperCase();
  const lines = [`curl ${method === 'GET' && !log.requestPayload ? '' : `-X ${shellQuote(method)} `}${shellQuote(log.url)}`];
  const headers = Object.entries(log.requestHeaders ?? {})
    .filter(([name]) => !SECRET_HEADERS.has(name.toLowerCase()) && !TRANSPORT_HEADERS.has(name.toLowerCase()))
    .sort(([a], [b]) => a.localeCompare(b));
  for (const [name, value] of headers) lines.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  if (log.requestPayload) lines.push(`--data-raw ${shellQuote(log.requestPayload)}`);
  return lines.join(' \\\n  ');
}
