/**
 * The endpoints page, the audit page, exports, the filters added for issue 20 and the layout at
 * phone, laptop and wide-screen sizes, in a real Chromium against the real API and SQLite store.
 * Layout is checked with bounding boxes (no overlap, columns with width, payloads in view).
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generateApiKey } from '../../src/query-api';
import type { AuditRecord } from '../../src/record/types';
import { openStore, type SqlStore } from '../../src/store';
import { logId, matches } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { REQUIRE_ALL } from '../helpers/stores';
import { buildUi, chromiumAvailable, launchChromium, startUiServer, type UiServer } from './harness';

const ADMIN = 'admin-key-for-ui-pages-0123456789';
type Box = { x: number; y: number; width: number; height: number };
const overlap = (a: Box, b: Box): boolean =>
  a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;

describe('web UI pages, filters and layout in Chromium', function () {
  this.timeout(90_000);

  let browser: Browser;
  let ui: { dir: string; cleanup(): void };
  let dbDir: string;
  let store: SqlStore;
  let server: UiServer;
  let bare: UiServer;
  let records: AuditRecord[];
  let viewerKey: string;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  before(async function () {
    if (!chromiumAvailable()) {
      if (REQUIRE_ALL) throw new Error('chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)');
      this.skip();
    }
    ui = buildUi();
    dbDir = mkdtempSync(join(tmpdir(), 'auditspan-ui-pages-'));
    store = await openStore({ url: join(dbDir, 'audit.db') });
    records = generateRecords(400, 31, { endMs: Date.now() - 60_000, spanMs: 20 * 3_600_000 })
      .map((r, i) => (i % 4 === 0 ? { ...r, service: 'ledger-api' } : r));
    // One request with a long payload: it must still be in view when opened on a laptop.
    records.push({
      ...records[0], spanId: 'feedfacefeedface', timestampUs: (Date.now() - 30_000) * 1000, status: 422, endpoint: '/v1/charges',
      method: 'POST', url: 'https://api.example.com/v1/charges', error: 'amount must be positive',
      requestPayload: JSON.stringify({ amount: -5, currency: 'eur', metadata: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, `v${i}`])) }),
      responsePayload: '{"error":"amount must be positive"}',
    });
    records.sort((a, b) => b.timestampUs - a.timestampUs);
    await store.insertBatch(records);
    const viewer = generateApiKey();
    viewerKey = viewer.key;
    await store.createApiKey({ name: 'acme-viewer', companyId: 'acme', hash: viewer.hash });
    server = await startUiServer({ store, uiDir: ui.dir, adminKey: ADMIN });
    // No trace link configured: the "Open in Jaeger" button must not appear.
    bare = await startUiServer({ store, uiDir: ui.dir, adminKey: ADMIN, traceUrlTemplate: '' });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await bare?.close();
    await store?.close();
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
    ui?.cleanup();
  });

  const open = async (width: number, height: number, key = ADMIN): Promise<void> => {
    problems = [];
    context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
    await context.addInitScript((k) => sessionStorage.setItem('auditspan.key', k), key);
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  };
  let allowed: RegExp | null = null;
  afterEach(async function () {
    await context?.close();
    if (this.currentTest?.state === 'failed') return;
    const ok = allowed;
    allowed = null;
    expect(problems.filter((p) => !(ok && ok.test(p))), 'browser console').to.deep.equal([]);
  });

  const box = async (selector: string): Promise<Box> => {
    const b = await page.locator(selector).first().boundingBox();
    expect(b, `${selector} is laid out`).to.not.equal(null);
    return b!;
  };
  const settled = () => page.waitForFunction(() => {
    const body = document.getElementById('logs-body');
    return body?.getAttribute('aria-busy') !== 'true' && body?.querySelector('tr.log-row, tr.state-row') !== null;
  });
  const rowIds = () => page.locator('tr.log-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
  const expectRows = async (keep: (r: AuditRecord) => boolean) => {
    await settled();
    expect(await rowIds()).to.deep.equal(records.filter(keep).slice(0, 50).map(logId));
  };

  for (const [width, height] of [[390, 844], [1280, 720], [1920, 1080]] as const) {
    it(`lays out the logs page, the detail and the endpoints page at ${width}×${height}`, async () => {
      await open(width, height);
      await page.goto(`${server.base}/`);
      await page.waitForSelector('tr.log-row');
      // Nothing wider than the screen, and the header's parts side by side or stacked, never on top of each other.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(width);
      const parts = ['.brand', '.tabs', '.live-switch', '.tz-field', '#scope'];
      const boxes = await Promise.all(parts.map(box));
      for (let i = 0; i < boxes.length; i++) {
        expect(boxes[i].x + boxes[i].width, `${parts[i]} inside the screen`).to.be.at.most(width + 0.5);
        for (let j = i + 1; j < boxes.length; j++) expect(overlap(boxes[i], boxes[j]), `${parts[i]} overlaps ${parts[j]}`).to.equal(false);
      }
      // Every visible column of the list has room; the endpoint column most of all.
      const endpointCell = await box('tr.log-row td.c-endpoint');
      expect(endpointCell.width).to.be.greaterThan(width < 500 ? 120 : 300);
      for (const cell of ['td.c-time', 'td.c-status', 'td.c-latency']) expect((await box(`tr.log-row ${cell}`)).width, cell).to.be.greaterThan(50);
      const filterBoxes = await Promise.all(['#f-endpoint', '#f-status', '#f-service', '.field-search', '#f-latency', '#f-latency-max'].map(box));
      for (let i = 0; i < filterBoxes.length; i++) for (let j = i + 1; j < filterBoxes.length; j++) expect(overlap(filterBoxes[i], filterBoxes[j])).to.equal(false);

      // The detail: the payload in view at once, beside or over the list, its header not cut.
      await page.locator(`tr.log-row[data-id="${logId(records[0])}"]`).click();
      const payload = page.locator('#detail [data-field="requestPayload"]');
      await payload.waitFor();
      const p = await payload.boundingBox();
      expect(p!.y, 'payload starts in the viewport').to.be.lessThan(height - 60);
      expect(p!.x + p!.width).to.be.at.most(width + 0.5);
      const title = await box('#detail .detail-title');
      expect(title.y).to.be.at.least(0);
      if (width >= 1500) {
        // Wide screens keep the list readable beside the panel.
        const table = await box('#logs-table');
        expect(overlap(table, await box('#detail'))).to.equal(false);
      }

      await page.goto(`${server.base}/endpoints`);
      await page.waitForSelector('tr.ep-row');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(width);
      const ep = await box('tr.ep-row td.c-endpoint');
      expect(ep.width).to.be.greaterThan(width < 500 ? 110 : 250);
      for (const col of ['count', 'errorRate', 'p95']) expect((await box(`tr.ep-row td[data-col="${col}"]`)).width, col).to.be.greaterThan(width < 500 ? 60 : 90);
      if (width >= 1280) expect((await box('tr.ep-row svg.spark')).width).to.be.greaterThan(50);
    });
  }

  it('collapses the charts and remembers it, bringing the list up on a laptop screen', async () => {
    await open(1280, 720);
    await page.goto(`${server.base}/`);
    await page.waitForSelector('tr.log-row');
    const before = (await box('#logs-table')).y;
    await page.click('#charts-toggle');
    expect(await page.locator('#overview').isHidden()).to.equal(true);
    const after = (await box('#logs-table')).y;
    expect(after).to.be.lessThan(before - 150);
    await page.reload();
    await page.waitForSelector('tr.log-row');
    expect(await page.locator('#overview').isHidden()).to.equal(true);
    expect(await page.locator('#charts-toggle').textContent()).to.equal('Show charts');
  });

  it('lists endpoints with their figures, sorts by any column in the URL, and opens the logs of a row', async () => {
    await open(1440, 900);
    await page.goto(`${server.base}/endpoints?range=24h`);
    await page.waitForSelector('tr.ep-row');
    const from = Date.now() - 24 * 3_600_000;
    const inWindow = records.filter((r) => r.timestampUs >= from * 1000);
    const keys = await page.locator('tr.ep-row').evaluateAll((rows) => rows.map((r) => `${(r as HTMLElement).dataset.method} ${(r as HTMLElement).dataset.endpoint}`));
    expect([...keys].sort()).to.deep.equal([...new Set(inWindow.map((r) => `${r.method} ${r.endpoint}`))].sort());
    const first = keys[0];
    const count = inWindow.filter((r) => `${r.method} ${r.endpoint}` === first).length;
    expect(await page.locator('tr.ep-row').first().locator('td[data-col="count"]').textContent()).to.match(new RegExp(`^${count}`));

    await page.click('th button[data-sort="p95"]');
    await page.waitForURL(/sort=-p95/);
    const p95 = await page.locator('tr.ep-row td[data-col="p95"]').allTextContents();
    const ms = p95.map((t) => { const v = parseFloat(t); return /\d s/.test(t) ? v * 1000 : v; });
    expect(ms).to.deep.equal([...ms].sort((a, b) => b - a));
    expect(await page.locator('th[aria-sort="descending"]').textContent()).to.contain('p95');
    await page.click('th button[data-sort="endpoint"]');
    await page.waitForURL(/sort=endpoint/);

    const row = page.locator('tr.ep-row').first();
    const endpoint = await row.getAttribute('data-endpoint');
    const method = await row.getAttribute('data-method');
    await row.click();
    await page.waitForURL((u) => u.pathname === '/' && u.searchParams.get('endpoint') === endpoint && u.searchParams.get('method') === method);
    await expectRows((r) => r.endpoint === endpoint && r.method === method && r.timestampUs >= from * 1000);
    await page.goBack();
    await page.waitForSelector('tr.ep-row');
    expect(page.url()).to.contain('/endpoints');
  });

  it('takes several values per filter, all errors, a service, a latency band and a relative range, all in the URL', async () => {
    await open(1440, 900);
    await page.goto(`${server.base}/`);
    await page.waitForSelector('tr.log-row');
    await page.click('#f-status .ms-button');
    await page.click('#f-status [data-shortcut="0"]');
    await page.keyboard.press('Escape');
    await page.waitForURL(/status=4xx,5xx/);
    await expectRows((r) => r.status >= 400);
    expect(await page.locator('#f-status .ms-button').textContent()).to.contain('+1');

    const tokens = [...new Set(records.map((r) => r.tokenName).filter((t): t is string => t !== null))].slice(0, 2);
    await page.click('#f-token .ms-button');
    for (const t of tokens) await page.locator(`#f-token input[value="${t}"]`).check();
    await page.keyboard.press('Escape');
    await page.waitForURL((u) => u.searchParams.getAll('token').length === 2);
    await expectRows((r) => r.status >= 400 && tokens.includes(r.tokenName ?? ''));

    await page.goto(`${server.base}/`);
    await page.click('#f-service .ms-button');
    await page.locator('#f-service input[value="ledger-api"]').check();
    await page.keyboard.press('Escape');
    await page.waitForURL(/service=ledger-api/);
    await page.fill('#f-latency', '20');
    await page.fill('#f-latency-max', '60');
    await page.waitForURL(/minLatencyMs=20&maxLatencyMs=60/);
    await expectRows((r) => matches(r, { services: ['ledger-api'], minLatencyMs: 20, maxLatencyMs: 60 }));

    await page.goto(`${server.base}/`);
    await page.click('[data-range="custom"]');
    await page.fill('#f-last-n', '90');
    await page.selectOption('#f-last-unit', 'm');
    await page.click('#apply-last');
    await page.waitForURL(/range=90m/);
    const since = (Date.now() - 90 * 60_000) * 1000;
    await expectRows((r) => r.timestampUs >= since);
    await page.reload();
    await settled();
    expect(await page.inputValue('#f-last-n')).to.equal('90');
  });

  it('compares with the previous period: deltas beside the figures and a previous line in the volume legend', async () => {
    await open(1440, 900);
    await page.goto(`${server.base}/?range=7h`);
    await page.waitForSelector('tr.log-row');
    await page.check('#compare-toggle');
    await page.waitForURL(/compare=previous/);
    await page.waitForSelector('#m-total .delta');
    const now = records.filter((r) => r.timestampUs >= (Date.now() - 7 * 3_600_000) * 1000).length;
    const before = records.filter((r) => r.timestampUs >= (Date.now() - 14 * 3_600_000) * 1000 && r.timestampUs < (Date.now() - 7 * 3_600_000) * 1000).length;
    const pct = Math.round(((now - before) / before) * 100);
    expect(await page.locator('#m-total .delta').textContent()).to.equal(pct === 0 ? '±0%' : `${pct > 0 ? '+' : '−'}${Math.abs(pct)}%`);
    expect(await page.locator('#legend-volume').textContent()).to.contain(`previous${before}`);
  });

  it('exports every matching row (not only the page) as CSV through the key, and the export appears in the audit', async () => {
    await open(1440, 900);
    await page.goto(`${server.base}/?status=2xx`);
    await page.waitForSelector('tr.log-row');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    expect(download.suggestedFilename()).to.match(/^auditspan-.*\.csv$/);
    // A one-time link the browser follows and saves as it arrives, not a blob held by the page.
    expect(download.url()).to.match(/^http:\/\/127\.0\.0\.1:\d+\/api\/downloads\/asd1\./);
    const text = readFileSync((await download.path())!, 'utf8');
    const lines = text.trim().split('\r\n');
    const since = (Date.now() - 24 * 3_600_000) * 1000;
    expect(lines[0]).to.match(/^id,timestamp,method/);
    expect(lines.length - 1).to.equal(records.filter((r) => r.status < 300 && r.status >= 200 && r.timestampUs >= since).length).and.to.be.greaterThan(50);
    await page.waitForFunction(() => document.getElementById('export-status')?.textContent?.startsWith('Export started'));

    // Open one log, then read the audit page: the view and the export, newest first, with the key name.
    await page.goto(`${server.base}/logs/${logId(records[3])}`);
    await page.locator('#detail [data-field="url"]').waitFor();
    await page.click('.tabs [data-page="views"]');
    await page.waitForURL(/\/views$/);
    await page.waitForSelector('tr.view-row');
    const first = await page.locator('tr.view-row').nth(0).locator('td').allTextContents();
    const second = await page.locator('tr.view-row').nth(1).locator('td').allTextContents();
    expect(first.slice(1, 5)).to.deep.equal(['View', 'admin', 'all (admin)', logId(records[3])]);
    expect(second[1]).to.equal('Export');
    expect(second[4]).to.contain('status=2xx').and.contain('format=csv');
    await page.selectOption('#v-kind', 'export');
    await page.waitForURL(/\/views\?kind=export/);
    await page.waitForFunction(() => [...document.querySelectorAll('tr.view-row')].every((r) => (r as HTMLElement).dataset.kind === 'export'));
    const [views] = await Promise.all([page.waitForEvent('download'), page.click('#views-export-ndjson')]);
    const exported = readFileSync((await views.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(exported.every((v) => v.kind === 'export')).to.equal(true);
  });

  it('hides the audit from a viewer key and says why on its page', async () => {
    await open(1440, 900, viewerKey);
    await page.goto(`${server.base}/views`);
    await page.waitForFunction(() => document.querySelector('#views-body .state-title')?.textContent === 'Admin key needed');
    expect(await page.locator('.tabs [data-page="views"]').isHidden()).to.equal(true);
    allowed = /status of 403/;
  });

  it('says in words that the server cannot be reached, and retries', async () => {
    await open(1440, 900);
    await page.route('**/api/logs?*', (route) => route.abort('connectionrefused'));
    await page.goto(`${server.base}/`);
    const state = page.locator('#logs-body .state-error');
    await state.waitFor();
    expect(await state.locator('.state-text').textContent()).to.contain('did not answer').and.not.contain('Failed to fetch');
    await page.unroute('**/api/logs?*');
    await state.locator('button', { hasText: 'Retry' }).click();
    await page.waitForSelector('tr.log-row');
    allowed = /ERR_CONNECTION_REFUSED/;
  });

  it('shows "Open in Jaeger" only when a trace link is configured', async () => {
    await open(1440, 900);
    await page.goto(`${bare.base}/logs/${logId(records[1])}`);
    await page.locator('#detail [data-action="copy-curl"]').waitFor();
    await page.waitForTimeout(300);
    expect(await page.locator('#detail [data-action="open-trace"]').count()).to.equal(0);
    await page.goto(`${server.base}/logs/${logId(records[1])}`);
    await page.locator('#detail [data-action="open-trace"]').waitFor();
  });

  it('shows status codes with their reason phrase in the list and the detail', async () => {
    await open(1440, 900);
    const r = records.find((x) => x.status === 404) ?? records[0];
    await page.goto(`${server.base}/logs/${logId(r)}`);
    await page.locator('#detail [data-field="status"]').waitFor();
    const phrase = r.status === 404 ? '404 Not Found' : String(r.status);
    expect(await page.locator('#detail [data-field="status"]').textContent()).to.equal(phrase);
    await page.waitForSelector(`tr.log-row[data-id="${logId(r)}"]`);
    expect(await page.locator(`tr.log-row[data-id="${logId(r)}"] td.c-status`).textContent()).to.equal(phrase.replace(' ', ''));
  });
});
