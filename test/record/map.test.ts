import { expect } from 'chai';
import { collapsePath, createRecordMapper, toAuditRecord } from '../../src/record';
import { OLD, serverSpan, STABLE } from './spans';

describe('toAuditRecord: mapping', () => {
  it('maps a span with the stable HTTP conventions', () => {
    const r = toAuditRecord(serverSpan({ ...STABLE, 'auditspan.token.name': 'prod-billing', 'auditspan.client.id': 'c1', 'auditspan.company.id': 'acme' }));
    expect(r).to.include({
      method: 'POST',
      url: 'https://api.example.com/v1/users/123?expand=orders',
      endpoint: '/v1/users/:id',
      status: 422,
      clientIp: '203.0.113.7',
      userAgent: 'curl/8.5.0',
      tokenName: 'prod-billing',
      clientId: 'c1',
      companyId: 'acme',
      service: 'payments-api',
    });
  });

  it('maps a span with the older HTTP conventions', () => {
    const r = toAuditRecord(serverSpan({ ...OLD }));
    expect(r).to.include({ method: 'GET', url: 'http://localhost:3000/orders/987?page=2', status: 200, clientIp: '10.0.0.9', userAgent: 'python-requests/2.32' });
    expect(r?.endpoint).to.equal('/orders/{id}');
  });

  it('prefers url.full and http.url when present', () => {
    expect(toAuditRecord(serverSpan({ ...STABLE, 'url.full': 'https://x.test/a?b=1' }))?.url).to.equal('https://x.test/a?b=1');
    expect(toAuditRecord(serverSpan({ 'http.method': 'GET', 'http.status_code': 200, 'http.url': 'http://y.test/z' }))?.url).to.equal('http://y.test/z');
  });

  it('omits default ports and keeps others when rebuilding the URL', () => {
    const base = { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.path': '/p', 'server.address': 'h' };
    expect(toAuditRecord(serverSpan({ ...base, 'url.scheme': 'http', 'server.port': 80 }))?.url).to.equal('http://h/p');
    expect(toAuditRecord(serverSpan({ ...base, 'url.scheme': 'http', 'server.port': 8080 }))?.url).to.equal('http://h:8080/p');
  });

  it('reads the status code from a numeric string', () => {
    expect(toAuditRecord(serverSpan({ 'http.method': 'GET', 'http.status_code': '503', 'http.target': '/' }))?.status).to.equal(503);
  });

  it('computes latency in fractional ms and the timestamp in µs', () => {
    const r = toAuditRecord(serverSpan({ ...STABLE }));
    expect(r?.latencyMs).to.equal(12.346);
    expect(r?.timestampUs).to.equal(1_700_000_000_123_456);
  });

  for (const [why, span] of [
    ['a CLIENT span', serverSpan({ ...STABLE }, { kind: 'client' })],
    ['an INTERNAL span', serverSpan({ ...STABLE }, { kind: 'internal' })],
    ['a server span without a status', serverSpan({ 'http.request.method': 'GET', 'url.path': '/' })],
    ['a server span without a method', serverSpan({ 'http.response.status_code': 200, 'url.path': '/' })],
    ['a non-HTTP server span (gRPC)', serverSpan({ 'rpc.system': 'grpc', 'rpc.method': 'Get' })],
  ] as const) {
    it(`does not make a row of ${why}`, () => {
      expect(toAuditRecord(span)).to.equal(null);
    });
  }

  it('takes the error message from the body, then the span status, then an exception event', () => {
    const fromBody = toAuditRecord(serverSpan({ ...STABLE, 'auditspan.response.body': '{"error":{"message":"email is invalid"}}' }));
    expect(fromBody?.error).to.equal('email is invalid');
    const fromStatus = toAuditRecord(serverSpan({ ...STABLE, 'http.response.status_code': 500 }, { status: { code: 'error', message: 'db timeout' } }));
    expect(fromStatus?.error).to.equal('db timeout');
    const fromEvent = toAuditRecord(serverSpan({ ...STABLE, 'http.response.status_code': 500 }, {
      events: [{ name: 'exception', attributes: { 'exception.type': 'TypeError', 'exception.message': 'x is undefined' } }],
    }));
    expect(fromEvent?.error).to.equal('TypeError: x is undefined');
    expect(toAuditRecord(serverSpan({ ...STABLE, 'auditspan.error.message': 'explicit' }))?.error).to.equal('explicit');
    expect(toAuditRecord(serverSpan({ ...STABLE, 'http.response.status_code': 200 }))?.error).to.equal(null);
  });

  it('keeps only allowlisted request headers', () => {
    const r = toAuditRecord(serverSpan({
      ...STABLE,
      'http.request.header.content-type': ['application/json'],
      'http.request.header.x-request-id': ['abc'],
      'http.request.header.authorization': ['Bearer abcdefghijkl'],
      'http.request.header.cookie': ['sid=1'],
      'http.request.header.x-internal-thing': ['v'],
    }));
    expect(r?.requestHeaders).to.deep.equal({ 'content-type': 'application/json', 'x-request-id': 'abc' });
  });

  it('never keeps credentials even when listed', () => {
    const map = createRecordMapper({ keepRequestHeaders: ['authorization', 'cookie', 'x-api-key', 'accept'] });
    const r = map(serverSpan({ ...STABLE, 'http.request.header.authorization': ['Bearer abcdefghijkl'], 'http.request.header.x-api-key': ['k'], 'http.request.header.accept': ['*/*'] }));
    expect(r?.requestHeaders).to.deep.equal({ accept: '*/*' });
  });

  it('replaces lone surrogates with U+FFFD in every stored string', () => {
    const lone = 'x\ud800y';
    const r = toAuditRecord(serverSpan({
      ...STABLE, 'http.response.status_code': 500, 'url.path': `/v1/${lone}`, 'http.route': `/v1/${lone}`, 'user_agent.original': lone,
      'auditspan.token.name': lone, 'auditspan.company.id': lone, 'http.request.header.accept': [lone],
      'http.request.header.content-type': ['text/plain'], 'auditspan.request.body': `note ${lone}`,
      'auditspan.response.body': `failed ${lone}`, 'http.response.header.content-type': 'text/plain',
    }))!;
    for (const [field, value] of Object.entries(r)) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      expect(/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')), field).to.equal(false);
    }
    expect(r.userAgent).to.equal('x\ufffdy');
    expect(r.requestPayload).to.equal('note x\ufffdy');
    expect(r.error).to.equal('failed x\ufffdy');
    expect(r.requestHeaders).to.deep.equal({ accept: 'x\ufffdy', 'content-type': 'text/plain' });
  });

  it('caps absurd attribute values', () => {
    const huge = 'a'.repeat(1024 * 1024);
    const r = toAuditRecord(serverSpan({ ...STABLE, 'url.path': `/${huge}`, 'http.route': huge, 'user_agent.original': huge, 'auditspan.token.name': huge }));
    expect(r?.url.length).to.be.at.most(8 * 1024);
    expect(r?.endpoint.length).to.be.at.most(1024);
    expect(r?.userAgent?.length).to.be.at.most(1024);
    expect(r?.tokenName?.length).to.be.at.most(256);
  });

  it('rejects bad options naming the option', () => {
    expect(() => createRecordMapper({ maxPayloadBytes: -1 })).to.throw(TypeError, /maxPayloadBytes/);
    expect(() => createRecordMapper({ redaction: { extraPatterns: ['x' as unknown as RegExp] } })).to.throw(TypeError, /redaction\.extraPatterns\[0\]/);
  });
});

describe('collapsePath', () => {
  for (const [path, expected] of [
    ['/users/123', '/users/{id}'],
    ['/users/3f2b8c1e-9a7d-4e21-b9c3-1a2b3c4d5e6f/orders', '/users/{id}/orders'],
    ['/objects/507f1f77bcf86cd799439011', '/objects/{id}'],
    ['/v1/customers/cus_NffrFeUfNV2Hib', '/v1/customers/{id}'],
    ['/v1/invoices/in_1022', '/v1/invoices/{id}'],
    ['/internal/api_v2/status', '/internal/api_v2/status'],
    ['/v1/user_profile', '/v1/user_profile'],
    ['/v1/payouts/po_NffrFeUfNVaHib', '/v1/payouts/{id}'],
    ['/people/jane@example.com', '/people/{id}'],
    ['/v1/health', '/v1/health'],
    ['/v2/search', '/v2/search'],
  ] as const) {
    it(`${path} → ${expected}`, () => expect(collapsePath(path)).to.equal(expected));
  }
});
