/**
 * Shared by the browser tests and scripts/screenshots.ts: builds the UI into a temp
 * directory, serves it with the real query API over a real store, and launches
 * Debian's headless Chromium through playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createHttpApp } from '../../src/query-api';
import type { Store } from '../../src/store/types';
import { listen } from '../helpers/http';

export const CHROMIUM_PATH = process.env.AUDITSPAN_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = join(__dirname, '..', '..');

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Runs scripts/build-ui.mjs into a fresh temp directory; returns the directory. */
export function buildUi(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'auditspan-ui-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-ui.mjs'), '--out', dir], { cwd: ROOT, stdio: 'pipe' });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

export interface UiServer {
  base: string;
  close(): Promise<void>;
}

export async function startUiServer(options: { store: Store; uiDir: string; adminKey?: string; traceUrlTemplate?: string }): Promise<UiServer> {
  const app = createHttpApp({
    store: options.store,
    uiDir: options.uiDir,
    adminKey: options.adminKey,
    traceUrlTemplate: options.traceUrlTemplate ?? 'http://localhost:16686/trace/{traceId}?uiFind={spanId}',
    version: 'test',
    authFailureLimit: 1000,
  });
  const { base, close } = await listen(app);
  return { base, close };
}
