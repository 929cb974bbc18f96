// Installs the test fixtures' own dependencies (express 4 next to the project's express 5; fastify 4
// and 5, koa, hapi and NestJS for the framework tests) when
// they are missing or out of date; run by `npm test`. Uses the fixture's lockfile (npm ci).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** `npm ci` in one fixture folder; the folders install side by side (npm's cache is safe to share). */
const npmCi = (fixture, dir) =>
  new Promise((resolve, reject) => {
    const child = spawn('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`test fixtures: npm ci failed in test/fixtures/${fixture} (exit ${code})`))));
  });

const installs = [];
for (const fixture of ['express4', 'fastify4', 'fastify5', 'koa', 'hapi', 'nestjs']) {
  const dir = join(root, 'test', 'fixtures', fixture);
  const wanted = readJson(join(dir, 'package.json')).dependencies;
  const installed = Object.entries(wanted).every(([name, version]) => {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    return existsSync(manifest) && readJson(manifest).version === version;
  });
  if (installed) continue;
  process.stderr.write(`test fixtures: installing ${fixture} (${Object.entries(wanted).map(([n, v]) => `${n}@${v}`).join(', ')})\n`);
  installs.push(npmCi(fixture, dir));
}
for (const result of await Promise.allSettled(installs)) {
  if (result.status === 'rejected') {
    process.stderr.write(`${result.reason.message}\n`);
    process.exitCode = 1;
  }
}
