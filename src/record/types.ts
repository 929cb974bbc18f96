/**
 * The neutral span shape every entry point converts to before mapping.
 *
 * Both the in-process exporter (OpenTelemetry JS `ReadableSpan`) and the OTLP
 * receiver (decoded protobuf / JSON) produce a `SpanInput`, so one mapping
 * function gives a span the same audit row whichever way it arrived.
 */
export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export type StatusCodeName = 'unset' | 'ok' | 'error';

/** Attribute values as OpenTelemetry carries them (arrays and kvlists from OTLP included). */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | Uint8Array
  | AttributeValue[]
  | { [key: string]: AttributeValue };

export type Attributes = Record<string, AttributeValue>;

export interface SpanEventInput {
  name: string;
  timeUnixNano?: bigint;
  attributes: Attributes;
}

export interface SpanInput {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  /** Resource attributes (`service.name`, ...). */
  resource: Attributes;
  status: { code: StatusCodeName; message?: string };
  events: SpanEventInput[];
}

/** One row of the audit log, after mapping, redaction and the body policy. */
export interface AuditRecord {
  traceId: string;
  spanId: string;
  /** Span start, microseconds since the Unix epoch (UTC). */
  timestampUs: number;
  method: string;
  /** Full URL with its (redacted) query string. */
  url: string;
  /** Route template (`/users/{id}`), from `http.route` or the path with ids collapsed. */
  endpoint: string;
  status: number;
  /** Span end - start, fractional milliseconds. */
  latencyMs: number;
  tokenName: string | null;
  clientIp: string | null;
  userAgent: string | null;
  clientId: string | null;
  companyId: string | null;
  service: string | null;
  requestPayload: string | null;
  /** Kept for failures only: status >= 400 (null for 1xx, 2xx and 3xx). */
  responsePayload: string | null;
  /** Allowlisted request headers, redacted. */
  requestHeaders: Record<string, string> | null;
  /** True when a payload was cut at the size cap. */
  truncated: boolean;
  error: string | null;
}
