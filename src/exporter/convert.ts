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
  const ctx = span.spanContext();
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: KIND[span.kind] ?? 'unspecified',
    startTimeUnixNano: hrToNs(span.startTime),
    endTimeUnixNano: hrToNs(span.endTime),
    attributes: span.attributes as Attributes,
    resource: (span.resource?.attributes ?? {}) as Attributes,
    status: {
      code: span.status.code === SpanStatusCode.ERROR ? 'error' : span.status.code === SpanStatusCode.OK ? 'ok' : 'unset',
      message: span.status.message,
    },
    events: span.events.map((e) => ({ name: e.name, timeUnixNano: hrToNs(e.time), attributes: (e.attributes ?? {}) as Attributes })),
  };
}
