import { bool, int, str } from './attributes';
import { keepsResponseBody, processBody } from './body';
import { collapsePath } from './endpoint';
import { messageFromBody, messageFromSpan } from './error-message';
import { capString, DEFAULT_MAX_PAYLOAD_BYTES, LIMITS, storableStatus } from './limits';
import { createRedactor, type RedactionOptions, type Redactor } from './redaction/redactor';
import type { Attributes, AuditRecord, SpanInput } from './types';

export interface RecordOptions {
  redaction?: RedactionOptions;
  /** Payload cap in bytes (UTF-8). Default 16384. */
  maxPayloadBytes?: number;
  /** Request headers kept (lowercase names). Credentials are never kept, even when listed. */
  keepRequestHeaders?: string[];
}

export type RecordMapper = (span: SpanInput) => AuditRecord | null;

export const DEFAULT_KEPT_HEADERS: readonly string[] = [
  'content-type', 'content-length', 'content-encoding', 'accept', 'accept-encoding', 'accept-language',
  'x-request-id', 'x-correlation-id', 'idempotency-key', 'user-agent', 'origin', 'referer', 'x-forwarded-for',
  'x-forwarded-proto', 'x-client-version', 'traceparent',
];

/** Attribute prefix of captured request headers (OpenTelemetry: `http.request.header.<name>`). */
const HEADER_PREFIX = 'http.request.header.';
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

function fullUrl(a: Attributes): string | null {
  const full = str(a, 'url.full');
  if (full) return full;
  const path = str(a, 'url.path');
  if (path) {
    const scheme = str(a, 'url.scheme') ?? 'http';
    const host = str(a, 'server.address');
    const port = str(a, 'server.port');
    const query = str(a, 'url.query');
    const authority = host ? `${scheme}://${host}${port && DEFAULT_PORTS[scheme] !== port ? `:${port}` : ''}` : '';
    return `${authority}${path}${query ? `?${query}` : ''}`;
  }
  const httpUrl = str(a, 'http.url');
  if (httpUrl) return httpUrl;
  const target = str(a, 'http.target');
  if (!target) return null;
  const host = str(a, 'http.host', 'net.host.name');
  const scheme = str(a, 'http.scheme') ?? 'http';
  return host ? `${scheme}://${host}${target}` : target;
}

function pathOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(url);
  if (m) return m[1] ?? '/';
  return url.split(/[?#]/)[0] || '/';
}

/**
 * Which kept header an attribute key names, or null: worked out once per distinct key (a span
 * carries two dozen attributes; string surgery on each of them, per span, showed in profiles).
 */
function headerNames(keep: ReadonlySet<string>): (key: string) => string | null {
  const known = new Map<string, string | null>();
  return (key) => {
    let name = known.get(key);
    if (name === undefined) {
      const header = key.startsWith(HEADER_PREFIX) ? key.slice(HEADER_PREFIX.length).toLowerCase().replace(/_/g, '-') : '';
      name = keep.has(header) ? header : null;
      // Bounded: attribute keys come from the spans, and a hostile sender can vary them.
      if (known.size < 10_000) known.set(key, name);
    }
    return name;
  };
}

function requestHeaders(a: Attributes, headerName: (key: string) => string | null, redactor: Redactor): Record<string, string> | null {
  let found: Record<string, string | string[]> | undefined;
  for (const key in a) {
    const name = headerName(key);
    if (name === null) continue;
    const value = a[key];
    if (typeof value === 'string') (found ??= {})[name] = value;
    else if (Array.isArray(value)) (found ??= {})[name] = value.filter((v): v is string => typeof v === 'string');
  }
  if (!found) return null;
  const redacted = redactor.headers(found);
  let any = false;
  for (const name in redacted) {
    redacted[name] = capString(redacted[name], LIMITS.header) as string;
    any = true;
  }
  return any ? redacted : null;
}

function validateOptions(options: RecordOptions): void {
  const max = options.maxPayloadBytes;
  if (max !== undefined && (!Number.isInteger(max) || max < 0)) {
    throw new TypeError(`auditspan: maxPayloadBytes must be a whole number of bytes >= 0, got ${String(max)}`);
  }
  if (options.keepRequestHeaders !== undefined && (!Array.isArray(options.keepRequestHeaders) || options.keepRequestHeaders.some((h) => typeof h !== 'string'))) {
    throw new TypeError('auditspan: keepRequestHeaders must be an array of header names');
  }
}

/**
 * Builds the span → audit record mapping once (options validated, redaction
 * compiled). Returns null for anything that is not an HTTP SERVER span.
 */
export function createRecordMapper(options: RecordOptions = {}): RecordMapper {
  validateOptions(options);
  const redactor = createRedactor(options.redaction);
  const maxPayload = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const headerName = headerNames(new Set((options.keepRequestHeaders ?? DEFAULT_KEPT_HEADERS).map((h) => h.toLowerCase())));

  return (span: SpanInput): AuditRecord | null => {
    if (span.kind !== 'server') return null;
    const a = span.attributes;
    const method = str(a, 'http.request.method', 'http.method');
    const rawStatus = int(a, 'http.response.status_code', 'http.status_code');
    if (!method || rawStatus === null) return null;
    const { status, invalid: invalidStatus } = storableStatus(rawStatus);

    const rawUrl = fullUrl(a) ?? '/';
    const route = str(a, 'http.route');
    const endpoint = route ?? collapsePath(pathOf(rawUrl));
    const contentType = str(a, `${HEADER_PREFIX}content-type`, `${HEADER_PREFIX}content_type`) ?? '';

    const request = processBody(
      a['auditspan.request.body'] ?? a['http.request.body.content'],
      contentType,
      int(a, 'auditspan.request.body.size'),
      bool(a, 'auditspan.request.body.truncated'),
      maxPayload,
      redactor,
    );
    // Failures only (status >= 400): a 1xx, 2xx or 3xx response's body is never stored.
    const response =
      keepsResponseBody(status)
        ? processBody(
            a['auditspan.response.body'] ?? a['http.response.body.content'],
            str(a, 'auditspan.response.content_type', 'http.response.header.content-type') ?? '',
            int(a, 'auditspan.response.body.size'),
            bool(a, 'auditspan.response.body.truncated'),
            maxPayload,
            redactor,
          )
        : { text: null, truncated: false };

    let error = str(a, 'auditspan.error.message');
    if (!error && invalidStatus) error = `invalid HTTP status code ${String(rawStatus).slice(0, 24)} (stored as 0)`;
    if (!error && status >= 400) error = messageFromBody(response.text) ?? messageFromSpan(span);
    else if (!error && span.status.code === 'error') error = messageFromSpan(span);

    const startNs = span.startTimeUnixNano;
    const durationNs = span.endTimeUnixNano > startNs ? span.endTimeUnixNano - startNs : 0n;
    const ua = str(a, 'user_agent.original', 'http.user_agent');
    return {
      traceId: span.traceId,
      spanId: span.spanId,
      timestampUs: Number(startNs / 1000n),
      method: (capString(method, LIMITS.method) as string).toUpperCase(),
      url: capString(redactor.url(capString(rawUrl, LIMITS.url * 2) as string), LIMITS.url) as string,
      endpoint: capString(redactor.text(capString(endpoint, LIMITS.endpoint) as string, 'url'), LIMITS.endpoint) as string,
      status,
      latencyMs: Math.round(Number(durationNs) / 1000) / 1000,
      tokenName: capString(str(a, 'auditspan.token.name'), LIMITS.id),
      clientIp: capString(str(a, 'client.address', 'http.client_ip', 'net.peer.ip', 'net.sock.peer.addr', 'network.peer.address'), LIMITS.id),
      userAgent: ua === null ? null : capString(redactor.text(capString(ua, LIMITS.userAgent) as string, 'header', 'user-agent'), LIMITS.userAgent),
      clientId: capString(str(a, 'auditspan.client.id'), LIMITS.id),
      companyId: capString(str(a, 'auditspan.company.id'), LIMITS.id),
      service: capString(str(span.resource, 'service.name'), LIMITS.id),
      requestPayload: request.text,
      responsePayload: response.text,
      requestHeaders: requestHeaders(a, headerName, redactor),
      truncated: request.truncated || response.truncated,
      error: error === null ? null : capString(redactor.text(capString(error, LIMITS.error * 2) as string, 'error'), LIMITS.error),
    };
  };
}

let defaultMapper: RecordMapper | undefined;

/** Maps one span with the given options (or the defaults, whose mapper is built once); prefer `createRecordMapper` for custom options on hot paths. */
export function toAuditRecord(span: SpanInput, options?: RecordOptions): AuditRecord | null {
  if (options) return createRecordMapper(options)(span);
  defaultMapper ??= createRecordMapper();
  return defaultMapper(span);
}
