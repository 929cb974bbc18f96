import type { AttributeValue, Attributes, SpanInput, SpanKindName, StatusCodeName } from '../record/types';
import { ExportTraceServiceRequest } from './otlp-schema';

/** Input that is not valid OTLP: answered with 400 (never retried). */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/**
 * Per-span limits applied while the request is walked, like the OpenTelemetry SDK's own span
 * limits (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
 * OTEL_SPAN_EVENT_COUNT_LIMIT): work per span is bounded whatever a sender puts in it.
 */
export interface DecodeLimits {
  /** Attributes kept per span, per event and per resource (and entries per array/kvlist). Default 128. */
  maxAttributes?: number;
  /** Characters kept of a string (or bytes of a bytes value) attribute. Default 65 536. */
  maxAttributeValueLength?: number;
  /** Events kept per span. Default 128. */
  maxEvents?: number;
}

export const DEFAULT_DECODE_LIMITS: Required<DecodeLimits> = { maxAttributes: 128, maxAttributeValueLength: 64 * 1024, maxEvents: 128 };

/** What the limits cut from one request. */
export interface LimitCounts {
  /** Attributes (and array/kvlist entries) dropped beyond maxAttributes. */
  droppedAttributes: number;
  /** Values cut at maxAttributeValueLength. */
  truncatedValues: number;
  /** Events dropped beyond maxEvents. */
  droppedEvents: number;
}

export interface DecodedBatch {
  spans: SpanInput[];
  /** Spans that were present but invalid (bad ids, times). */
  rejected: number;
  rejectMessage?: string;
  /** What the per-span limits cut (absent when nothing was cut). */
  limited?: LimitCounts;
}

/** Nested arrays/kvlists deeper than this are cut: bounded work on hostile input. */
export const MAX_VALUE_DEPTH = 32;
const KINDS: SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS: StatusCodeName[] = ['unset', 'ok', 'error'];
const KIND_NAMES: Record<string, number> = { SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 };
const STATUS_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

type Long = { low: number; high: number; unsigned?: boolean };
type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const describeType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

/** An optional list: absent (undefined/null) is empty; anything but an array is a 400 naming the field. */
function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new DecodeError(`invalid OTLP: ${path} must be an array, got ${describeType(v)}`);
  return v;
}

/** An optional message: absent is undefined; anything but an object is a 400 naming the field. */
function message(v: unknown, path: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new DecodeError(`invalid OTLP: ${path} must be an object, got ${describeType(v)}`);
  return v;
}

/** An entry of a repeated message field: null or a scalar there is malformed. */
function element(v: unknown, path: string): Obj {
  if (!isObject(v)) throw new DecodeError(`invalid OTLP: ${path} must be an object, got ${describeType(v)}`);
  return v;
}

function isLong(v: unknown): v is Long {
  return isObject(v) && typeof v.low === 'number' && typeof v.high === 'number';
}

/** A 64-bit integer as protobufjs or JSON gives it (number, numeric string, Long) → bigint; null when absent or not an integer. */
function toBigInt(v: unknown): bigint | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : null;
  if (typeof v === 'string') return /^-?\d{1,20}$/.test(v) ? BigInt(v) : null;
  if (isLong(v)) return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return null;
}

/** A 64-bit field that must be a number, a numeric string or a Long when present. */
function int64Field(v: unknown, path: string): bigint | null {
  if (v === undefined || v === null) return null;
  const b = toBigInt(v);
  if (b === null) throw new DecodeError(`invalid OTLP: ${path} must be a 64-bit integer (number or decimal string), got ${describeType(v)}`);
  return b;
}

function int64Value(v: unknown, path: string): number | string {
  const b = int64Field(v, path) ?? 0n;
  // Beyond 2^53 a JS number would silently change the value: keep the digits.
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString();
}

const hex = (bytes: unknown): string => (bytes instanceof Uint8Array ? Buffer.from(bytes).toString('hex') : '');

function jsonId(v: unknown, hexLength: number): string {
  if (typeof v !== 'string' || v === '') return '';
  if (v.length === hexLength && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
  // Lenient: some senders use protobuf-JSON's base64 for bytes.
  if (v.length > 4 * hexLength) return 'invalid';
  const b = Buffer.from(v, 'base64');
  return b.length * 2 === hexLength ? b.toString('hex') : 'invalid';
}

/** Walks one request: type checks, the per-span limits and their counts. */
class Walker {
  readonly counts: LimitCounts = { droppedAttributes: 0, truncatedValues: 0, droppedEvents: 0 };
  private readonly limits: Required<DecodeLimits>;

  constructor(readonly json: boolean, limits: DecodeLimits = {}) {
    this.limits = { ...DEFAULT_DECODE_LIMITS, ...limits };
  }

  private cut(text: string): string {
    if (text.length <= this.limits.maxAttributeValueLength) return text;
    this.counts.truncatedValues += 1;
    return text.slice(0, this.limits.maxAttributeValueLength);
  }

  private scalar<T>(v: unknown, type: 'string' | 'boolean', path: string): T {
    if (typeof v !== type) throw new DecodeError(`invalid OTLP: ${path} must be a ${type}, got ${describeType(v)}`);
    return v as T;
  }

  /** AnyValue → JS value, read through its oneof (an absent value is not 0). */
  anyValue(raw: unknown, path: string, depth: number): AttributeValue {
    const v = message(raw, path);
    if (!v) return null;
    if (depth > MAX_VALUE_DEPTH) return '[…]';
    const which = this.json ? Object.keys(v).find((k) => k.endsWith('Value')) : v.value;
    const at = `${path}.${String(which)}`;
    switch (which) {
      case 'stringValue':
        return this.cut(v.stringValue === undefined || v.stringValue === null ? '' : this.scalar<string>(v.stringValue, 'string', at));
      case 'boolValue':
        if (this.json && v.boolValue === 'true') return true;
        if (this.json && v.boolValue === 'false') return false;
        return v.boolValue === undefined || v.boolValue === null ? false : this.scalar<boolean>(v.boolValue, 'boolean', at);
      case 'intValue':
        return int64Value(v.intValue, at);
      case 'doubleValue': {
        const d = v.doubleValue;
        if (typeof d === 'number') return d;
        if (typeof d === 'string' && /^(-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|NaN|-?Infinity)$/.test(d)) return Number(d);
        if (d === undefined || d === null) return 0;
        throw new DecodeError(`invalid OTLP: ${at} must be a number, got ${describeType(d)}`);
      }
      case 'bytesValue': {
        const b = v.bytesValue;
        if (b === undefined || b === null) return new Uint8Array(0);
        const bytes = b instanceof Uint8Array ? b : Buffer.from(this.scalar<string>(b, 'string', at), 'base64');
        if (bytes.length <= this.limits.maxAttributeValueLength) return bytes;
        this.counts.truncatedValues += 1;
        return bytes.subarray(0, this.limits.maxAttributeValueLength);
      }
      case 'arrayValue': {
        const values = this.entries(message(v.arrayValue, at)?.values, `${at}.values`);
        return values.map((x, i) => this.anyValue(element(x, `${at}.values[${i}]`), `${at}.values[${i}]`, depth + 1));
      }
      case 'kvlistValue':
        return this.keyValues(message(v.kvlistValue, at)?.values, `${at}.values`, depth + 1) as AttributeValue;
      default:
        return null;
    }
  }

  /** A list capped at maxAttributes; what is beyond it is counted, not walked. */
  private entries(raw: unknown, path: string): unknown[] {
    const all = list(raw, path);
    if (all.length <= this.limits.maxAttributes) return all;
    this.counts.droppedAttributes += all.length - this.limits.maxAttributes;
    return all.slice(0, this.limits.maxAttributes);
  }

  keyValues(raw: unknown, path: string, depth = 0): Attributes {
    const out: Attributes = {};
    const kvs = this.entries(raw, path);
    for (let i = 0; i < kvs.length; i++) {
      const kv = element(kvs[i], `${path}[${i}]`);
      if (typeof kv.key !== 'string') throw new DecodeError(`invalid OTLP: ${path}[${i}].key must be a string, got ${describeType(kv.key)}`);
      const value = this.anyValue(kv.value, `${path}[${i}].value`, depth);
      // A key named __proto__ stays an attribute of its own instead of replacing the prototype.
      if (kv.key === '__proto__') Object.defineProperty(out, kv.key, { value, enumerable: true, writable: true, configurable: true });
      else out[kv.key] = value;
    }
    return out;
  }

  events(raw: unknown, path: string): SpanInput['events'] {
    const all = list(raw, path);
    if (all.length > this.limits.maxEvents) this.counts.droppedEvents += all.length - this.limits.maxEvents;
    const kept = all.length > this.limits.maxEvents ? all.slice(0, this.limits.maxEvents) : all;
    return kept.map((raw, i) => {
      const e = element(raw, `${path}[${i}]`);
      return {
        name: typeof e.name === 'string' ? e.name.slice(0, 1024) : '',
        timeUnixNano: int64Field(e.timeUnixNano, `${path}[${i}].timeUnixNano`) ?? undefined,
        attributes: this.keyValues(e.attributes, `${path}[${i}].attributes`),
      };
    });
  }

  get limited(): LimitCounts | undefined {
    const c = this.counts;
    return c.droppedAttributes + c.truncatedValues + c.droppedEvents > 0 ? { ...c } : undefined;
  }
}

function enumValue(v: unknown, names: Record<string, number>, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return names[v] ?? (/^\d{1,3}$/.test(v) ? Number(v) : 0);
  throw new DecodeError(`invalid OTLP: ${path} must be an enum number or name, got ${describeType(v)}`);
}

interface RawSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

function buildSpan(ids: RawSpan, s: Obj, path: string, resource: Attributes, walker: Walker): SpanInput | string {
  const start = int64Field(s.startTimeUnixNano, `${path}.startTimeUnixNano`);
  const end = int64Field(s.endTimeUnixNano, `${path}.endTimeUnixNano`);
  const status = message(s.status, `${path}.status`);
  if (s.name !== undefined && s.name !== null && typeof s.name !== 'string') throw new DecodeError(`invalid OTLP: ${path}.name must be a string, got ${describeType(s.name)}`);
  if (status?.message !== undefined && status.message !== null && typeof status.message !== 'string') {
    throw new DecodeError(`invalid OTLP: ${path}.status.message must be a string, got ${describeType(status.message)}`);
  }
  const kind = enumValue(s.kind, KIND_NAMES, `${path}.kind`);
  const code = enumValue(status?.code, STATUS_NAMES, `${path}.status.code`);
  const attributes = walker.keyValues(s.attributes, `${path}.attributes`);
  const events = walker.events(s.events, `${path}.events`);
  if (!/^[0-9a-f]{32}$/.test(ids.traceId) || /^0+$/.test(ids.traceId)) return 'invalid trace id';
  if (!/^[0-9a-f]{16}$/.test(ids.spanId) || /^0+$/.test(ids.spanId)) return 'invalid span id';
  if (start === null || start <= 0n) return 'missing start time';
  if (end === null || end < start) return 'end time before start time';
  return {
    traceId: ids.traceId,
    spanId: ids.spanId,
    parentSpanId: ids.parentSpanId || undefined,
    name: typeof s.name === 'string' ? s.name.slice(0, 1024) : '',
    kind: KINDS[kind] ?? 'unspecified',
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes,
    resource,
    status: {
      code: STATUS[code] ?? 'unset',
      message: typeof status?.message === 'string' && status.message !== '' ? status.message : undefined,
    },
    events,
  };
}

function collect(resourceSpans: unknown, walker: Walker, ids: (s: Obj) => RawSpan): DecodedBatch {
  const spans: SpanInput[] = [];
  let rejected = 0;
  let rejectMessage: string | undefined;
  const rsList = list(resourceSpans, 'resourceSpans');
  for (let r = 0; r < rsList.length; r++) {
    const rs = element(rsList[r], `resourceSpans[${r}]`);
    const resource = walker.keyValues(message(rs.resource, `resourceSpans[${r}].resource`)?.attributes, `resourceSpans[${r}].resource.attributes`);
    const ssList = list(rs.scopeSpans, `resourceSpans[${r}].scopeSpans`);
    for (let c = 0; c < ssList.length; c++) {
      const ss = element(ssList[c], `resourceSpans[${r}].scopeSpans[${c}]`);
      const spanList = list(ss.spans, `resourceSpans[${r}].scopeSpans[${c}].spans`);
      for (let i = 0; i < spanList.length; i++) {
        const path = `resourceSpans[${r}].scopeSpans[${c}].spans[${i}]`;
        const s = element(spanList[i], path);
        const span = buildSpan(ids(s), s, path, resource, walker);
        if (typeof span === 'string') {
          rejected += 1;
          rejectMessage ??= `${span} (first rejected span: "${typeof s.name === 'string' ? s.name.slice(0, 80) : ''}")`;
        } else {
          spans.push(span);
        }
      }
    }
  }
  return { spans, rejected, rejectMessage, limited: walker.limited };
}

/** `application/x-protobuf` ExportTraceServiceRequest → spans. */
export function decodeProtobuf(body: Uint8Array, limits?: DecodeLimits): DecodedBatch {
  let decoded: Obj;
  try {
    decoded = ExportTraceServiceRequest.decode(body) as unknown as Obj;
  } catch (err) {
    throw new DecodeError(`invalid protobuf ExportTraceServiceRequest: ${(err as Error).message}`);
  }
  return collect(decoded.resourceSpans, new Walker(false, limits), (s) => ({
    traceId: hex(s.traceId),
    spanId: hex(s.spanId),
    parentSpanId: hex(s.parentSpanId),
  }));
}

/** 64-bit fields written as bare JSON numbers: quoted before parsing so no digit is lost above 2^53. */
const INT64_NUMBER = /"(startTimeUnixNano|endTimeUnixNano|timeUnixNano|intValue)"(\s*:\s*)(-?\d+)/g;

/** `application/json` (OTLP/JSON: hex ids, int64 as strings or numbers, enums as ints or names) → spans. */
export function decodeJson(text: string, limits?: DecodeLimits): DecodedBatch {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(INT64_NUMBER, '"$1"$2"$3"'));
  } catch (err) {
    throw new DecodeError(`invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new DecodeError('invalid OTLP/JSON: expected an object with resourceSpans');
  return collect(parsed.resourceSpans, new Walker(true, limits), (s) => ({
    traceId: jsonId(s.traceId, 32),
    spanId: jsonId(s.spanId, 16),
    parentSpanId: jsonId(s.parentSpanId, 16),
  }));
}
