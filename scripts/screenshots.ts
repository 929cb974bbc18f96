/**
 * Regenerates docs/screenshots/logs.png, detail.png, endpoints.png and phone.png (390 px wide):
 * builds the UI, seeds a
 * temp SQLite store with the demo's realistic traffic through the real OTLP receiver (so the
 * rows are mapped and redacted exactly as in `auditspan demo`), serves it with the real query
 * API and photographs it in headless Chromium at 1440×900.
 *
 *   npx tsx scripts/screenshots.ts [--dark] [--out docs/screenshots]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { seedHistory } from '../src/cli/demo/traffic';
import { startOtlpHttpReceiver } from '../src/receiver';
import { openStore } from '../src/store';
import { buildUi, launchChromium, startUiServer } from '../test/ui/harness';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dark = args.includes('--dark');
  const outFlag = args.indexOf('--out');
  const outDir = resolve(outFlag >= 0 ? args[outFlag + 1] : join(__dirname, '..', 'docs', 'screenshots'));
  mkdirSync(outDir, { recursive: true });

  const ui = buildUi();
  const dbDir = mkdtempSync(join(tmpdir(), 'auditspan-shots-'));
  const store = await openStore({ url: join(dbDir, 'audit.db') });
  const receiver = await startOtlpHttpReceiver({ store, port: 0 });
  const server = await startUiServer({ store, uiDir: ui.dir });
  const browser = await launchChromium();
  try {
    await seedHistory(`http://127.0.0.1:${receiver.port}/v1/traces`, 4000, 24);
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: dark ? 'dark' : 'light', deviceScaleFactor: 1 });
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(`${server.base}/`);
    await page.waitForSelector('tr.log-row');
    await page.waitForSelector('#chart-volume canvas');
    await page.waitForTimeout(300);
    const suffix = dark ? '-dark' : '';
    await page.screenshot({ path: join(outDir, `logs${suffix}.png`) });

    // A failed charge: a request payload (redacted card data) and an error response.
    await page.goto(`${server.base}/?endpoint=${encodeURIComponent('/v1/charges')}&status=4xx`);
    await page.waitForSelector('tr.log-row');
    await page.locator('tr.log-row').first().click();
    await page.waitForSelector('#detail [data-field="requestPayload"]');
    await page.mouse.move(0, 0);
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(outDir, `detail${suffix}.png`) });

    // The endpoints overview, compared with the previous 12 hours.
    await page.goto(`${server.base}/endpoints?range=12h`);
    await page.waitForSelector('tr.ep-row');
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(outDir, `endpoints${suffix}.png`) });

    // A phone, 390 px wide, with the charts hidden (Hide charts) so that the list shows.
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, colorScheme: dark ? 'dark' : 'light', deviceScaleFactor: 2 });
    await phone.addInitScript(() => localStorage.setItem('auditspan.charts', 'hidden'));
    await phone.goto(`${server.base}/?status=4xx,5xx`);
    await phone.waitForSelector('tr.log-row');
    await phone.waitForTimeout(300);
    await phone.screenshot({ path: join(outDir, `phone${suffix}.png`), fullPage: false });
    await phone.close();
    if (problems.length) console.warn(`browser reported:\n${problems.join('\n')}`);
    console.log(`screenshots written to ${outDir}`);
  } finally {
    await browser.close();
    await server.close();
    await receiver.close();
    await store.close();
    rmSync(dbDir, { recursive: true, force: true });
    ui.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
