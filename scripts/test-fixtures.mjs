// Installs the test fixtures' own dependencies (express 4 next to the project's express 5; fastify 4
// and 5, koa, hapi and NestJS for the framework tests) when
// they are missing or out of date; run by `npm test`. Uses the fixture's lockfile (npm ci).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

for (const fixture of ['express4', 'fastify4', 'fastify5', 'koa', 'hapi', 'nestjs']) {
  const dir = join(root, 'test', 'fixtures', fixture);
  const wanted = readJson(join(dir, 'package.json')).dependencies;
  const installed = Object.entries(wanted).every(([name, version]) => {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    return existsSync(manifest) && readJson(manifest).version === version;
  });
  if (installed) continue;
  process.stderr.write(`test fixtures: installing ${fixture} (${Object.entries(wanted).map(([n, v]) => `${n}@${v}`).join(', ')})\n`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
}
