/** Pure formatters: no DOM, no globals besides Date and Intl. */

/** `utc`, `local` (the browser's zone) or an IANA zone name (`Europe/Paris`). */
export type TimeZoneMode = 'utc' | 'local' | (string & {});
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

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** True when the runtime knows `zone` as an IANA time zone. */
export function isValidZone(zone: string): boolean {
  if (zone === 'utc' || zone === 'local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function zoneParts(date: Date, zone: string): Parts {
  let fmt = zoneFormats.get(zone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    zoneFormats.set(zone, fmt);
  }
  const get: Record<string, number> = {};
  for (const part of fmt.formatToParts(date)) if (part.type !== 'literal') get[part.type] = Number(part.value);
  return { y: get.year, mo: get.month - 1, d: get.day, h: get.hour % 24, mi: get.minute, s: get.second, ms: date.getUTCMilliseconds() };
}

function parts(date: Date, zone: TimeZoneMode): Parts {
  if (zone === 'utc') {
    return { y: date.getUTCFullYear(), mo: date.getUTCMonth(), d: date.getUTCDate(), h: date.getUTCHours(), mi: date.getUTCMinutes(), s: date.getUTCSeconds(), ms: date.getUTCMilliseconds() };
  }
  if (zone === 'local') {
    return { y: date.getFullYear(), mo: date.getMonth(), d: date.getDate(), h: date.getHours(), mi: date.getMinutes(), s: date.getSeconds(), ms: date.getMilliseconds() };
  }
  return zoneParts(date, zone);
}

/** Minutes east of UTC of `zone` at `date`. */
export function zoneOffsetMinutes(date: Date, zone: TimeZoneMode): number {
  if (zone === 'utc') return 0;
  if (zone === 'local') return -date.getTimezoneOffset();
  const p = zoneParts(date, zone);
  return Math.round((Date.UTC(p.y, p.mo, p.d, p.h, p.mi, p.s) - (date.getTime() - date.getUTCMilliseconds())) / 60_000);
}

/** Short name of a zone mode for labels: `UTC`, `Europe/Paris`. */
export function zoneLabel(zone: TimeZoneMode): string {
  if (zone === 'utc') return 'UTC';
  if (zone === 'local') return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local';
  return zone;
}

/** Chart axis tick: `14:05` within a day, `Nov 23` at midnight or for day-wide steps (24-hour, in `zone`). */
export function formatTick(ms: number, stepMs: number, zone: TimeZoneMode): string {
  const p = parts(new Date(ms), zone);
  if (stepMs >= 86_400_000 || (p.h === 0 && p.mi === 0)) return `${MONTHS[p.mo]} ${pad(p.d)}`;
  return `${pad(p.h)}:${pad(p.mi)}`;
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
  const offset = zoneOffsetMinutes(date, zone);
  const sign = offset >= 0 ? '+' : '-';
  return `${base} UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/** Value for an `<input type="datetime-local">`: the wall-clock time in `zone`, `2026-11-23T04:35`. */
export function toDateTimeLocal(ms: number, zone: TimeZoneMode): string {
  const p = parts(new Date(ms), zone);
  return `${p.y}-${pad(p.mo + 1)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}`;
}

/**
 * Reads a datetime-local value as a wall-clock time in `zone`; null when empty or invalid. A
 * time skipped by a daylight-saving change reads as the same clock time before the change
 * (one hour later in UTC terms); a repeated one as its first occurrence.
 */
export function fromDateTimeLocal(value: string, zone: TimeZoneMode): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0);
  const check = new Date(wall);
  if (Number.isNaN(wall) || check.getUTCMonth() !== +m[2] - 1 || check.getUTCDate() !== +m[3] || +m[4] > 23 || +m[5] > 59) return null;
  if (zone === 'utc') return wall;
  // The zone's offsets a day before and after (zones change offset at most once in between):
  // an offset is right when the instant it gives has that offset.
  const before = zoneOffsetMinutes(new Date(wall - 86_400_000), zone);
  const after = zoneOffsetMinutes(new Date(wall + 86_400_000), zone);
  const instants = [...new Set([before, after])]
    .map((offset) => ({ offset, t: wall - offset * 60_000 }))
    .filter(({ offset, t }) => zoneOffsetMinutes(new Date(t), zone) === offset)
    .map(({ t }) => t);
  return instants.length > 0 ? Math.min(...instants) : wall - before * 60_000;
}

/** IANA reason phrases of the status codes an API answers with. */
const REASONS: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content', 205: 'Reset Content',
  206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 305: 'Use Proxy',
  307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone',
  411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable', 417: 'Expectation Failed', 418: "I'm a teapot", 421: 'Misdirected Request', 422: 'Unprocessable Content',
  423: 'Locked', 424: 'Failed Dependency', 425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates', 507: 'Insufficient Storage', 508: 'Loop Detected',
  510: 'Not Extended', 511: 'Network Authentication Required',
};

/** `Unauthorized` for 401; empty for a code without a registered phrase. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

/** `401 Unauthorized`; the bare code when it has no phrase. */
export function statusText(status: number): string {
  const reason = reasonPhrase(status);
  return reason ? `${status} ${reason}` : String(status);
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
/** Headers curl computes itself, and trace context that would join the replay to the original trace. */
const TRANSPORT_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'accept-encoding', 'traceparent', 'tracestate']);
/** Headers whose stored presence means the caller authenticated with a credential we did not keep. */
const AUTH_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-auth-token']);

/** POSIX shell single-quoting: safe for any value. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export interface CurlInput {
  method: string;
  url: string;
  requestHeaders?: Record<string, string> | null;
  requestPayload?: string | null;
  /** Set when the request was made with a named API token (its header was dropped before storage). */
  tokenName?: string | null;
}

/**
 * A cURL command reproducing the request from the stored (already redacted) data.
 * Credentials are never included: where the request carried an authorization header, the
 * command sends `Authorization: Bearer $API_KEY` (double-quoted, so the shell fills it in).
 */
export function buildCurl(log: CurlInput): string {
  const method = (log.method || 'GET').toUpperCase();
  const lines = [`curl ${method === 'GET' && !log.requestPayload ? '' : `-X ${shellQuote(method)} `}${shellQuote(log.url)}`];
  const stored = Object.keys(log.requestHeaders ?? {}).map((n) => n.toLowerCase());
  if (log.tokenName || stored.some((n) => AUTH_HEADERS.has(n))) lines.push('-H "Authorization: Bearer $API_KEY"');
  const headers = Object.entries(log.requestHeaders ?? {})
    .filter(([name]) => !SECRET_HEADERS.has(name.toLowerCase()) && !TRANSPORT_HEADERS.has(name.toLowerCase()))
    .sort(([a], [b]) => a.localeCompare(b));
  for (const [name, value] of headers) lines.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  if (log.requestPayload) lines.push(`--data-raw ${shellQuote(log.requestPayload)}`);
  return lines.join(' \\\n  ');
}
