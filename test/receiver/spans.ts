import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { SECRETS } from '../record/secrets';

/** Sends a realistic mix of spans through `exporter` and returns the same spans as ended in process. */
export async function sendSpans(exporter: SpanExporter, tag: string) {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `svc-${tag}` }),
    spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('receiver-test');
  const stable = tracer.startSpan('POST /v1/charges', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'POST', 'url.scheme': 'https', 'server.address': 'api.example.com', 'url.path': '/v1/charges',
      'url.query': `email=${SECRETS.email}&page=2`, 'http.route': '/v1/charges', 'http.response.status_code': 402,
      'client.address': '198.51.100.4', 'user_agent.original': 'java-sdk/1.2', 'auditspan.token.name': `token-${tag}`,
      'auditspan.company.id': 'acme', 'auditspan.client.id': 'erp',
      'auditspan.request.body': JSON.stringify({ amount: 100, card: { number: SECRETS.card, cvc: '123' }, note: SECRETS.phone }),
      'auditspan.response.body': JSON.stringify({ error: { message: `card declined for ${SECRETS.email}` } }),
      'http.request.header.content-type': ['application/json'], 'http.request.header.authorization': [SECRETS.bearer],
      'retry.count': 3, 'ratio': 0.5, 'flags': [true, false],
    },
  });
  stable.setStatus({ code: SpanStatusCode.ERROR, message: 'declined' });
  stable.end();
  const old = tracer.startSpan('GET', {
    kind: SpanKind.SERVER,
    attributes: { 'http.method': 'GET', 'http.target': `/users/42?token=${SECRETS.apiKey}`, 'http.host': 'old.example.com', 'http.scheme': 'http', 'http.status_code': 200, 'net.peer.ip': '10.1.1.1' },
  });
  old.end();
  const client = tracer.startSpan('GET upstream', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 } });
  client.end();
  await provider.forceFlush();
  const ended = memory.getFinishedSpans();
  await provider.shutdown();
  return ended;
}
