import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

describe('the package as users load it', function () {
  this.timeout(30_000);

  it('exports the library API from "." and the side-effect entry from "./register"', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const api = require('auditspan') as Record<string, unknown>;
    for (const name of ['register', 'setAuditContext', 'AuditLogExporter', 'AuditSpanProcessor', 'RedactingSpanExporter',
      'toAuditRecord', 'createRedactor', 'openStore', 'createStore', 'startOtlpHttpReceiver', 'createHttpApp', 'loadConfig']) {
      expect(api[name], name).to.be.a('function');
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; bin: Record<string, string> };
    expect(Object.keys(pkg.exports)).to.include.members(['.', './register']);
    expect(require.resolve('auditspan/register')).to.equal(join(ROOT, 'dist', 'register.js'));
    expect(pkg.bin.auditspan).to.equal('./dist/cli/main.js');
  });

  it('keeps the server side out of an app that only requires it, until first use', async () => {
    // A fresh process: what require('auditspan') loads, and what reading openStore adds.
    const script = `
      const heavy = ['knex', 'pg', 'sqlite3', 'better-sqlite3', 'protobufjs', 'helmet', 'zod', '@grpc/grpc-js'];
      const loaded = () => heavy.filter((m) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + m + '/')));
      const api = require('auditspan');
      const before = loaded();
      const type = typeof api.openStore;
      console.log(JSON.stringify({ before, type, after: loaded() }));`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: ROOT, env: { PATH: process.env.PATH }, timeout: 20_000 });
    const { before, type, after } = JSON.parse(stdout) as { before: string[]; type: string; after: string[] };
    expect(before).to.deep.equal([]);
    expect(type).to.equal('function');
    expect(after).to.include('knex');
  });

  it('gives ESM importers the same named exports, the lazily loaded ones included', async () => {
    const script = `import { setAuditContext, openStore, SqlStore, createHttpApp, startOtlpHttpReceiver, loadConfig, ConfigError } from 'auditspan';
      console.log([setAuditContext, openStore, SqlStore, createHttpApp, startOtlpHttpReceiver, loadConfig, ConfigError].map((x) => typeof x).join(','));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { PATH: process.env.PATH }, timeout: 20_000 });
    expect(stdout.trim()).to.equal(Array(7).fill('function').join(','));
  });

  it('records a service wired with require("auditspan").register(), redacted, one row per request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditspan-pkg-'));
    try {
      const db = join(dir, 'audit.db');
      const { stdout } = await run(process.execPath, [join(ROOT, 'test', 'fixtures', 'apps', 'library-user.cjs')], {
        env: { PATH: process.env.PATH, DB: db }, timeout: 20_000,
      });
      const rows = JSON.parse(stdout) as Array<Record<string, unknown>>;
      expect(rows.map((r) => [r.status, r.tokenName, r.companyId, r.service])).to.deep.equal([
        [503, 'lib-token', 'acme', 'library-user'],
        [200, 'lib-token', 'acme', 'library-user'],
      ]);
      expect(rows[1].url).to.not.contain('jane@example.com');
      expect(JSON.stringify(rows)).to.not.contain('hunter2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies a custom redaction function given to register() (the pipeline then runs on the app thread)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditspan-pkg-'));
    try {
      const db = join(dir, 'audit.db');
      const { stdout } = await run(process.execPath, [join(ROOT, 'test', 'fixtures', 'apps', 'library-user.cjs')], {
        env: { PATH: process.env.PATH, DB: db, CUSTOM_REDACTION: '1' }, timeout: 20_000,
      });
      const rows = JSON.parse(stdout) as Array<Record<string, unknown>>;
      // The fixture's custom function upper-cases every string that reaches it, such as the URL.
      expect(rows.map((r) => new URL(String(r.url)).pathname)).to.deep.equal(['/FAIL', '/OK']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
