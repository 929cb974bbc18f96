import { expect } from 'chai';
import { createHttpApp, generateApiKey, SCHEMAS } from '../../src/query-api';
import type { LogFilter } from '../../src/store/types';
import { expectedIds, logId, matches } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { conforms, listen } from '../helpers/http';
import { createTestStore, forEachStore } from '../helpers/stores';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const FIXTURES = generateRecords(800, 11, { endMs: NOW, spanMs: 2 * 86_400_000 });
const ADMIN = 'admin-key-for-tests-0123456789';
FIXTURES[3] = { ...FIXTURES[3], url: 'https://api.example.com/v1/x?name==cmd|calc', error: '+SUM(A1:A2)', companyId: 'acme', status: 500 };

const check = (value: unknown, schema: keyof typeof SCHEMAS): void => {
  const errors = conforms(value, SCHEMAS[schema], SCHEMAS as Record<string, unknown>);
  expect(errors, errors.join('\n')).to.deep.equal([]);
};

forEachStore('query API', ({ store }) => {
  let base = '';
  let close: () => Promise<void> = async () => undefined;
  let viewerKey = '';
  let otherKey = '';
  const get = (path: string, key: string | null = ADMIN) => fetch(base + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const json = async (path: string, key: string | null = ADMIN): Promise<any> => {
    const res = await get(path, key);
    expect(res.status, `${path}: ${res.status}`).to.equal(200);
    return res.json();
  };
  const walk = async (query: string, key: string | null = ADMIN, limit = 77): Promise<string[]> => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await json(`/api/logs?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, key);
      check(page, 'LogPage');
      ids.push(...page.data.map((l: { id: string }) => l.id));
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  };

  before(async () => {
    await store().insertBatch(FIXTURES);
    const viewer = generateApiKey();
    await store().createApiKey({ name: 'acme-support', companyId: 'acme', hash: viewer.hash });
    viewerKey = viewer.key;
    const other = generateApiKey();
    await store().createApiKey({ name: 'globex-ops', companyId: 'globex', hash: other.hash });
    otherKey = other.key;
    const server = await listen(createHttpApp({ store: store(), adminKey: ADMIN, version: '9.9.9', authFailureLimit: 1000 }));
    base = server.base;
    close = server.close;
  });
  after(() => close());

  describe('filters', () => {
    const cases: Array<[string, string, LogFilter]> = [
      ['everything', '', {}],
      ['from/to ISO', `from=${new Date(NOW - 86_400_000).toISOString()}&to=${new Date(NOW - 3_600_000).toISOString()}`, { from: NOW - 86_400_000, to: NOW - 3_600_000 }],
      ['from/to epoch ms', `from=${NOW - 7_200_000}&to=${NOW}`, { from: NOW - 7_200_000, to: NOW }],
      ['endpoint repeated', 'endpoint=/v1/charges&endpoint=/v1/refunds', { endpoints: ['/v1/charges', '/v1/refunds'] }],
      ['methods', 'method=post,delete', { methods: ['POST', 'DELETE'] }],
      ['status classes and codes', 'status=5xx,404', { statusClasses: [5], statusCodes: [404] }],
      ['token repeated', 'token=prod-billing&token=globex-sync', { tokens: ['prod-billing', 'globex-sync'] }],
      ['text', 'q=database', { q: 'database' }],
      ['latency', 'minLatencyMs=20&maxLatencyMs=80.5', { minLatencyMs: 20, maxLatencyMs: 80.5 }],
      ['admin narrowed to a company', 'company=initech', { companyId: 'initech' }],
      ['all combined', `company=acme&endpoint=/v1/charges&endpoint=/v1/customers&method=POST,GET&status=2xx,4xx&token=prod-billing&from=${NOW - 86_400_000}&minLatencyMs=5`, { companyId: 'acme', endpoints: ['/v1/charges', '/v1/customers'], methods: ['POST', 'GET'], statusClasses: [2, 4], tokens: ['prod-billing'], from: NOW - 86_400_000, minLatencyMs: 5 }],
    ];
    for (const [name, query, filter] of cases) {
      it(`returns exactly the matching rows: ${name}`, async () => {
        expect(await walk(query)).to.deep.equal(expectedIds(FIXTURES, filter));
      });
    }

    it('accepts a latency range of one value (minLatencyMs equal to maxLatencyMs)', async () => {
      expect((await get('/api/logs?minLatencyMs=10&maxLatencyMs=10')).status).to.equal(200);
    });

    it('keeps injection strings inert in every parameter', async () => {
      const evil = encodeURIComponent("'; DROP TABLE logs; --");
      for (const param of ['endpoint', 'token', 'q', 'company', 'method']) {
        const res = await get(`/api/logs?${param}=${evil}`);
        if (param === 'method') expect(res.status).to.equal(400);
        else expect(((await res.json()) as { data: unknown[] }).data).to.deep.equal([]);
      }
      expect((await walk('')).length).to.equal(FIXTURES.length);
    });
  });

  describe('validation', () => {
    for (const [query, param] of [
      ['from=yesterday', 'from'], ['to=2026-13-45T99:00', 'to'], ['limit=0', 'limit'], ['limit=501', 'limit'], ['limit=abc', 'limit'],
      ['status=7xx', 'status'], ['status=abc', 'status'], ['method=G%20T', 'method'], ['minLatencyMs=-1', 'minLatencyMs'],
      ['maxLatencyMs=fast', 'maxLatencyMs'], ['cursor=bogus', 'cursor'], ['q=' + 'x'.repeat(300), 'q'], ['colour=red', 'colour'],
      [`from=${NOW}&to=${NOW - 1}`, 'to'], ['minLatencyMs=50&maxLatencyMs=10', 'maxLatencyMs'],
    ] as const) {
      it(`answers 400 naming ${param} for ${query.slice(0, 40)}`, async () => {
        const res = await get(`/api/logs?${query}`);
        expect(res.status).to.equal(400);
        const body = (await res.json()) as any;
        check(body, 'Error');
        expect(body.error.param).to.equal(param);
        expect(body.error.message).to.be.a('string').and.not.match(/at .*\.ts:\d+/);
      });
    }
    it('answers 400 for a bad stats bucket and export format', async () => {
      expect(((await (await get('/api/stats?bucket=2s')).json()) as any).error.param).to.equal('bucket');
      expect(((await (await get('/api/export?format=xml')).json()) as any).error.param).to.equal('format');
    });
  });

  describe('detail, stats, facets', () => {
    it('returns every detail field and records the view', async () => {
      const r = FIXTURES[10];
      const detail = await json(`/api/logs/${logId(r)}`);
      check(detail, 'LogDetail');
      expect(detail).to.include({ id: logId(r), method: r.method, status: r.status, clientIp: r.clientIp, companyId: r.companyId, traceId: r.traceId, truncated: false });
      expect(detail.timestamp).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      const views = await store().listViews(logId(r));
      expect(views.map((v) => v.keyName)).to.include('admin');
    });

    it('answers 404 for an unknown id', async () => {
      const res = await get(`/api/logs/${'a'.repeat(32)}-${'b'.repeat(16)}`);
      expect(res.status).to.equal(404);
      check(await res.json(), 'Error');
    });

    it('returns stats that match the fixtures', async () => {
      const stats = await json('/api/stats?company=acme&bucket=1h');
      check(stats, 'Stats');
      const rows = FIXTURES.filter((r) => matches(r, { companyId: 'acme' }));
      expect(stats.total).to.equal(rows.length);
      expect(stats.byStatusClass['5xx']).to.equal(rows.filter((r) => r.status >= 500).length);
      expect(stats.bucketMs).to.equal(3_600_000);
    });

    it('returns facets', async () => {
      const facets = await json('/api/facets');
      check(facets, 'Facets');
      expect(facets.tokens).to.include('prod-billing');
    });

    it('describes itself in OpenAPI 3.1', async () => {
      const doc = await json('/api/openapi.json', null);
      expect(doc.openapi).to.equal('3.1.0');
      expect(Object.keys(doc.paths)).to.include.members(['/api/logs', '/api/logs/{id}', '/api/stats', '/api/facets', '/api/export']);
    });
  });

  describe('export', () => {
    it('streams every matching row as NDJSON', async () => {
      const res = await get('/api/export?format=ndjson&status=4xx');
      expect(res.headers.get('content-type')).to.contain('application/x-ndjson');
      const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.id)).to.deep.equal(expectedIds(FIXTURES, { statusClasses: [4] }));
      check(lines[0], 'LogDetail');
    });

    it('streams CSV with formula cells neutralised', async () => {
      const res = await get('/api/export?format=csv&company=acme&status=500');
      const text = await res.text();
      const lines = text.trim().split('\r\n');
      expect(lines[0]).to.match(/^id,timestamp,method,endpoint,url,status,/);
      expect(lines.length - 1).to.equal(expectedIds(FIXTURES, { companyId: 'acme', statusCodes: [500] }).length);
      expect(text).to.contain(",'+SUM(A1:A2),");
      expect(text).to.not.match(/,\+SUM/);
    });

    it('stops reading when the client goes away', async () => {
      // 5 000 rows (≈ 3 MB of NDJSON) outgrow every socket buffer; they are purged whatever the
      // outcome, so a failure here never spills into the tenancy tests below.
      await store().insertBatch(generateRecords(5_000, 77, { endMs: NOW - 5 * 86_400_000, spanMs: 86_400_000 }));
      try {
        const controller = new AbortController();
        const res = await fetch(`${base}/api/export?format=ndjson`, { headers: { authorization: `Bearer ${ADMIN}` }, signal: controller.signal });
        const reader = res.body!.getReader();
        await reader.read();
        controller.abort();
        await new Promise((r) => setTimeout(r, 200));
        // The server is still healthy and answers.
        expect((await get('/api/logs?limit=1')).status).to.equal(200);
        const full = await (await get('/api/export?format=ndjson')).text();
        expect(full.trim().split('\n').length).to.equal(FIXTURES.length + 5_000);
      } finally {
        await store().purgeOlderThan(NOW - 3 * 86_400_000);
      }
    });
  });

  describe('tenancy', () => {
    const acme = FIXTURES.filter((r) => r.companyId === 'acme');
    const globexLog = FIXTURES.find((r) => r.companyId === 'globex')!;

    it('shows a viewer only its company on every route', async () => {
      expect(await walk('', viewerKey)).to.deep.equal(expectedIds(FIXTURES, { companyId: 'acme' }));
      const stats = await json('/api/stats', viewerKey);
      expect(stats.total).to.equal(acme.length);
      const facets = await json('/api/facets', viewerKey);
      expect(facets.tokens).to.deep.equal([...new Set(acme.map((r) => r.tokenName).filter((t) => t !== null))].sort());
      const exported = (await (await get('/api/export?format=ndjson', viewerKey)).text()).trim().split('\n').map((l) => JSON.parse(l));
      expect(exported.every((l) => l.companyId === 'acme')).to.equal(true);
      expect(exported).to.have.length(acme.length);
      expect(await json('/api/whoami', viewerKey)).to.deep.equal({ name: 'acme-support', companyId: 'acme', admin: false });
    });

    it('never widens a viewer with the company parameter', async () => {
      expect(await walk('company=globex', viewerKey)).to.deep.equal(expectedIds(FIXTURES, { companyId: 'acme' }));
      expect((await json('/api/stats?company=globex', viewerKey)).total).to.equal(acme.length);
    });

    it("answers 404 for another company's log", async () => {
      const res = await get(`/api/logs/${logId(globexLog)}`, viewerKey);
      expect(res.status).to.equal(404);
      expect((await get(`/api/logs/${logId(globexLog)}`, otherKey)).status).to.equal(200);
    });

    it('answers 401 without a key, with a wrong key and with a revoked key', async () => {
      for (const key of [null, 'wrong', 'Bearer']) {
        const res = await get('/api/logs', key);
        expect(res.status).to.equal(401);
        expect(res.headers.get('www-authenticate')).to.contain('Bearer');
        check(await res.json(), 'Error');
      }
      const revoked = generateApiKey();
      await store().createApiKey({ name: 'temp', companyId: 'acme', hash: revoked.hash });
      expect((await get('/api/logs', revoked.key)).status).to.equal(200);
      await store().revokeApiKey('temp');
      await new Promise((r) => setTimeout(r, 2100));
      expect((await get('/api/logs', revoked.key)).status).to.equal(401);
      for (const route of ['/api/stats', '/api/facets', '/api/export', `/api/logs/${logId(FIXTURES[0])}`]) {
        expect((await get(route, null)).status, route).to.equal(401);
      }
    });
  });

  describe('headers', () => {
    it('sends security headers and a CSP on every response', async () => {
      for (const path of ['/healthz', '/api/logs', '/api/nope']) {
        const res = await get(path);
        expect(res.headers.get('content-security-policy'), path).to.contain("default-src 'self'").and.contain("script-src 'self'");
        expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
        expect(res.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
      }
    });
  });
});

describe('query API without keys and with repeated failures', () => {
  it('is open when no key exists and slows, then refuses, repeated failures', async () => {
    const t = await createTestStore('sqlite');
    const server = await listen(createHttpApp({ store: t.store, authFailureLimit: 3 }));
    try {
      expect((await fetch(`${server.base}/api/whoami`)).status).to.equal(200);
      expect(await (await fetch(`${server.base}/api/whoami`)).json()).to.deep.equal({ name: 'local', companyId: null, admin: true });
      await t.store.createApiKey({ name: 'k', companyId: 'acme', hash: generateApiKey().hash });
      await new Promise((r) => setTimeout(r, 2100));
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${server.base}/api/logs`, { headers: { authorization: 'Bearer nope' } })).status);
      expect(statuses).to.deep.equal([401, 401, 401, 429, 429]);
    } finally {
      await server.close();
      await t.cleanup();
    }
  });
});
