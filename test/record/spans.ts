import type { Attributes, SpanInput } from '../../src/record';

let n = 0;
/** A SERVER span with the given attributes (stable semconv unless overridden). */
export function serverSpan(attributes: Attributes, overrides: Partial<SpanInput> = {}): SpanInput {
  n += 1;
  const start = 1_700_000_000_123_456_789n;
  return {
    traceId: n.toString(16).padStart(32, '0'),
    spanId: n.toString(16).padStart(16, '0'),
    name: 'GET /',
    kind: 'server',
    startTimeUnixNano: start,
    endTimeUnixNano: start + 12_345_678n,
    attributes,
    resource: { 'service.name': 'payments-api' },
    status: { code: 'unset' },
    events: [],
    ...overrides,
  };
}

export const STABLE = {
  'http.request.method': 'POST',
  'url.scheme': 'https',
  'server.address': 'api.example.com',
  'server.port': 443,
  'url.path': '/v1/users/123',
  'url.query': 'expand=orders',
  'http.route': '/v1/users/:id',
  'http.response.status_code': 422,
  'client.address': '203.0.113.7',
  'user_agent.original': 'curl/8.5.0',
} as const;

export const OLD = {
  'http.method': 'GET',
  'http.scheme': 'http',
  'http.host': 'localhost:3000',
  'http.target': '/orders/987?page=2',
  'http.status_code': 200,
  'net.peer.ip': '10.0.0.9',
  'http.user_agent': 'python-requests/2.32',
} as const;
