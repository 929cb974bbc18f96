/**
 * CPU time of toAuditRecord() against an earlier version of src/record, both in one process,
 * run in alternation (robust on a shared machine). The earlier version is a directory holding
 * its `src` (and node_modules, or a link to this one's):
 *
 *   mkdir /tmp/base && git archive <rev> src | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/
 *   npx tsx scripts/redaction-compare.ts /tmp/base
 */
import { join, resolve } from 'node:path';
import { toAuditRecord as newMap } from '../src/record';

const baseDir = process.argv[2];
if (!baseDir) {
  console.error('usage: npx tsx scripts/redaction-compare.ts <dir holding the earlier src/>');
  process.exit(2);
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const oldMap = (require(join(resolve(baseDir), 'src', 'record')) as { toAuditRecord: typeof newMap }).toAuditRecord;
function spanWith(body: string | undefined, status: number, i: number): any {
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
    resource: { 'service.name': 'payments-api' }, events: [],
  };
}
const small = JSON.stringify({ amount: 4200, currency: 'eur', card: { number: '4242424242424242', cvc: '123' }, email: 'jane@example.com', description: 'Order 1042' });
const large = JSON.stringify({ items: Array.from({ length: 120 }, (_, i) => ({ sku: `SKU-${i}`, qty: i % 5, note: `item ${i} for jane@example.com, call +44 20 7946 0958` })) });
const cases: Array<[string, string | undefined, number, number]> = [['GET no body 200', undefined, 200, 4000], ['POST 135 B 201', small, 201, 4000], ['POST 135 B 422', small, 422, 4000], ['POST 10 KiB 201', large, 201, 200]];
const cpu = (fn: () => void) => { const a = process.cpuUsage(); fn(); const b = process.cpuUsage(a); return b.user + b.system; };
console.log('| span | before | after | after ÷ before |');
for (const [name, body, status, n] of cases) {
  const spans = Array.from({ length: 64 }, (_, i) => spanWith(body, status, i + 1));
  const o: number[] = [], w: number[] = [];
  for (let r = 0; r < 9; r++) {
    o.push(cpu(() => { for (let i = 0; i < n; i++) oldMap(spans[i & 63]); }) / n);
    w.push(cpu(() => { for (let i = 0; i < n; i++) newMap(spans[i & 63]); }) / n);
  }
  const med = (x: number[]) => x.sort((a, b) => a - b)[x.length >> 1];
  const ratios = o.map((v, i) => w[i] / v);
  console.log(`| ${name} | ${med(o).toFixed(1)} µs | ${med(w).toFixed(1)} µs | ${med(ratios).toFixed(2)}× |`);
}
