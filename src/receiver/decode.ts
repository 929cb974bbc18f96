import type { AttributeValue, Attributes, SpanInput, SpanKindName, StatusCodeName } from '../record/types';
import { ExportTraceServiceRequest } from './otlp-schema';

/** Input that is not valid OTLP: answered with 400 (never retried). */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export interface DecodedBatch {
  spans: SpanInput[];
  /** Spans that were present but invalid (bad ids, times). */
  rejected: number;
  rejectMessage?: string;
}

/** Nested arrays/kvlists deeper than this are cut: bounded work on hostile input. */
export const MAX_VALUE_DEPTH = 32;
const KINDS: SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS: StatusCodeName[] = ['unset', 'ok', 'error'];
const KIND_NAMES: Record<string, number> = { SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 };
const STATUS_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

type Long = { low: number; high: number; unsigned?: boolean };

/** A 64-bit integer as protobufjs or JSON gives it (number, numeric string, Long) → bigint. */
function toBigInt(v: unknown): bigint | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : null;
  if (typeof v === 'string') return /^-?\d{1,20}$/.test(v) ? BigInt(v) : null;
  if (typeof v === 'object' && 'low' in (v as object)) {
    const l = v as Long;
    return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
  }
  return null;
}

function int64Value(v: unknown): number | string {
  const b = toBigInt(v);
  if (b === null) return 0;
  // Beyond 2^53 a JS number would silently change the value: keep the digits.
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString();
}

const hex = (bytes: Uint8Array | undefined | null): string => (bytes ? Buffer.from(bytes).toString('hex') : '');

function jsonId(v: unknown, hexLength: number): string {
  if (typeof v !== 'string' || v === '') return '';
  if (v.length === hexLength && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
  // Lenient: some senders use protobuf-JSON's base64 for bytes.
  const b = Buffer.from(v, 'base64');
  return b.length * 2 === hexLength ? b.toString('hex') : v;
}

/** AnyValue → JS value, read through its oneof (an absent value is not 0). */
function anyValue(v: Record<string, unknown> | null | undefined, json: boolean, depth: number): AttributeValue {
  if (!v) return null;
  if (depth > MAX_VALUE_DEPTH) return '[…]';
  const which = json ? Object.keys(v).find((k) => k.endsWith('Value')) : (v.value as string | undefined);
  switch (which) {
    case 'stringValue':
      return String(v.stringValue ?? '');
    case 'boolValue':
      return v.boolValue === true || v.boolValue === 'true';
    case 'intValue':
      return int64Value(v.intValue);
    case 'doubleValue':
      return Number(v.doubleValue);
    case 'bytesValue':
      return json ? Buffer.from(String(v.bytesValue ?? ''), 'base64') : (v.bytesValue as Uint8Array);
    case 'arrayValue': {
      const values = ((v.arrayValue as { values?: unknown[] } | null)?.values ?? []) as Array<Record<string, unknown>>;
      return values.map((x) => anyValue(x, json, depth + 1));
    }
    case 'kvlistValue': {
      const values = ((v.kvlistValue as { values?: unknown[] } | null)?.values ?? []) as Array<Record<string, unknown>>;
      return keyValues(values, json, depth + 1) as AttributeValue;
    }
    default:
      return null;
  }
}

function keyValues(list: unknown, json: boolean, depth = 0): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as Array<{ key?: unknown; value?: Record<string, unknown> }>) {
    if (typeof kv?.key !== 'string') continue;
    const value = anyValue(kv.value, json, depth);
    // A key named __proto__ stays an attribute of its own instead of replacing the prototype.
    if (kv.key === '__proto__') Object.defineProperty(out, kv.key, { value, enumerable: true, writable: true, configurable: true });
    else out[kv.key] = value;
  }
  return out;
}

function enumValue(v: unknown, names: Record<string, number>): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return names[v] ?? (Number.isInteger(Number(v)) ? Number(v) : 0);
  return 0;
}

interface RawSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: unknown;
  kind: unknown;
  start: bigint | null;
  end: bigint | null;
  attributes: unknown;
  status: { code?: unknown; message?: unknown } | null | undefined;
  events: unknown;
}

function buildSpan(raw: RawSpan, resource: Attributes, json: boolean): SpanInput | string {
  if (!/^[0-9a-f]{32}$/.test(raw.traceId) || /^0+$/.test(raw.traceId)) return 'invalid trace id';
  if (!/^[0-9a-f]{16}$/.test(raw.spanId) || /^0+$/.test(raw.spanId)) return 'invalid span id';
  if (raw.start === null || raw.start <= 0n) return 'missing start time';
  if (raw.end === null || raw.end < raw.start) return 'end time before start time';
  const events = Array.isArray(raw.events) ? (raw.events as Array<Record<string, unknown>>) : [];
  return {
    traceId: raw.traceId,
    spanId: raw.spanId,
    parentSpanId: raw.parentSpanId || undefined,
    name: typeof raw.name === 'string' ? raw.name.slice(0, 1024) : '',
    kind: KINDS[enumValue(raw.kind, KIND_NAMES)] ?? 'unspecified',
    startTimeUnixNano: raw.start,
    endTimeUnixNano: raw.end,
    attributes: keyValues(raw.attributes, json),
    resource,
    status: {
      code: STATUS[enumValue(raw.status?.code, STATUS_NAMES)] ?? 'unset',
      message: typeof raw.status?.message === 'string' && raw.status.message !== '' ? raw.status.message : undefined,
    },
    events: events.slice(0, 128).map((e) => ({
      name: typeof e.name === 'string' ? e.name : '',
      timeUnixNano: toBigInt(e.timeUnixNano) ?? undefined,
      attributes: keyValues(e.attributes, json),
    })),
  };
}

function collect(resourceSpans: unknown, json: boolean, raw: (s: Record<string, unknown>) => RawSpan): DecodedBatch {
  const spans: SpanInput[] = [];
  let rejected = 0;
  let rejectMessage: string | undefined;
  if (resourceSpans !== undefined && !Array.isArray(resourceSpans)) throw new DecodeError('resourceSpans must be an array');
  for (const rs of (resourceSpans ?? []) as Array<Record<string, unknown>>) {
    const resource = keyValues((rs?.resource as { attributes?: unknown } | undefined)?.attributes, json);
    for (const ss of ((rs?.scopeSpans ?? []) as Array<Record<string, unknown>>)) {
      for (const s of ((ss?.spans ?? []) as Array<Record<string, unknown>>)) {
        const span = buildSpan(raw(s ?? {}), resource, json);
        if (typeof span === 'string') {
          rejected += 1;
          rejectMessage ??= `${span} (first rejected span: "${String(s?.name ?? '').slice(0, 80)}")`;
        } else {
          spans.push(span);
        }
      }
    }
  }
  return { spans, rejected, rejectMessage };
}

/** `application/x-protobuf` ExportTraceServiceRequest → spans. */
export function decodeProtobuf(body: Uint8Array): DecodedBatch {
  let message: Record<string, unknown>;
  try {
    message = ExportTraceServiceRequest.decode(body) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new DecodeError(`invalid protobuf ExportTraceServiceRequest: ${(err as Error).message}`);
  }
  return collect(message.resourceSpans, false, (s) => ({
    traceId: hex(s.traceId as Uint8Array),
    spanId: hex(s.spanId as Uint8Array),
    parentSpanId: hex(s.parentSpanId as Uint8Array),
    name: s.name,
    kind: s.kind,
    start: toBigInt(s.startTimeUnixNano),
    end: toBigInt(s.endTimeUnixNano),
    attributes: s.attributes,
    status: s.status as RawSpan['status'],
    events: s.events,
  }));
}

/** 64-bit fields written as bare JSON numbers: quoted before parsing so no digit is lost above 2^53. */
const INT64_NUMBER = /"(startTimeUnixNano|endTimeUnixNano|timeUnixNano|intValue)"(\s*:\s*)(-?\d+)/g;

/** `application/json` (OTLP/JSON: hex ids, int64 as strings or numbers, enums as ints or names) → spans. */
export function decodeJson(text: string): DecodedBatch {
  let message: unknown;
  try {
    message = JSON.parse(text.replace(INT64_NUMBER, '"$1"$2"$3"'));
  } catch (err) {
    throw new DecodeError(`invalid JSON: ${(err as Error).message}`);
  }
  if (!message || typeof message !== 'object' || Array.isArray(message)) throw new DecodeError('invalid OTLP/JSON: expected an object with resourceSpans');
  return collect((message as Record<string, unknown>).resourceSpans, true, (s) => ({
    traceId: jsonId(s.traceId, 32),
    spanId: jsonId(s.spanId, 16),
    parentSpanId: jsonId(s.parentSpanId, 16),
    name: s.name,
    kind: s.kind,
    start: toBigInt(s.startTimeUnixNano),
    end: toBigInt(s.endTimeUnixNano),
    attributes: s.attributes,
    status: s.status as RawSpan['status'],
    events: s.events,
  }));
}
