/**
 * The CPU cost of the one mapping + redaction every row goes through, per span, against
 * JSON.parse + JSON.stringify of the same request body (the least any body handling costs).
 */
import { toAuditRecord } from '../src/record';
import type { SpanInput } from '../src/record/types';
import { fmt, median, ratio, table } from './lib';

const N = Number(process.env.BENCH_REDACTION_SPANS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function spanWith(body: string | undefined, status: number, i: number): SpanInput {
  const start = 1_795_000_000_000_000_000n + BigInt(i) * 1_000_000n;
  return {
    traceId: i.toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), kind: 'server', name: 'POST /v1/charges',
    startTimeUnixNano: start, endTimeUnixNano: start + 12_345_678n, status: { code: status >= 500 ? 'error' : 'unset' },
    attributes: {
      'http.request.method': 'POST', 'url.scheme': 'https', 'server.address': 'api.example.com', 'url.path': '/v1/charges',
      'url.query': `email=jane${i}@example.com&expand=customer`, 'http.route': '/v1/charges', 'http.response.status_code': status,
      'client.address': '203.0.113.9', 'user_agent.original': 'acme-sdk/2.1 node/20', 'auditspan.token.name': 'prod-billing',
      'auditspan.company.id': 'acme', 'http.request.header.content-type': ['application/json'],
      ...(body ? { 'auditspan.request.body': body } : {}),
      ...(status >= 400 ? { 'auditspan.response.body': JSON.stringify({ error: { message: `card declined for jane${i}@example.com` } }) } : {}),
    },
    resource: { 'service.name': 'payments-api' },
    events: [],
  };
}

function measure(fn: (i: number) => unknown): number {
  const runs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (let i = 0; i < N; i++) fn(i);
    runs.push(((performance.now() - t) * 1000) / N);
  }
  return median(runs);
}

export async function run(): Promise<string> {
  const small = JSON.stringify({ amount: 4200, currency: 'eur', card: { number: '4242424242424242', cvc: '123' }, email: 'jane@example.com', description: 'Order 1042' });
  const large = JSON.stringify({ items: Array.from({ length: 120 }, (_, i) => ({ sku: `SKU-${i}`, qty: i % 5, note: `item ${i} for jane@example.com, call +44 20 7946 0958` })) });
  const cases: Array<[string, string | undefined, number]> = [
    ['GET, no body, 200', undefined, 200],
    [`POST, ${small.length} B JSON body, 201`, small, 201],
    [`POST, ${small.length} B JSON body, 422 (response kept)`, small, 422],
    [`POST, ${(large.length / 1024).toFixed(1)} KiB JSON body, 201`, large, 201],
  ];
  const rows = cases.map(([name, body, status]) => {
    const spans = Array.from({ length: 64 }, (_, i) => spanWith(body, status, i + 1));
    if (spans.some((s) => toAuditRecord(s) === null)) throw new Error('redaction bench: a span did not map to a record');
    const cost = measure((i) => toAuditRecord(spans[i & 63]));
    const baseline = body ? measure(() => JSON.stringify(JSON.parse(body))) : NaN;
    return [name, `${fmt(cost, 1)} µs`, body ? `${fmt(baseline, 1)} µs` : '—', body ? ratio(cost, baseline) : '—'];
  });
  // Detection check: the output of the run must hold none of the planted values.
  const out = JSON.stringify(toAuditRecord(spanWith(small, 422, 7)));
  for (const secret of ['4242424242424242', 'jane@example.com', 'jane7@example.com']) {
    if (out.includes(secret)) throw new Error(`redaction bench: ${secret} survived`);
  }
  return [
    '## Mapping and redaction',
    '',
    `\`npm run bench -- redaction\` — toAuditRecord() per span (attribute mapping, URL and query redaction, body`,
    `policy, key and value-shape redaction of the body), ${fmt(N)} spans × ${ROUNDS} rounds, median µs per span on one core.`,
    'Baseline: JSON.parse + JSON.stringify of the same body.',
    '',
    table(['span', 'toAuditRecord', 'parse + stringify', 'vs baseline'], rows),
  ].join('\n');
}
