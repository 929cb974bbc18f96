/**
 * The web UI in a real browser (Debian's headless Chromium through playwright-core),
 * served by the real query API over a real SQLite store. Every test also fails on a
 * console error, an uncaught page error or a CSP violation.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generateApiKey } from '../../src/query-api';
import { startOtlpHttpReceiver } from '../../src/receiver';
import type { AuditRecord } from '../../src/record/types';
import { openStore, type SqlStore } from '../../src/store';
import { logId } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { REQUIRE_ALL } from '../helpers/stores';
import { buildUi, chromiumAvailable, launchChromium, startUiServer, type UiServer } from './harness';

const XSS = '<img src=x onerror="window.__xss=1">';

let specials = 0;
/** A record `ageMs` old with its own trace and span ids. */
function special(overrides: Partial<AuditRecord>, ageMs: number): AuditRecord {
  const [base] = generateRecords(1, 1000 + ++specials);
  return { ...base, timestampUs: (Date.now() - ageMs) * 1000, ...overrides };
}

describe('web UI in Chromium', function () {
  this.timeout(60_000);

  let browser: Browser;
  let ui: { dir: string; cleanup(): void };
  let dbDir: string;
  let store: SqlStore;
  let server: UiServer;
  let records: AuditRecord[];
  let failedCharge: AuditRecord;
  let xssRecord: AuditRecord;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  /** Resource errors a test provokes on purpose (the browser logs a 401 or 404 response). */
  let expectedConsole: RegExp | null;

  before(async function () {
    if (!chromiumAvailable()) {
      if (REQUIRE_ALL) throw new Error('chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)');
      this.skip();
    }
    ui = buildUi();
    dbDir = mkdtempSync(join(tmpdir(), 'auditspan-ui-test-'));
    store = await openStore({ url: join(dbDir, 'audit.db') });
    // 300 ordinary rows over the last 20 hours, plus two hand-made ones a minute old.
    records = generateRecords(300, 7, { endMs: Date.now() - 5 * 60_000, spanMs: 20 * 3_600_000 });
    failedCharge = special({
      method: 'POST', endpoint: '/v1/charges', url: 'https://api.example.com/v1/charges', status: 402,
      tokenName: 'prod-billing', companyId: 'acme', clientIp: '198.51.100.7', userAgent: 'acme-sdk/2.1 node/20',
      requestPayload: '{"amount":4200,"card":"[REDACTED]","email":"[REDACTED:email]"}',
      responsePayload: '{"error":{"code":"card_declined","message":"Your card was declined."}}',
      error: 'Your card was declined.',
    }, 60_000);
    xssRecord = special({
      method: 'GET', endpoint: XSS, url: `https://api.example.com/v1/search?q=${encodeURIComponent(XSS)}`, status: 400,
      tokenName: '<script>window.__xss=2</script>', companyId: 'globex', userAgent: '<script>window.__xss=3</script>',
      requestPayload: `{"note":"${XSS.replace(/"/g, '\\"')}"}`,
      responsePayload: `{"error":"${XSS.replace(/"/g, '\\"')}"}`, error: `bad query ${XSS}`,
    }, 90_000);
    await store.insertBatch([...records, failedCharge, xssRecord]);
    records.push(failedCharge, xssRecord);
    records.sort((a, b) => b.timestampUs - a.timestampUs);
    server = await startUiServer({ store, uiDir: ui.dir });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
    ui?.cleanup();
  });

  beforeEach(async () => {
    problems = [];
    expectedConsole = null;
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  });

  afterEach(async function () {
    const xss = await page.evaluate(() => (window as unknown as { __xss?: number }).__xss).catch(() => undefined);
    await context.close();
    if (this.currentTest?.state === 'failed') return;
    expect(xss, 'injected markup ran').to.equal(undefined);
    const expected = expectedConsole;
    expect(problems.filter((p) => !(expected && /Failed to load resource/.test(p) && expected.test(p))), 'browser console').to.deep.equal([]);
  });

  /** Ticks `value` in the multi-select `id` (its list opens and closes again). */
  const pick = async (id: string, value: string) => {
    await page.click(`#${id} .ms-button`);
    await page.locator(`#${id} input[type="checkbox"][value="${value}"]`).check();
    await page.keyboard.press('Escape');
  };
  const picked = (id: string) => page.locator(`#${id} .ms-button`).textContent();
  const rowIds = () => page.locator('tr.log-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
  const waitForRows = () => page.waitForSelector('tr.log-row');
  /** Waits for the table to settle after a navigation (aria-busy off, rows or a state row). */
  const settled = () => page.waitForFunction(() => {
    const body = document.getElementById('logs-body');
    return body?.getAttribute('aria-busy') !== 'true' && body?.querySelector('tr.log-row, tr.state-row') !== null;
  });

  it('lists the newest requests first, 50 to a page, with their columns', async () => {
    await page.goto(`${server.base}/`);
    await waitForRows();
    const ids = await rowIds();
    expect(ids).to.deep.equal(records.slice(0, 50).map(logId));
    const first = page.locator(`tr.log-row[data-id="${logId(failedCharge)}"]`);
    expect(await first.locator('.method').textContent()).to.equal('POST');
    expect(await first.locator('.endpoint').textContent()).to.equal('/v1/charges');
    expect(await first.locator('.badge').textContent()).to.equal('402');
    expect(await first.locator('.token').textContent()).to.equal('prod-billing');
    expect(await first.locator('.row-error').textContent()).to.equal('Your card was declined.');
    expect(await page.locator('#m-total').textContent()).to.equal(String(records.length));
  });

  it('filters by status class and method, keeps them in the URL, and back restores the previous view', async () => {
    await page.goto(`${server.base}/`);
    await waitForRows();
    await pick('f-status', '5xx');
    await page.waitForURL(/\?status=5xx$/);
    await settled();
    const statuses = await page.locator('tr.log-row .badge').allTextContents();
    const expected5xx = records.filter((r) => r.status >= 500);
    expect(statuses).to.have.length(Math.min(50, expected5xx.length)).and.to.satisfy((s: string[]) => s.every((x) => x.startsWith('5')));
    expect(await rowIds()).to.deep.equal(expected5xx.slice(0, 50).map(logId));

    await page.locator('#f-methods [data-method="POST"]').click();
    await page.waitForURL(/status=5xx&method=POST/);
    await settled();
    const want = records.filter((r) => r.status >= 500 && r.method === 'POST').slice(0, 50).map(logId);
    expect(await rowIds()).to.deep.equal(want);
    expect(await page.locator('#f-methods [data-method="POST"]').getAttribute('aria-pressed')).to.equal('true');

    await page.goBack();
    await page.waitForURL(/\?status=5xx$/);
    await settled();
    expect(await rowIds()).to.deep.equal(expected5xx.slice(0, 50).map(logId));
    expect(await picked('f-status')).to.equal('5xx');
  });

  it('filters by endpoint, token, minimum latency and time range, each reflected in the URL', async () => {
    await page.goto(`${server.base}/`);
    await waitForRows();
    const expectRows = async (keep: (r: AuditRecord) => boolean) => {
      await settled();
      expect(await rowIds()).to.deep.equal(records.filter(keep).slice(0, 50).map(logId));
    };
    await pick('f-endpoint', '/v1/charges');
    await page.waitForURL(/\?endpoint=\/v1\/charges$/);
    await expectRows((r) => r.endpoint === '/v1/charges');

    await pick('f-token', 'prod-billing');
    await page.waitForURL(/endpoint=\/v1\/charges&token=prod-billing$/);
    await expectRows((r) => r.endpoint === '/v1/charges' && r.tokenName === 'prod-billing');

    await page.goto(`${server.base}/`);
    await waitForRows();
    await page.fill('#f-latency', '120');
    await page.waitForURL(/\?minLatencyMs=120$/);
    await expectRows((r) => r.latencyMs >= 120);

    await page.goto(`${server.base}/`);
    await waitForRows();
    await page.click('[data-range="1h"]');
    await page.waitForURL(/\?range=1h$/);
    const hourAgo = (Date.now() - 3_600_000) * 1000;
    await expectRows((r) => r.timestampUs >= hourAgo);

    // A custom window: rows between 10 and 6 hours ago, in UTC.
    const from = new Date(Date.now() - 10 * 3_600_000);
    const to = new Date(Date.now() - 6 * 3_600_000);
    from.setUTCSeconds(0, 0);
    to.setUTCSeconds(0, 0);
    await page.click('[data-range="custom"]');
    await page.fill('#f-from', from.toISOString().slice(0, 16));
    await page.fill('#f-to', to.toISOString().slice(0, 16));
    await page.click('#apply-range');
    await page.waitForURL(new RegExp(`from=${from.toISOString().slice(0, 16)}:00Z&to=${to.toISOString().slice(0, 16)}:00Z`));
    await expectRows((r) => r.timestampUs >= from.getTime() * 1000 && r.timestampUs < to.getTime() * 1000);
  });

  it('searches URLs and error messages as the user types (debounced) and shows an empty state when nothing matches', async () => {
    await page.goto(`${server.base}/`);
    await waitForRows();
    await page.fill('#f-q', 'declined');
    await page.waitForURL(/\?q=declined$/);
    await settled();
    expect(await rowIds()).to.deep.equal([logId(failedCharge)]);

    await page.fill('#f-q', 'no-such-thing-anywhere');
    await page.waitForURL(/q=no-such-thing-anywhere/);
    await settled();
    expect(await page.locator('#logs-body .state-empty .state-title').textContent()).to.contain('No requests match');
    await page.locator('.state-empty [data-action="clear"]').click();
    await page.waitForURL(`${server.base}/`);
    await waitForRows();
  });

  it('opens a permalink straight into the detail panel with every field, filters applied', async () => {
    await page.goto(`${server.base}/logs/${logId(failedCharge)}?status=4xx`);
    const detail = page.locator('#detail');
    await detail.locator('[data-field="requestPayload"]').waitFor();
    const text = async (field: string) => (await detail.locator(`[data-field="${field}"]`).first().textContent())?.trim();
    expect(await detail.locator('.detail-title').textContent()).to.contain('/v1/charges');
    expect(await text('url')).to.equal('https://api.example.com/v1/charges');
    expect(await text('tokenName')).to.equal('prod-billing');
    expect(await text('clientIp')).to.equal('198.51.100.7');
    expect(await text('companyId')).to.equal('acme');
    expect(await text('error')).to.equal('Your card was declined.');
    expect(await text('requestPayload')).to.contain('[REDACTED]').and.contain('4200');
    expect(await text('responsePayload')).to.contain('card_declined');
    expect(await picked('f-status')).to.equal('4xx');
    await waitForRows();
    expect(await page.locator('tr.log-row[aria-selected="true"]').getAttribute('data-id')).to.equal(logId(failedCharge));
  });

  it('says that a successful response payload is not stored, and links the trace', async () => {
    const ok = records.find((r) => r.status >= 200 && r.status < 300)!;
    await page.goto(`${server.base}/logs/${logId(ok)}`);
    const note = page.locator('#detail [data-field="responsePayload"]');
    await note.waitFor();
    expect(await note.textContent()).to.contain('kept for failures only (status 400 and above)');
    const href = await page.locator('#detail a', { hasText: 'Jaeger' }).getAttribute('href');
    expect(href).to.equal(`http://localhost:16686/trace/${ok.traceId}?uiFind=${ok.spanId}`);
  });

  it('says the same of a 3xx response: payloads are kept for failures only', async () => {
    const redirect = records.find((r) => r.status >= 300 && r.status < 400)!;
    await page.goto(`${server.base}/logs/${logId(redirect)}`);
    const note = page.locator('#detail [data-field="responsePayload"]');
    await note.waitFor();
    expect(await note.textContent()).to.contain('kept for failures only (status 400 and above)');
  });

  it('says so when a permalinked request does not exist', async () => {
    await page.goto(`${server.base}/logs/${'0'.repeat(32)}-${'0'.repeat(16)}`);
    await page.locator('#detail .state-title').waitFor();
    expect(await page.locator('#detail .state-title').textContent()).to.equal('Request not found');
    expectedConsole = /status of 404/;
  });

  it('renders hostile endpoints, tokens, URLs and payloads as text', async () => {
    await page.goto(`${server.base}/logs/${logId(xssRecord)}`);
    await page.locator('#detail [data-field="responsePayload"]').waitFor();
    await waitForRows();
    const row = page.locator(`tr.log-row[data-id="${logId(xssRecord)}"]`);
    expect(await row.locator('.endpoint').textContent()).to.equal(XSS);
    expect(await row.locator('.token').textContent()).to.equal('<script>window.__xss=2</script>');
    expect(await page.locator('#detail .detail-title').textContent()).to.contain(XSS);
    expect(await page.locator('#detail [data-field="userAgent"]').textContent()).to.equal('<script>window.__xss=3</script>');
    expect(await page.locator('#detail [data-field="requestPayload"]').textContent()).to.contain('<img src=x onerror=');
    expect(await page.locator('img[src="x"]').count()).to.equal(0);
    expect(await page.locator('#logs-body script, #detail script').count()).to.equal(0);
  });

  it('moves with j/k, opens with Enter, closes with Escape, and focuses search with /', async () => {
    await page.goto(`${server.base}/`);
    await waitForRows();
    const ids = await rowIds();
    await page.locator('body').press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${server.base}/logs/${ids[1]}`);
    await page.locator('#detail .detail-title').waitFor();
    await page.keyboard.press('j');
    await page.waitForURL(`${server.base}/logs/${ids[2]}`);
    await page.keyboard.press('k');
    await page.waitForURL(`${server.base}/logs/${ids[1]}`);
    await page.keyboard.press('Escape');
    await page.waitForURL(`${server.base}/`);
    expect(await page.locator('#detail').isHidden()).to.equal(true);
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('f-q');
  });

  it('loads further pages as the user scrolls, without repeating a row', async () => {
    await page.goto(`${server.base}/`);
    await waitForRows();
    await page.locator('#scroll-sentinel').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelectorAll('tr.log-row').length > 50);
    for (let i = 0; i < 10 && (await page.locator('tr.log-row').count()) < records.length; i++) {
      await page.mouse.wheel(0, 20_000);
      await page.waitForTimeout(150);
    }
    await page.waitForFunction((n) => document.querySelectorAll('tr.log-row').length === n, records.length);
    expect(await rowIds()).to.deep.equal(records.map(logId));
    expect(await page.locator('#result-status').textContent()).to.contain('end of results');
  });

  it('shows new requests at the top while live tail is on', async () => {
    await page.goto(`${server.base}/`);
    await waitForRows();
    await page.locator('#live-toggle').check({ force: true });
    // Ingested the way production data arrives: an OTLP/JSON span through the receiver.
    const receiver = await startOtlpHttpReceiver({ store, port: 0 });
    const traceId = 'feedface'.repeat(4);
    const spanId = 'c0ffee00c0ffee00';
    const startNs = BigInt(Date.now()) * 1_000_000n;
    const res = await fetch(`http://127.0.0.1:${receiver.port}/v1/traces`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'live-svc' } }] }, scopeSpans: [{ spans: [{
        traceId, spanId, name: 'POST /v1/live-arrival', kind: 2, startTimeUnixNano: String(startNs), endTimeUnixNano: String(startNs + 7_000_000n),
        attributes: [
          { key: 'http.request.method', value: { stringValue: 'POST' } }, { key: 'url.path', value: { stringValue: '/v1/live-arrival' } },
          { key: 'http.route', value: { stringValue: '/v1/live-arrival' } }, { key: 'http.response.status_code', value: { intValue: '201' } },
        ],
      }] }] }] }),
    });
    await receiver.close();
    expect(res.status).to.equal(200);
    const liveId = `${startNs / 1000n}-${spanId}`;
    await page.locator(`tr.log-row[data-id="${liveId}"]`).waitFor({ timeout: 10_000 });
    expect((await rowIds())[0]).to.equal(liveId);
    const fresh = special({ traceId, spanId, endpoint: '/v1/live-arrival', companyId: null, timestampUs: Number(startNs / 1000n) }, 0);
    expect(await page.locator('#live-state').textContent()).to.equal('Live');
    await page.locator('#live-toggle').uncheck({ force: true });
    records.unshift(fresh);
  });

  it('switches times between UTC, the browser zone and a named zone, 24-hour, and remembers the choice', async () => {
    await context.close();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, timezoneId: 'Asia/Tokyo' });
    page = await context.newPage();
    await page.goto(`${server.base}/logs/${logId(failedCharge)}`);
    await page.locator('#detail .detail-sub').waitFor();
    const utc = new Date(failedCharge.timestampUs / 1000).toISOString().slice(11, 16);
    expect(await page.locator('#detail .detail-sub').textContent()).to.contain(utc).and.contain('UTC');
    await page.selectOption('#tz-select', 'local');
    const tokyo = new Date(failedCharge.timestampUs / 1000 + 9 * 3_600_000).toISOString().slice(11, 16);
    await page.waitForFunction((t) => document.querySelector('#detail .detail-sub')?.textContent?.includes(t), tokyo);
    expect(await page.locator('#detail .detail-sub').textContent()).to.contain('UTC+09:00');
    expect(await page.locator('#th-time').textContent()).to.equal('Time (Asia/Tokyo)');
    await page.reload();
    await page.locator('#detail .detail-sub').waitFor();
    expect(await page.inputValue('#tz-select')).to.equal('local');
    // A named zone other than the browser's: New York, UTC−5 in December (no DST), 24-hour clock.
    await page.selectOption('#tz-select', 'America/New_York');
    const ny = new Date(failedCharge.timestampUs / 1000 - 5 * 3_600_000);
    const nyText = ny.toISOString().slice(11, 16);
    await page.waitForFunction((t) => document.querySelector('#detail .detail-sub')?.textContent?.includes(t), nyText);
    expect(await page.locator('#detail .detail-sub').textContent()).to.contain('UTC-05:00');
    expect(await page.locator('#th-time').textContent()).to.equal('Time (America/New_York)');
    const cell = await page.locator(`tr.log-row[data-id="${logId(failedCharge)}"] .c-time`).textContent();
    expect(cell).to.contain(nyText).and.not.match(/[AP]M/i);
    // The custom range is typed and shown in the same zone.
    await page.goto(`${server.base}/`);
    await page.click('[data-range="custom"]');
    expect(await page.locator('#f-from-label').textContent()).to.equal('From (America/New_York)');
    await page.fill('#f-from', '2026-11-20T09:00');
    await page.fill('#f-to', '2026-11-20T10:30');
    await page.click('#apply-range');
    await page.waitForURL(/from=/);
    const params = new URL(page.url()).searchParams;
    expect([params.get('from'), params.get('to')]).to.deep.equal(['2026-11-20T14:00:00Z', '2026-11-20T15:30:00Z']);
    await page.reload();
    await page.locator('#f-from').waitFor();
    expect([await page.inputValue('#f-from'), await page.inputValue('#f-to')]).to.deep.equal(['2026-11-20T09:00', '2026-11-20T10:30']);
    await page.selectOption('#tz-select', 'utc');
    await page.waitForFunction(() => (document.querySelector('#f-from') as HTMLInputElement).value === '2026-11-20T14:00');
    expect(await page.locator('#f-to-label').textContent()).to.equal('To (UTC)');
  });

  describe('with API keys', () => {
    let keyed: UiServer;
    let viewerKey: string;

    before(async () => {
      const viewer = generateApiKey();
      viewerKey = viewer.key;
      await store.createApiKey({ name: 'acme-support', companyId: 'acme', hash: viewer.hash });
      keyed = await startUiServer({ store, uiDir: ui.dir, adminKey: 'admin-key-for-ui-tests-0123456789' });
    });

    after(async () => {
      await keyed?.close();
      await store.revokeApiKey('acme-support');
    });

    it('asks for a key, refuses a wrong one, and then shows only the key\'s company', async () => {
      await page.goto(`${keyed.base}/`);
      const dialog = page.locator('#key-dialog');
      await dialog.waitFor({ state: 'visible' });
      await page.fill('#key-input', 'not-a-real-key');
      await page.click('#key-form button[value="ok"]');
      await page.waitForFunction(() => document.getElementById('key-reason')?.classList.contains('is-error'));
      expect(await page.locator('#key-reason').textContent()).to.contain('not accepted');
      await page.fill('#key-input', viewerKey);
      await page.click('#key-form button[value="ok"]');
      await waitForRows();
      await page.waitForFunction(() => document.getElementById('scope')?.textContent === 'Company acme');
      const acme = records.filter((r) => r.companyId === 'acme');
      expect(await rowIds()).to.deep.equal(acme.slice(0, 50).map(logId));
      await page.waitForFunction((n) => document.getElementById('m-total')?.textContent === n, String(acme.length));
      // Another company's log is not there, even by permalink.
      await page.goto(`${keyed.base}/logs/${logId(xssRecord)}`);
      await page.locator('#detail .state-title').waitFor();
      expect(await page.locator('#detail .state-title').textContent()).to.equal('Request not found');
      // The key lives in sessionStorage, not localStorage, and signing out forgets it.
      expect(await page.evaluate(() => [sessionStorage.getItem('auditspan.key') !== null, localStorage.getItem('auditspan.key')]))
        .to.deep.equal([true, null]);
      await page.click('#sign-out');
      await dialog.waitFor({ state: 'visible' });
      expect(await page.evaluate(() => sessionStorage.getItem('auditspan.key'))).to.equal(null);
      expectedConsole = /status of (401|404)/;
    });
  });
});
