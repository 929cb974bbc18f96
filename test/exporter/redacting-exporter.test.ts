import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { RedactingSpanExporter } from '../../src/exporter';
import { expectNoLeak, SECRETS } from '../record/secrets';

describe('RedactingSpanExporter (spans forwarded to a collector)', () => {
  it('redacts bodies, queries, paths and header values, whether arrays or strings, and drops secret headers', async () => {
    const sink = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new RedactingSpanExporter(sink))] });
    const span = provider.getTracer('t').startSpan('POST /v1/users/:email', {
      kind: SpanKind.SERVER,
      attributes: {
        'url.path': `/v1/users/${SECRETS.email}`,
        'url.query': `api_key=${SECRETS.apiKey}&page=2`,
        'auditspan.request.body': JSON.stringify({ password: SECRETS.password, card: SECRETS.card }),
        'http.request.header.authorization': [SECRETS.bearer],
        'http.request.header.x-forwarded-note': `card ${SECRETS.card}`,
        'http.request.header.referer': [`https://app.example.com/?email=${SECRETS.email}`],
        'http.route': '/v1/users/:email',
      },
    });
    span.end();
    await provider.forceFlush();
    const [out] = sink.getFinishedSpans();
    expect(out.attributes).to.not.have.property('http.request.header.authorization');
    expect(out.attributes['url.query']).to.equal('api_key=[REDACTED]&page=2');
    expect(out.attributes['http.route']).to.equal('/v1/users/:email');
    expect(out.name).to.equal('POST /v1/users/:email');
    expectNoLeak(JSON.stringify(out.attributes), 'forwarded attributes');
    await provider.shutdown();
  });
});
