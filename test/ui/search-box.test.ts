/**
 * The search box in a real browser (Debian's headless Chromium): prefix searches, and pasting a
 * log link, a log id or a trace id jumps to that request's detail. Fails on any console error,
 * page error or CSP violation.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AuditRecord } from '../../src/record/types';
import { openStore, type SqlStore } from '../../src/store';
import { logId } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { REQUIRE_ALL } from '../helpers/stores';
import { searchJump } from '../../src/ui/search-box';
import { buildUi, chromiumAvailable, launchChromium, startUiServer, type UiServer } from './harness';

describe('search box in Chromium', function () {
  this.timeout(60_000);

  let browser: Browser;
  let ui: { dir: string; cleanup(): void };
  let dbDir: string;
  let store: SqlStore;
  let server: UiServer;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let target: AuditRecord;
  /** Three days old: outside the default 24 h range, found all the same. */
  let old: AuditRecord;

  before(async function () {
    if (!chromiumAvailable()) {
      if (REQUIRE_ALL) throw new Error('chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)');
      this.skip();
    }
    ui = buildUi();
    dbDir = mkdtempSync(join(tmpdir(), 'auditspan-ui-search-'));
    store = await openStore({ url: join(dbDir, 'audit.db') });
    const records = generateRecords(200, 8, { endMs: Date.now() - 60_000, spanMs: 20 * 3_600_000 });
    target = { ...records[17], requestHeaders: { 'x-request-id': 'req-ui-search-1' }, clientIp: '198.51.100.99', requestPayload: '{"memo":"aardvarkian"}' };
    records[17] = target;
    const [o] = generateRecords(1, 9, { endMs: Date.now() - 3 * 86_400_000, spanMs: 60_000 });
    old = { ...o, traceId: 'feedfacefeedfacefeedfacefeedface' };
    await store.insertBatch([...records, old]);
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
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  });

  afterEach(async function () {
    await context.close();
    if (this.currentTest?.state === 'failed') return;
    expect(problems.filter((p) => !/Failed to load resource.*400/.test(p)), 'browser console').to.deep.equal([]);
  });

  const rowIds = () => page.locator('tr.log-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
  const settled = () => page.waitForFunction(() => {
    const body = document.getElementById('logs-body');
    return body?.getAttribute('aria-busy') !== 'true' && body?.querySelector('tr.log-row, tr.state-row') !== null;
  });
  /**
   * Waits (bounded) until the list holds exactly these rows: after a jump the previous list stays
   * on screen until the filtered one arrives. The assertion after it says what was there instead.
   */
  const listShows = (ids: string[]) => page.waitForFunction(
    (want) => JSON.stringify([...document.querySelectorAll('tr.log-row')].map((r) => (r as HTMLElement).dataset.id)) === JSON.stringify(want),
    ids, { timeout: 10_000 },
  ).catch(() => undefined);
  /** Pastes text into the search box as a user would (a paste event, then the value). */
  const paste = (text: string) => page.locator('#f-q').evaluate((input: HTMLInputElement, value) => {
    input.focus();
    input.value = value;
    input.dispatchEvent(new Event('paste'));
    input.dispatchEvent(new Event('input'));
  }, text);
  const detailShows = async (record: AuditRecord) => {
    await page.waitForURL(new RegExp(`/logs/${logId(record)}`));
    await page.locator('#detail [data-field="url"]').first().waitFor();
    expect((await page.locator('#detail [data-field="url"]').first().textContent())?.trim()).to.equal(record.url);
  };

  it('finds a request by a prefix search and by a word of its payload', async () => {
    await page.goto(`${server.base}/`);
    await page.waitForSelector('tr.log-row');
    for (const q of ['requestId:req-ui-search-1', 'ip:198.51.100.99', 'aardvarkian']) {
      await page.fill('#f-q', q);
      await page.waitForURL(new RegExp(`q=${encodeURIComponent(q).replace(/%3A/g, '(%3A|:)')}`));
      await listShows([logId(target)]);
      expect(await rowIds(), q).to.deep.equal([logId(target)]);
    }
  });

  it('jumps to the request when an X-Request-Log-Url link is pasted', async () => {
    await page.goto(`${server.base}/`);
    await page.waitForSelector('tr.log-row');
    await paste(`https://api.example.com/audit/logs/${logId(target)}`);
    await detailShows(target);
    await listShows([logId(target)]);
    expect(await rowIds()).to.deep.equal([logId(target)]);
  });

  it('jumps to the request of a pasted trace id, even outside the time range', async () => {
    await page.goto(`${server.base}/`);
    await page.waitForSelector('tr.log-row');
    await paste(old.traceId);
    await detailShows(old);
    expect(await page.inputValue('#f-q')).to.equal(`traceId:${old.traceId}`);
  });

  it('says what is wrong with a bad search', async () => {
    await page.goto(`${server.base}/?q=${encodeURIComponent('colour:red')}`);
    await settled();
    expect(await page.locator('#logs-body').textContent()).to.contain('unknown search prefix "colour:"');
  });

  it('tells jumps from searches (pure)', () => {
    expect(searchJump(`http://localhost:8080/logs/${logId(target)}?range=1h`)).to.deep.equal({ kind: 'log', id: logId(target) });
    expect(searchJump(` ${logId(target)} `)).to.deep.equal({ kind: 'log', id: logId(target) });
    expect(searchJump('4BF92F3577B34DA6A3CE929D0E0E4736')).to.deep.equal({ kind: 'trace', q: 'traceId:4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(searchJump('card declined')).to.equal(null);
    expect(searchJump('https://api.example.com/v1/charges')).to.equal(null);
  });
});
