import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

const ROUTES = [['GET', '/v1/customers/{id}'], ['POST', '/v1/charges'], ['GET', '/v1/invoices'], ['PATCH', '/v1/subscriptions/{id}']] as const;

/**
 * HTTP server spans as instrumentation-http + express end them (15–20 attributes, request bodies
 * with card data and emails to redact), each with its own trace id. `startMs(i)` sets span i's
 * start time (default: now).
 */
export async function makeServerSpans(n: number, startMs?: (i: number) => number): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'payments-api', 'deployment.environment': 'bench' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('bench');
  for (let i = 0; i < n; i++) {
    const [method, route] = ROUTES[i % ROUTES.length];
    const path = route.replace('{id}', `cus_${1000 + (i % 9000)}`);
    const status = i % 17 === 0 ? 422 : i % 53 === 0 ? 500 : method === 'POST' ? 201 : 200;
    const start = startMs?.(i);
    const span = tracer.startSpan(`${method} ${route}`, {
      kind: SpanKind.SERVER,
      ...(start !== undefined ? { startTime: start } : {}),
      attributes: {
        'http.request.method': method, 'url.scheme': 'https', 'server.address': 'api.example.com', 'server.port': 443,
        'url.path': path, 'url.query': i % 3 === 0 ? `email=jane${i}@example.com&limit=20` : '', 'http.route': route,
        'http.response.status_code': status, 'client.address': `203.0.113.${i % 250}`, 'network.peer.address': '10.0.0.7',
        'user_agent.original': 'acme-sdk/2.1 node/20', 'auditspan.token.name': `token-${i % 12}`,
        'auditspan.company.id': `company-${i % 40}`, 'auditspan.client.id': 'erp',
        'http.request.header.content-type': ['application/json'],
        ...(method !== 'GET' ? { 'auditspan.request.body': JSON.stringify({ amount: i, currency: 'eur', card: { number: '4242424242424242', cvc: '123' }, email: `jane${i}@example.com` }) } : {}),
        ...(status >= 400 ? { 'auditspan.response.body': JSON.stringify({ error: { message: `amount must be positive for jane${i}@example.com` } }) } : {}),
      },
    });
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timeout' });
    span.end(start !== undefined ? start + 5 + (i % 40) : undefined);
  }
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

/** OTLP/HTTP protobuf request bodies of `size` spans each. */
export function protobufBatches(spans: readonly ReadableSpan[], size: number): Array<Uint8Array<ArrayBuffer>> {
  const bodies: Array<Uint8Array<ArrayBuffer>> = [];
  for (let i = 0; i < spans.length; i += size) bodies.push(new Uint8Array(ProtobufTraceSerializer.serializeRequest(spans.slice(i, i + size))!));
  return bodies;
}

/** POSTs one body until it is acknowledged, waiting and retrying on 503/429 as a collector does. */
export async function postUntilStored(url: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
  for (;;) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
    await res.arrayBuffer();
    if (res.status === 200) return;
    if (res.status !== 503 && res.status !== 429) throw new Error(`receiver answered ${res.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
