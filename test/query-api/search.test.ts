import { expect } from 'chai';
import { createHttpApp, generateApiKey } from '../../src/query-api';
import type { AuditRecord } from '../../src/record/types';
import { logId } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { listen } from '../helpers/http';
import { forEachStore } from '../helpers/stores';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const ADMIN = 'admin-key-for-search-tests-0123456789';
const [base0, base1] = generateRecords(2, 33, { endMs: NOW, spanMs: 86_400_000 });
/** Globex's request, and acme's: the same shape, different values. */
const GLOBEX: AuditRecord = {
  ...base0, companyId: 'globex', traceId: 'c0ffee00c0ffee00c0ffee00c0ffee00', clientIp: '192.0.2.44', clientId: 'globex-app', tokenName: 'globex-rare-token',
  requestHeaders: { 'x-request-id': 'req-globex-1' }, requestPayload: '{"memo":"marmalade"}', error: 'payment failed: marmalade', status: 402,
};
const ACME: AuditRecord = { ...base1, companyId: 'acme', traceId: 'acacacacacacacacacacacacacacacac', requestHeaders: { 'x-request-id': 'req-acme-1' }, requestPayload: '{"memo":"gooseberry"}' };

forEachStore('query API search', ({ store }) => {
  let base = '';
  let close: () => Promise<void> = async () => undefined;
  let viewer = '';
  const get = (q: string, key = ADMIN) => fetch(`${base}/api/logs?q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${key}` } });
  const ids = async (q: string, key = ADMIN): Promise<string[]> => {
    const res = await get(q, key);
    expect(res.status, q).to.equal(200);
    return ((await res.json()) as { data: Array<{ id: string }> }).data.map((l) => l.id);
  };

  before(async () => {
    await store().insertBatch([...generateRecords(300, 34, { endMs: NOW, spanMs: 86_400_000 }), GLOBEX, ACME]);
    const key = generateApiKey();
    await store().createApiKey({ name: 'acme-viewer', companyId: 'acme', hash: key.hash });
    viewer = key.key;
    const server = await listen(createHttpApp({ store: store(), adminKey: ADMIN, version: '9.9.9', authFailureLimit: 1000 }));
    base = server.base;
    close = server.close;
  });
  after(() => close());

  const globexSearches = [
    `id:${logId(GLOBEX)}`, logId(GLOBEX), `http://localhost:8080/logs/${logId(GLOBEX)}`, `traceId:${GLOBEX.traceId}`, 'requestId:req-globex-1',
    'ip:192.0.2.44', 'clientId:globex-app', 'company:globex marmalade', 'token:globex-rare-token', 'marmalade', '"payment failed"',
  ];

  it('finds a request by every prefix with an admin key', async () => {
    for (const q of globexSearches) expect(await ids(q), q).to.include(logId(GLOBEX));
    expect(await ids('requestId:req-acme-1')).to.deep.equal([logId(ACME)]);
  });

  it("never lets a viewer find another company's request, by any prefix", async () => {
    for (const q of globexSearches) expect(await ids(q, viewer), q).to.deep.equal([]);
    // The same searches on the viewer's own request do find it.
    for (const q of [`traceId:${ACME.traceId}`, 'requestId:req-acme-1', 'gooseberry', 'company:acme gooseberry']) expect(await ids(q, viewer), q).to.deep.equal([logId(ACME)]);
    const stats = await fetch(`${base}/api/stats?q=marmalade`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(((await stats.json()) as { total: number }).total).to.equal(0);
  });

  it('answers 400 naming the problem for a bad search, on every filtered route', async () => {
    for (const [q, message] of [
      ['colour:red', /unknown search prefix "colour:"/],
      ['traceId:nothex', /32 hexadecimal digits/],
      ['ip:', /ip: needs a value/],
      ['"open', /unterminated quote/],
      ['card\u0000expired', /NUL character/],
    ] as Array<[string, RegExp]>) {
      for (const route of ['logs', 'stats', 'facets', 'export']) {
        const res = await fetch(`${base}/api/${route}?q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${ADMIN}` } });
        expect(res.status, `${route} ${q}`).to.equal(400);
        const body = (await res.json()) as { error: { code: string; message: string; param: string } };
        expect(body.error.param).to.equal('q');
        expect(body.error.message).to.match(message);
      }
    }
  });

  it('documents the search language in the OpenAPI description', async () => {
    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { paths: Record<string, { get: { parameters: Array<{ name: string; description?: string }> } }> };
    const q = doc.paths['/api/logs'].get.parameters.find((p) => p.name === 'q');
    for (const prefix of ['traceId:', 'requestId:', 'ip:', 'clientId:', 'company:', 'token:', 'id:']) expect(q?.description).to.contain(prefix);
  });
});
