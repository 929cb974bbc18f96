// Bundles the web UI (src/ui) into dist/ui with esbuild: one JS file (app.js), one CSS file
// (style.css, with uPlot's CSS bundled in) and index.html, no CDN, so the UI works offline and
// under a strict CSP. `node scripts/build-ui.mjs [--out DIR]`; prints the gzipped sizes.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src', 'ui');
const outFlag = process.argv.indexOf('--out');
const out = outFlag > 0 && process.argv[outFlag + 1] ? resolve(process.argv[outFlag + 1]) : join(root, 'dist', 'ui');
mkdirSync(out, { recursive: true });

if (existsSync(join(src, 'main.ts'))) {
  await build({
    entryPoints: { app: join(src, 'main.ts'), style: join(src, 'style.css') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    outdir: out,
    logLevel: 'warning',
    legalComments: 'none',
  });
  const size = (file) => {
    const bytes = readFileSync(join(out, file));
    return { raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length };
  };
  const js = size('app.js');
  const css = size('style.css');
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`ui: app.js ${kib(js.raw)} (${kib(js.gz)} gz), style.css ${kib(css.raw)} (${kib(css.gz)} gz); ` +
    `total ${kib(js.gz + css.gz)} gzipped → ${out}`);
}
for (const file of ['index.html', 'favicon.svg']) {
  if (existsSync(join(src, file))) cpSync(join(src, file), join(out, file));
}
