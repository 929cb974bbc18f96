/** Customer views opened from a view link, in Chromium: no key prompt, one company, expiry said plainly, framing. */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createHttpApp } from '../../src/query-api';
import { LINK_SECRET_NAME, signViewLink } from '../../src/query-api/links';
import { openStore, type SqlStore } from '../../src/store';
import { logId } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { listen } from '../helpers/http';
import { REQUIRE_ALL } from '../helpers/stores';
import { buildUi, chromiumAvailable, launchChromium } from './harness';

const ADMIN = 'admin-key-for-view-link-tests-0123456789';

describe('customer view links in Chromium', function () {
  this.timeout(90_000);
  let browser: Browser;
  let ui: { dir: string; cleanup(): void };
  let dbDir: string;
  let store: SqlStore;
  let server: { base: string; close(): Promise<void> };
  const records = generateRecords(150, 11, { endMs: Date.now() - 60_000, spanMs: 10 * 3_600_000 });
  const acme = records.filter((r) => r.companyId === 'acme').sort((a, b) => b.timestampUs - a.timestampUs);

  before(async function () {
    if (!chromiumAvailable()) {
      if (REQUIRE_ALL) throw new Error('chromium is not installed at /usr/bin/chromium');
      this.skip();
    }
    ui = buildUi();
    dbDir = mkdtempSync(join(tmpdir(), 'auditspan-link-ui-'));
    store = await openStore({ url: join(dbDir, 'audit.db') });
    await store.insertBatch(records);
    server = await listen(createHttpApp({
      store, uiDir: ui.dir, adminKey: ADMIN, version: 'test', authFailureLimit: 1000,
      frameAncestors: ['https://dashboard.example.com'], branding: { title: 'Acme API logs', accentColor: '#0a7f3f' },
    }));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
    ui?.cleanup();
  });

  it('opens a link straight into that company\'s logs, with no key prompt and the token gone from the address bar', async () => {
    const res = await fetch(`${server.base}/api/links`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ companyId: 'acme', ttlSeconds: 3600 }),
    });
    const { url } = (await res.json()) as { url: string };
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(`${r.url()} ${r.headers().referer ?? ''}`));
    try {
      const doc = await page.goto(url);
      expect(doc!.headers()['content-security-policy']).to.contain('frame-ancestors https://dashboard.example.com');
      await page.waitForSelector('tr.log-row');
      await page.waitForFunction(() => document.getElementById('scope')?.textContent === 'Company acme');
      expect(await page.locator('#key-dialog').isVisible()).to.equal(false);
      const ids = await page.locator('tr.log-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
      expect(ids).to.deep.equal(acme.slice(0, 50).map(logId));
      expect(page.url()).to.equal(`${server.base}/`);
      expect(await page.title()).to.equal('Acme API logs');
      await page.waitForFunction(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() === '#0a7f3f');
      // The token never left the browser in a URL or a Referer.
      const token = url.split('#link=')[1];
      expect(requested.filter((r) => r.includes(token))).to.deep.equal([]);
      // Another company's log is not there, even by permalink.
      const foreign = records.find((r) => r.companyId && r.companyId !== 'acme')!;
      const api = await page.evaluate(async (id) => (await fetch(`/api/logs/${id}`, { headers: { authorization: `Bearer ${sessionStorage.getItem('auditspan.key')}` } })).status, logId(foreign));
      expect(api).to.equal(404);
    } finally {
      await context.close();
    }
  });

  it('says plainly when the link has expired', async () => {
    const secret = await store.serverSecret(LINK_SECRET_NAME);
    const expired = signViewLink(secret, { companyId: 'acme', exp: Math.floor(Date.now() / 1000) - 60 });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${server.base}/view#link=${expired}`);
      await page.locator('.link-expired h1').waitFor();
      expect(await page.locator('.link-expired h1').textContent()).to.equal('This link has expired');
      expect(await page.locator('.link-expired-detail').textContent()).to.match(/expired at \d{4}-/);
      expect(await page.locator('tr.log-row').count()).to.equal(0);
      expect(await page.locator('#key-dialog').count()).to.equal(0);
    } finally {
      await context.close();
    }
  });
});
