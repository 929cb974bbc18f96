import { expect } from 'chai';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpApp } from '../../src/query-api';
import { LINK_SECRET_NAME, signViewLink } from '../../src/query-api/links';
import { generateRecords } from '../helpers/fixtures';
import { listen, serveWithAcmeViewer } from '../helpers/http';
import { logId } from '../helpers/expected';
import { createTestStore, forEachStore } from '../helpers/stores';
import { runCli } from '../cli/run-cli';

const ADMIN = 'admin-key-for-link-tests-0123456789-abcdef';
const FIXTURES = generateRecords(120, 7, { endMs: Date.UTC(2026, 10, 20), spanMs: 86_400_000 });

forEachStore('view links (POST /api/links)', ({ store, url }) => {
  let base = '';
  let close: () => Promise<void> = async () => undefined;
  let viewer = '';
  const acme = FIXTURES.filter((r) => r.companyId === 'acme');
  const other = FIXTURES.find((r) => r.companyId !== null && r.companyId !== 'acme')!;
  const mint = (body: unknown, key: string = ADMIN) =>
    fetch(`${base}/api/links`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const tokenOf = (u: string) => /#link=(.+)$/.exec(u)![1];
  const get = (path: string, token: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    expect(acme.length).to.be.greaterThan(0);
    ({ base, viewer, close } = await serveWithAcmeViewer(store(), FIXTURES, ADMIN));
  });
  after(() => close());

  it('mints a signed, expiring link whose token sits in the fragment only', async () => {
    const before = Date.now();
    const res = await mint({ companyId: 'acme', ttlSeconds: 3600 });
    expect(res.status).to.equal(201);
    const body = (await res.json()) as { url: string; expiresAt: string };
    expect(Object.keys(body).sort()).to.deep.equal(['expiresAt', 'url']);
    expect(body.url).to.match(new RegExp(`^${base}/view#link=asl1\\.[\\w-]+\\.[\\w-]+$`));
    const expires = Date.parse(body.expiresAt);
    expect(expires).to.be.within(before + 3599_000, Date.now() + 3601_000);
  });

  it('scopes every route to the link\'s company exactly like a viewer key', async () => {
    const token = tokenOf(((await (await mint({ companyId: 'acme', ttlSeconds: 600 })).json()) as { url: string }).url);
    expect(await (await get('/api/whoami', token)).json()).to.deep.equal({ name: 'link:acme', companyId: 'acme', admin: false });
    for (const path of ['/api/logs?limit=500', '/api/logs?limit=500&company=' + other.companyId]) {
      const page = (await (await get(path, token)).json()) as { data: Array<{ id: string }> };
      const viaViewer = (await (await get(path, viewer)).json()) as { data: Array<{ id: string }> };
      expect(page.data.map((l) => l.id)).to.deep.equal(viaViewer.data.map((l) => l.id));
      expect(page.data).to.have.length(acme.length);
    }
    expect((await get(`/api/logs/${logId(acme[0])}`, token)).status).to.equal(200);
    expect((await get(`/api/logs/${logId(other)}`, token)).status).to.equal(404);
    expect(((await (await get('/api/stats', token)).json()) as { total: number }).total).to.equal(acme.length);
    const csv = await (await get('/api/export?format=ndjson', token)).text();
    expect(csv.trim().split('\n')).to.have.length(acme.length);
    // A link is not an admin: it cannot mint links.
    expect((await mint({ companyId: 'acme', ttlSeconds: 600 }, token)).status).to.equal(403);
  });

  it('says plainly that an expired link expired, and refuses a tampered one', async () => {
    const secret = await store().serverSecret(LINK_SECRET_NAME);
    const expired = signViewLink(secret, { companyId: 'acme', exp: Math.floor(Date.now() / 1000) - 5 });
    const res = await get('/api/logs', expired);
    expect(res.status).to.equal(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal('link_expired');
    expect(body.error.message).to.match(/^this view link expired at \d{4}-/);

    const good = signViewLink(secret, { companyId: 'acme', exp: Math.floor(Date.now() / 1000) + 600 });
    const [payload, sig] = good.slice('asl1.'.length).split('.');
    const widened = Buffer.from(JSON.stringify({ c: other.companyId, e: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
    const longer = Buffer.from(JSON.stringify({ c: 'acme', e: Math.floor(Date.now() / 1000) + 10 ** 8 })).toString('base64url');
    for (const bad of [`asl1.${widened}.${sig}`, `asl1.${longer}.${sig}`, `asl1.${payload}.${sig.slice(0, -2)}AA`, `asl1.${payload}`, signViewLink('another-secret', { companyId: 'acme', exp: Math.floor(Date.now() / 1000) + 600 })]) {
      const r = await get('/api/logs', bad);
      expect(r.status, bad).to.equal(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).to.equal('unauthorized');
    }
  });

  it('lets only the admin key mint links, and validates the request', async () => {
    expect((await mint({ companyId: 'acme', ttlSeconds: 600 }, viewer)).status).to.equal(403);
    expect((await mint({ companyId: 'acme', ttlSeconds: 600 }, 'nope')).status).to.equal(401);
    for (const [body, param] of [[{ ttlSeconds: 600 }, 'companyId'], [{ companyId: '', ttlSeconds: 600 }, 'companyId'], [{ companyId: 'acme', ttlSeconds: 10 }, 'ttlSeconds'],
      [{ companyId: 'acme', ttlSeconds: '600' }, 'ttlSeconds'], [{ companyId: 'acme', ttlSeconds: 10 ** 9 }, 'ttlSeconds']] as const) {
      const r = await mint(body);
      expect(r.status, JSON.stringify(body)).to.equal(400);
      expect(((await r.json()) as { error: { param: string } }).error.param).to.equal(param);
    }
    const broken = await fetch(`${base}/api/links`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{"companyId":' });
    expect(broken.status).to.equal(400);
  });

  it('keeps links valid across a restart (the secret lives in the database) and revokes them all on rotation', async function () {
    this.timeout(60_000);
    const link = ((await (await mint({ companyId: 'acme', ttlSeconds: 600 })).json()) as { url: string }).url;
    const second = await listen(createHttpApp({ store: store(), adminKey: ADMIN }));
    try {
      const r = await fetch(`${second.base}/api/whoami`, { headers: { authorization: `Bearer ${tokenOf(link)}` } });
      expect(r.status).to.equal(200);
      // The CLI mints links with the same secret.
      const cli = await runCli(['links', 'create', '--company', 'acme', '--ttl', '2h', '--json', '--public-url', 'https://logs.example.com', '--db', url()]);
      expect(cli.code, cli.stderr).to.equal(0);
      const made = JSON.parse(cli.stdout) as { url: string; expiresAt: string };
      expect(made.url).to.match(/^https:\/\/logs\.example\.com\/view#link=asl1\./);
      expect(Date.parse(made.expiresAt) - Date.now()).to.be.within(2 * 3600_000 - 60_000, 2 * 3600_000 + 1000);
      expect((await fetch(`${second.base}/api/whoami`, { headers: { authorization: `Bearer ${tokenOf(made.url)}` } })).status).to.equal(200);
      const rotated = await runCli(['links', 'rotate-secret', '--db', url()]);
      expect(rotated.code, rotated.stderr).to.equal(0);
      const fresh = await listen(createHttpApp({ store: store(), adminKey: ADMIN }));
      try {
        expect((await fetch(`${fresh.base}/api/whoami`, { headers: { authorization: `Bearer ${tokenOf(made.url)}` } })).status).to.equal(401);
      } finally {
        await fresh.close();
      }
    } finally {
      await second.close();
    }
  });
});

describe('view links: CLI errors, framing and branding', function () {
  this.timeout(60_000);
  it('refuses a missing company or a bad --ttl in one line', async () => {
    const db = join(tmpdir(), `links-${process.pid}.db`);
    const none = await runCli(['links', 'create', '--ttl', '1h', '--db', db]);
    expect(none.stderr).to.equal('auditspan: links create: --company <id> is required (at most 256 characters)\n');
    const bad = await runCli(['links', 'create', '--company', 'acme', '--ttl', 'soon', '--db', db]);
    expect(bad.stderr).to.match(/^auditspan: --ttl: "soon" is not a duration/);
    expect(bad.code).to.equal(2);
  });

  it('is not frameable by default; frameable from the configured origins only; serves the branding', async () => {
    const t = await createTestStore('sqlite');
    const plain = await listen(createHttpApp({ store: t.store }));
    const framed = await listen(createHttpApp({
      store: t.store, frameAncestors: ['https://dashboard.example.com'],
      branding: { title: 'Acme API logs', logoUrl: 'https://cdn.example.com/logo.svg', accentColor: '#0a7' },
    }));
    try {
      const a = await fetch(`${plain.base}/api/branding`);
      expect(a.headers.get('content-security-policy')).to.contain("frame-ancestors 'none'");
      expect(a.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
      expect(await a.json()).to.deep.equal({ title: null, logoUrl: null, accentColor: null });
      const b = await fetch(`${framed.base}/api/branding`);
      const csp = b.headers.get('content-security-policy')!;
      expect(csp).to.contain('frame-ancestors https://dashboard.example.com').and.contain('img-src \'self\' data: https://cdn.example.com');
      expect(b.headers.get('x-frame-options')).to.equal(null);
      expect(await b.json()).to.deep.equal({ title: 'Acme API logs', logoUrl: 'https://cdn.example.com/logo.svg', accentColor: '#0a7' });
    } finally {
      await plain.close();
      await framed.close();
      await t.cleanup();
    }
  });
});
