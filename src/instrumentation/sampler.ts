import { SpanKind, TraceFlags, trace, isSpanContextValid, type Context } from '@opentelemetry/api';
import { SamplingDecision, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';

/**
 * An audit log cannot be sampled: a SERVER span is always recorded, even when
 * the caller's `traceparent` says "not sampled". It is then recorded but not
 * marked sampled, so what is forwarded to Jaeger/Tempo (and downstream
 * services) still follows the caller's decision. Other spans follow their parent.
 */
export class AuditSampler implements Sampler {
  shouldSample(context: Context, _traceId: string, _name: string, kind: SpanKind): SamplingResult {
    const parent = trace.getSpanContext(context);
    if (!parent || !isSpanContextValid(parent)) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    if ((parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return { decision: kind === SpanKind.SERVER ? SamplingDecision.RECORD : SamplingDecision.NOT_RECORD };
  }

  toString(): string {
    return 'AuditSampler{server spans always recorded, others parent-based}';
  }
}
