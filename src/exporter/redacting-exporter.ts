import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Attributes as OtelAttributes } from '@opentelemetry/api';
import { createRedactor, type Redactor, type RedactionOptions } from '../record';

const BODY_KEYS = new Set(['auditspan.request.body', 'auditspan.response.body', 'http.request.body.content', 'http.response.body.content']);
const HEADER_PREFIXES = ['http.request.header.', 'http.response.header.'];

function redactAttributes(attrs: OtelAttributes, redactor: Redactor): OtelAttributes {
  const out: OtelAttributes = {};
  for (const [key, value] of Object.entries(attrs)) {
    const header = HEADER_PREFIXES.find((p) => key.startsWith(p));
    if (header) {
      if (redactor.isSecretKey(key.slice(header.length))) continue;
      out[key] = Array.isArray(value)
        ? value.map((v) => (typeof v === 'string' ? redactor.text(v, 'header') : v)) as typeof value
        : typeof value === 'string' ? redactor.text(value, 'header') : value;
    } else if (typeof value !== 'string') {
      out[key] = value;
    } else if (BODY_KEYS.has(key)) {
      out[key] = redactor.payload(value);
    } else if (key === 'url.query') {
      out[key] = redactor.query(value);
    } else if (key === 'url.full' || key === 'http.url' || key === 'http.target' || key === 'url.path') {
      out[key] = redactor.url(value);
    } else if (key === 'auditspan.error.message') {
      out[key] = redactor.text(value, 'error');
    } else {
      out[key] = value;
    }
  }
  return out;
}

/**
 * Wraps the exporter that forwards spans to a collector, Jaeger or Tempo so
 * that captured bodies, queries and headers leave the process redacted, the
 * same way they are redacted before the audit log writes them.
 */
export class RedactingSpanExporter implements SpanExporter {
  private readonly redactor: Redactor;

  constructor(private readonly inner: SpanExporter, redaction?: RedactionOptions) {
    this.redactor = createRedactor(redaction);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const redacted = spans.map((span) =>
      // A view of the span with other attributes; everything else (and its methods) comes from the original.
      Object.create(span, { attributes: { value: redactAttributes(span.attributes, this.redactor), enumerable: true } }) as ReadableSpan,
    );
    this.inner.export(redacted, resultCallback);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
