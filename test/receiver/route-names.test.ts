import { expect } from 'chai';
import { startOtlpHttpReceiver } from '../../src/receiver';
import { forEachStore } from '../helpers/stores';

const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0');

function span(i: number, path: string, status: number, route?: string): Record<string, unknown> {
  return {
    traceId: hex(i + 1, 32), spanId: hex(i + 1, 16), name: 'GET', kind: 2,
    startTimeUnixNano: `${1_700_000_000_000 + i}000000`, endTimeUnixNano: `${1_700_000_000_000 + i}500000`,
    attributes: [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'url.path', value: { stringValue: path } },
      { key: 'http.response.status_code', value: { intValue: String(status) } },
      ...(route ? [{ key: 'http.route', value: { stringValue: route } }] : []),
    ],
  };
}

function otlp(service: string, spans: Array<Record<string, unknown>>): string {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans }] }] });
}

forEachStore('OTLP receiver: one endpoint name per route', ({ store }) => {
  async function send(service: string, spans: Array<Record<string, unknown>>): Promise<void> {
    const rx = await startOtlpHttpReceiver({ store: store(), port: 0 });
    try {
      for (const s of spans) {
        const res = await fetch(`http://127.0.0.1:${rx.port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: otlp(service, [s]) });
        expect(res.status).to.equal(200);
      }
    } finally {
      await rx.close();
    }
  }

  async function endpointsOf(service: string): Promise<string[]> {
    const page = await store().listLogs({}, { limit: 500 });
    return page.data.filter((l) => l.service === service).reverse().map((l) => l.endpoint);
  }

  it('files a span without http.route under the template its path matches, learned from spans with one', async () => {
    await send('billing', [
      span(1, '/v1/customers/7', 401), // before any template is known: the collapsed path
      span(2, '/v1/customers/42', 200, '/v1/customers/:id'),
      span(3, '/v1/customers/43', 401),
      span(4, '/v1/customers/me', 429),
      span(5, '/v1/customers/43/cards', 401),
    ]);
    expect(await endpointsOf('billing')).to.deep.equal([
      '/v1/customers/{id}', '/v1/customers/:id', '/v1/customers/:id', '/v1/customers/:id', '/v1/customers/{id}/cards',
    ]);
  });

  it('keeps the templates of one service from naming another service\'s spans', async () => {
    await send('shipping', [span(10, '/v1/customers/43', 401)]);
    expect(await endpointsOf('shipping')).to.deep.equal(['/v1/customers/{id}']);
  });

  it('learns the templates already stored when it starts, so the first unrouted span is named too', async () => {
    // A new receiver (a restart): the route was seen only before it started.
    await send('billing', [span(20, '/v1/customers/99', 403)]);
    const all = await endpointsOf('billing');
    expect(all[all.length - 1]).to.equal('/v1/customers/:id');
  });
});
