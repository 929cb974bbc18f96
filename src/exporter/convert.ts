import { SpanKind, SpanStatusCode, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Attributes, SpanInput, SpanKindName } from '../record/types';

const KIND: Record<number, SpanKindName> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

const hrToNs = (t: HrTime): bigint => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);

/** An OpenTelemetry JS span as the neutral `SpanInput` the mapper reads (pure). */
export function toSpanInput(span: ReadableSpan): SpanInput {
  return fromWireSpan(toWireSpan(span), (span.resource?.attributes ?? {}) as Attributes);
}

/**
 * A span as posted to the pipeline worker: only structured-clone-friendly data, copied with
 * as little work as possible on the app's thread (no BigInt, no mapping). The resource is
 * sent separately, once per change, since every span of a provider shares it.
 */
export interface WireSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  start: HrTime;
  end: HrTime;
  attributes: ReadableSpan['attributes'];
  status: { code: number; message?: string };
  events?: Array<{ name: string; time: HrTime; attributes?: ReadableSpan['attributes'] }>;
}

export function toWireSpan(span: ReadableSpan): WireSpan {
  const ctx = span.spanContext();
  const wire: WireSpan = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: span.kind,
    start: span.startTime,
    end: span.endTime,
    attributes: span.attributes,
    status: { code: span.status.code, message: span.status.message },
  };
  if (span.events.length > 0) wire.events = span.events.map((e) => ({ name: e.name, time: e.time, attributes: e.attributes }));
  return wire;
}

/** The worker's side of `toWireSpan`: the same `SpanInput` that `toSpanInput` gives. */
export function fromWireSpan(wire: WireSpan, resource: Attributes): SpanInput {
  return {
    traceId: wire.traceId,
    spanId: wire.spanId,
    parentSpanId: wire.parentSpanId,
    name: wire.name,
    kind: KIND[wire.kind] ?? 'unspecified',
    startTimeUnixNano: hrToNs(wire.start),
    endTimeUnixNano: hrToNs(wire.end),
    attributes: wire.attributes as Attributes,
    resource,
    status: {
      code: wire.status.code === SpanStatusCode.ERROR ? 'error' : wire.status.code === SpanStatusCode.OK ? 'ok' : 'unset',
      message: wire.status.message,
    },
    events: (wire.events ?? []).map((e) => ({ name: e.name, timeUnixNano: hrToNs(e.time), attributes: (e.attributes ?? {}) as Attributes })),
  };
}
