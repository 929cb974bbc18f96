import { expect } from 'chai';
import { signDownload } from '../../src/query-api/downloads';
import { LINK_SECRET_NAME, signViewLink } from '../../src/query-api/links';
import { generateRecords } from '../helpers/fixtures';
import { serveWithAcmeViewer } from '../helpers/http';
import { forEachStore } from '../helpers/stores';

const ADMIN = 'admin-key-for-download-tests-0123456789-abcdef';
const FIXTURES = generateRecords(150, 11, { endMs: Date.UTC(2026, 10, 20), spanMs: 86_400_000 });

forEachStore('download links (POST /api/downloads, GET /api/downloads/<token>)', ({ store }) => {
  let base = '';
  let close: () => Promise<void> = async () => undefined;
  let viewer = '';
  const acme = FIXTURES.filter((r) => r.companyId === 'acme');
  const mint = (path: unknown, key: string | null = ADMIN) =>
    fetch(`${base}/api/downloads`, {
      method: 'POST',
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' },
      body: JSON.stringify({ path }),
    });
  const urlOf = async (res: Response) => {
    expect(res.status).to.equal(201);
    const body = (await res.json()) as { url: string; expiresAt: string };
    expect(Object.keys(body).sort()).to.deep.equal(['expiresAt', 'url']);
    expect(Date.parse(body.expiresAt) - Date.now()).to.be.within(50_000, 61_000);
    expect(body.url).to.match(/^\/api\/downloads\/asd1\.[\w-]+\.[\w-]+$/);
    return `${base}${body.url}`;
  };

  before(async () => {
    expect(acme.length).to.be.greaterThan(5);
    ({ base, viewer, close } = await serveWithAcmeViewer(store(), FIXTURES, ADMIN));
  });
  after(() => close());

  it("streams the export to a plain GET (no key) in the minting key's scope, audited under that key, once", async () => {
    const url = await urlOf(await mint('/api/export?format=ndjson&from=2026-11-01T00:00:00Z', viewer));
    const res = await fetch(url);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-disposition')).to.match(/^attachment; filename="auditspan-.*\.ndjson"$/);
    const rows = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { companyId: string });
    expect(rows).to.have.length(acme.length);
    expect(rows.every((r) => r.companyId === 'acme')).to.equal(true);

    const audit = (await (await fetch(`${base}/api/views?kind=export`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
      data: Array<{ keyName: string; companyId: string | null; filters: string }>;
    };
    expect(audit.data[0]).to.include({ keyName: 'acme-viewer', companyId: 'acme', filters: 'format=ndjson&from=2026-11-01T00:00:00Z' });

    const again = await fetch(url);
    expect(again.status).to.equal(410);
    expect(((await again.json()) as { error: { code: string; message: string } }).error).to.deep.equal({
      code: 'download_expired', message: 'this download link has expired or was already used; start the export again',
    });
  });

  it('gives the admin every company, CSV included, and the audit export to the admin only', async () => {
    const csv = await (await fetch(await urlOf(await mint('/api/export?format=csv')))).text();
    expect(csv.trim().split('\r\n')).to.have.length(FIXTURES.length + 1);
    const views = await fetch(await urlOf(await mint('/api/views/export?format=ndjson')));
    expect(views.status).to.equal(200);
    expect(views.headers.get('content-disposition')).to.match(/auditspan-views-/);
    const refused = await mint('/api/views/export?format=csv', viewer);
    expect(refused.status).to.equal(403);
  });

  it('refuses what is not an export, a bad filter and a missing key before any link exists', async () => {
    for (const path of ['/api/logs', '/api/export/../logs?format=csv', 'http://elsewhere.example/api/export?format=csv', '/export?format=csv', '//evil/api/export', 42, null]) {
      const res = await mint(path);
      expect(res.status, String(path)).to.equal(400);
      const { error } = (await res.json()) as { error: { code: string } };
      expect(['invalid_parameter', 'invalid_body'], String(path)).to.include(error.code);
    }
    const bad = await mint('/api/export?format=csv&status=abc');
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).to.equal('status');
    // Repeated filters are checked as the export route reads them: each value.
    expect((await mint('/api/export?format=csv&status=5xx&status=abc')).status).to.equal(400);
    const several = await fetch(await urlOf(await mint('/api/export?format=ndjson&endpoint=%2Fv1%2Fcharges&endpoint=%2Fv1%2Frefunds')));
    const endpoints = new Set((await several.text()).trim().split('\n').map((l) => (JSON.parse(l) as { endpoint: string }).endpoint));
    expect([...endpoints].sort()).to.deep.equal(['/v1/charges', '/v1/refunds'].filter((e) => FIXTURES.some((r) => r.endpoint === e)).sort());
    const unknown = await mint('/api/export?format=csv&colour=red');
    expect(((await unknown.json()) as { error: { code: string } }).error.code).to.equal('unknown_parameter');
    expect((await mint('/api/export?format=csv', null)).status).to.equal(401);
    expect((await mint('/api/export?format=csv', 'as_not-a-key')).status).to.equal(401);
  });

  it('refuses forged, tampered, expired and view-link tokens, and a download token as a key', async () => {
    const secret = await store().serverSecret(LINK_SECRET_NAME);
    const claims = { path: '/export?format=ndjson', principal: { name: 'x', companyId: null, admin: true }, nonce: 'n1' };
    const expired = signDownload(secret, { ...claims, exp: Math.floor(Date.now() / 1000) - 1 });
    expect((await fetch(`${base}/api/downloads/${expired}`)).status).to.equal(410);
    const forged = signDownload('another-secret-0123456789abcdefghijkl', { ...claims, exp: Math.floor(Date.now() / 1000) + 60 });
    expect((await fetch(`${base}/api/downloads/${forged}`)).status).to.equal(404);

    // A viewer's token with its scope rewritten to every company: the signature no longer holds.
    const url = await urlOf(await mint('/api/export?format=ndjson', viewer));
    const token = url.slice(url.lastIndexOf('/') + 1);
    const [payload, signature] = token.slice('asd1.'.length).split('.');
    const claimsJson = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claimsJson, c: null, a: true })).toString('base64url');
    expect((await fetch(`${base}/api/downloads/asd1.${widened}.${signature}`)).status).to.equal(404);

    const viewLink = signViewLink(secret, { companyId: 'acme', exp: Math.floor(Date.now() / 1000) + 600 });
    expect((await fetch(`${base}/api/downloads/${viewLink}`)).status).to.equal(404);
    expect((await fetch(`${base}/api/logs`, { headers: { authorization: `Bearer ${token}` } })).status).to.equal(401);
    expect((await fetch(`${base}/api/downloads/${token}`, { method: 'POST' })).status).to.not.equal(200);
    expect((await fetch(url)).status).to.equal(200);
  });
});
