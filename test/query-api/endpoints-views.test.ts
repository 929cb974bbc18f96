/**
 * GET /api/endpoints (per-endpoint figures against the previous window), the `service` filter,
 * and GET /api/views (the audit of the audit log: views and exports), on every database.
 */
import { expect } from 'chai';
import { createHttpApp, generateApiKey, SCHEMAS } from '../../src/query-api';
import { PERCENTILE_RELATIVE_ERROR } from '../../src/store/rollups';
import { percentile } from '../../src/store/stats';
import type { AuditRecord } from '../../src/record/types';
import { expectedIds, logId, matches } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { conforms, listen } from '../helpers/http';
import { forEachStore } from '../helpers/stores';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const HOUR = 3_600_000;
const ADMIN = 'admin-key-for-tests-0123456789';
// Two windows of 6 h: [NOW-12h, NOW-6h) is "previous" for [NOW-6h, NOW).
const FIXTURES: AuditRecord[] = generateRecords(600, 23, { endMs: NOW, spanMs: 12 * HOUR }).map((r, i) =>
  i % 5 === 0 ? { ...r, service: 'ledger-api' } : i % 7 === 0 ? { ...r, service: null } : r);

/** The tolerance of a percentile read from the rollups' histograms (docs/storage.md#rollups). */
const within = (exact: number): number => exact * PERCENTILE_RELATIVE_ERROR + 0.001;

const check = (value: unknown, schema: keyof typeof SCHEMAS): void => {
  const errors = conforms(value, SCHEMAS[schema], SCHEMAS as Record<string, unknown>);
  expect(errors, errors.join('\n')).to.deep.equal([]);
};

/** The figures computed in JS from the fixtures, for comparison. */
function expected(rows: AuditRecord[]) {
  const groups = new Map<string, AuditRecord[]>();
  for (const r of rows) {
    const key = `${r.method} ${r.endpoint}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return new Map([...groups].map(([key, list]) => {
    const lat = list.map((r) => r.latencyMs).sort((a, b) => a - b);
    return [key, {
      count: list.length,
      errorRate: Math.round((list.filter((r) => r.status >= 400).length / list.length) * 1000) / 1000,
      p50: percentile(lat, 0.5), p95: percentile(lat, 0.95), p99: percentile(lat, 0.99),
      lastSeen: new Date(Math.floor(Math.max(...list.map((r) => r.timestampUs)) / 1000)).toISOString(),
    }];
  }));
}

forEachStore('endpoints, service filter and views API', ({ store }) => {
  let base = '';
  let close: () => Promise<void> = async () => undefined;
  let viewerKey = '';
  const get = (path: string, key: string | null = ADMIN) => fetch(base + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const json = async (path: string, key: string | null = ADMIN): Promise<any> => {
    const res = await get(path, key);
    expect(res.status, `${path}: ${res.status} ${res.status !== 200 ? await res.clone().text() : ''}`).to.equal(200);
    return res.json();
  };

  before(async () => {
    await store().insertBatch(FIXTURES);
    const viewer = generateApiKey();
    await store().createApiKey({ name: 'acme-support', companyId: 'acme', hash: viewer.hash });
    viewerKey = viewer.key;
    const server = await listen(createHttpApp({ store: store(), adminKey: ADMIN, version: '9.9.9', authFailureLimit: 1000 }));
    base = server.base;
    close = server.close;
  });
  after(() => close());

  describe('GET /api/endpoints', () => {
    const from = NOW - 6 * HOUR;
    it('gives every endpoint and method of the window with its figures and the previous window', async () => {
      const body = await json(`/api/endpoints?from=${from}&to=${NOW}`);
      check(body, 'EndpointList');
      const now = expected(FIXTURES.filter((r) => matches(r, { from, to: NOW })));
      const then = expected(FIXTURES.filter((r) => matches(r, { from: from - 6 * HOUR, to: from })));
      expect(body.data.map((r: any) => `${r.method} ${r.endpoint}`).sort()).to.deep.equal([...now.keys()].sort());
      // Busiest first.
      const counts = body.data.map((r: any) => r.count);
      expect(counts).to.deep.equal([...counts].sort((a: number, b: number) => b - a));
      for (const row of body.data) {
        const key = `${row.method} ${row.endpoint}`;
        const e = now.get(key)!;
        expect(row, key).to.include({ count: e.count, errorRate: e.errorRate, lastSeen: e.lastSeen });
        // From the rollups' latency histograms: within their stated bound of the exact figure.
        expect(row.p50).to.be.closeTo(e.p50!, within(e.p50!));
        expect(row.p95).to.be.closeTo(e.p95!, within(e.p95!));
        expect(row.p99).to.be.closeTo(e.p99!, within(e.p99!));
        const p = then.get(key);
        expect(row.previous.count).to.equal(p?.count ?? 0);
        if (p) {
          expect(row.previous.errorRate).to.equal(p.errorRate);
          expect(row.previous.p95).to.be.closeTo(p.p95!, within(p.p95!));
        }
        expect(row.sparkline).to.have.length(24);
        expect(row.sparkline.reduce((a: number, b: number) => a + b, 0)).to.equal(e.count);
      }
      expect(body.window).to.deep.equal({ from: new Date(from).toISOString(), to: new Date(NOW).toISOString(), previousFrom: new Date(from - 6 * HOUR).toISOString() });
    });

    it('reads the rows themselves under text and latency filters: exact percentiles', async () => {
      const body = await json(`/api/endpoints?from=${from}&to=${NOW}&minLatencyMs=20`);
      const now = expected(FIXTURES.filter((r) => matches(r, { from, to: NOW, minLatencyMs: 20 })));
      expect(body.data.map((r: any) => `${r.method} ${r.endpoint}`).sort()).to.deep.equal([...now.keys()].sort());
      for (const row of body.data) {
        const e = now.get(`${row.method} ${row.endpoint}`)!;
        expect(row).to.include({ count: e.count, errorRate: e.errorRate, lastSeen: e.lastSeen });
        expect(row.p95).to.be.closeTo(e.p95!, 0.001);
        expect(row.sparkline.reduce((a: number, b: number) => a + b, 0)).to.equal(e.count);
      }
    });

    it('takes the same filters as /api/logs and scopes a viewer key to its company', async () => {
      const filtered = await json(`/api/endpoints?from=${from}&to=${NOW}&status=4xx,5xx&method=POST&sparkline=6`);
      const rows = FIXTURES.filter((r) => matches(r, { from, to: NOW, statusClasses: [4, 5], methods: ['POST'] }));
      expect(filtered.data.reduce((s: number, r: any) => s + r.count, 0)).to.equal(rows.length);
      expect(filtered.data.every((r: any) => r.method === 'POST' && r.errorRate === 1 && r.sparkline.length === 6)).to.equal(true);
      const viewer = await json(`/api/endpoints?from=${from}&to=${NOW}&company=globex`, viewerKey);
      const acme = FIXTURES.filter((r) => matches(r, { from, to: NOW, companyId: 'acme' }));
      expect(viewer.data.reduce((s: number, r: any) => s + r.count, 0)).to.equal(acme.length);
    });

    it('answers without a window (no previous, no sparkline) and rejects bad parameters', async () => {
      const all = await json('/api/endpoints');
      check(all, 'EndpointList');
      expect(all.window).to.equal(null);
      expect(all.data.reduce((s: number, r: any) => s + r.count, 0)).to.equal(FIXTURES.length);
      expect(all.data.every((r: any) => r.previous === null && r.sparkline === undefined)).to.equal(true);
      for (const [query, param] of [['sparkline=500', 'sparkline'], ['limit=5', 'limit'], ['from=soon', 'from']]) {
        const res = await get(`/api/endpoints?${query}`);
        expect(res.status).to.equal(400);
        expect(((await res.json()) as any).error.param).to.equal(param);
      }
      expect((await get('/api/endpoints', null)).status).to.equal(401);
    });

    it('is described in OpenAPI', async () => {
      const doc = await json('/api/openapi.json', null);
      expect(Object.keys(doc.paths)).to.include.members(['/api/endpoints', '/api/views', '/api/views/export']);
    });
  });

  describe('service filter', () => {
    it('filters logs, stats and endpoints by one or several services, and lists services as facets', async () => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await json(`/api/logs?service=ledger-api&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
        ids.push(...page.data.map((l: any) => l.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(ids).to.deep.equal(expectedIds(FIXTURES, { services: ['ledger-api'] }));
      const both = await json('/api/stats?service=ledger-api&service=payments-api');
      expect(both.total).to.equal(FIXTURES.filter((r) => r.service !== null).length);
      const facets = await json('/api/facets');
      check(facets, 'Facets');
      expect(facets.services).to.deep.equal(['ledger-api', 'payments-api']);
      const endpoints = await json('/api/endpoints?service=ledger-api');
      expect(endpoints.data.reduce((s: number, r: any) => s + r.count, 0)).to.equal(FIXTURES.filter((r) => r.service === 'ledger-api').length);
    });
  });

  describe('GET /api/views', () => {
    it('lists who opened which log and who exported which filters, newest first, by cursor', async () => {
      const start = Date.now();
      await json(`/api/logs/${logId(FIXTURES[0])}`);
      const acmeLog = FIXTURES.find((r) => r.companyId === 'acme')!;
      await json(`/api/logs/${logId(acmeLog)}`, viewerKey);
      const exported = await get('/api/export?format=csv&status=5xx', viewerKey);
      await exported.text();
      const page = await json(`/api/views?from=${start - 1000}`);
      check(page, 'ViewPage');
      expect(page.data.map((v: any) => [v.kind, v.keyName, v.companyId, v.logId, v.filters])).to.deep.equal([
        ['export', 'acme-support', 'acme', null, 'format=csv&status=5xx'],
        ['view', 'acme-support', 'acme', logId(acmeLog), null],
        ['view', 'admin', null, logId(FIXTURES[0]), null],
      ]);
      const exportsOnly = await json('/api/views?kind=export&key=acme-support');
      expect(exportsOnly.data.map((v: any) => v.kind)).to.deep.equal(['export']);
      const acme = await json('/api/views?company=acme&kind=view');
      expect(acme.data.map((v: any) => v.logId)).to.deep.equal([logId(acmeLog)]);
      // Paginated by cursor: two pages of one and two.
      const first = await json(`/api/views?from=${start - 1000}&limit=1`);
      const second = await json(`/api/views?from=${start - 1000}&limit=2&cursor=${first.nextCursor}`);
      expect([...first.data, ...second.data].map((v: any) => v.id)).to.deep.equal(page.data.map((v: any) => v.id));
      expect(second.nextCursor).to.equal(null);
    });

    it('exports the views as CSV and NDJSON', async () => {
      const csv = await (await get('/api/views/export?format=csv&kind=export')).text();
      const lines = csv.trim().split('\r\n');
      expect(lines[0]).to.equal('viewedAt,kind,keyName,companyId,logId,filters,id');
      expect(lines[1]).to.match(/^\d{4}-.*Z,export,acme-support,acme,,format=csv&status=5xx,\d+$/);
      const ndjson = (await (await get('/api/views/export?kind=view')).text()).trim().split('\n').map((l) => JSON.parse(l));
      expect(ndjson.length).to.be.greaterThan(1);
      expect(ndjson.every((v) => v.kind === 'view')).to.equal(true);
    });

    it('refuses viewer keys with 403 and rejects bad parameters', async () => {
      for (const path of ['/api/views', '/api/views/export']) {
        const res = await get(path, viewerKey);
        expect(res.status).to.equal(403);
        const body: any = await res.json();
        check(body, 'Error');
        expect(body.error.code).to.equal('forbidden');
      }
      for (const [query, param] of [['kind=download', 'kind'], ['limit=0', 'limit'], ['cursor=zz', 'cursor'], ['status=5xx', 'status']]) {
        const res = await get(`/api/views?${query}`);
        expect(res.status, query).to.equal(400);
        expect(((await res.json()) as any).error.param).to.equal(param);
      }
    });
  });
});
