// Bundles the web UI (src/ui) into dist/ui with esbuild: one JS file, one CSS
// file and index.html, no CDN, so the UI works offline and under a strict CSP.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src', 'ui');
const out = join(root, 'dist', 'ui');
mkdirSync(out, { recursive: true });

if (existsSync(join(src, 'main.ts'))) {
  const result = await build({
    entryPoints: [join(src, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    outfile: join(out, 'app.js'),
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`ui: ${(bytes / 1024).toFixed(1)} KiB written to dist/ui`);
}
for (const file of ['index.html', 'style.css', 'favicon.svg']) {
  if (existsSync(join(src, file))) cpSync(join(src, file), join(out, file));
}
