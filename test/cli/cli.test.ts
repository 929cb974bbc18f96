import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { CLI, runCli, startCli, tempDir, type Running } from './run-cli';

/** Runs a bash command line (a pipe), resolving with its output. */
function runShell(line: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', line], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', () => resolve({ stdout, stderr }));
  });
}

function expectOneLineError(result: { stderr: string; code: number | null }, pattern: RegExp): void {
  expect(result.code, result.stderr).to.not.equal(0);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^auditspan: /);
  expect(lines[0]).to.match(pattern);
  expect(result.stderr).to.not.match(/\n\s+at /);
}

async function listening(line: string): Promise<{ ui: string; otlpHttp: string }> {
  const info = JSON.parse(line) as { ui: string; otlpHttp: string };
  return info;
}

const ZERO_PORTS = ['--port', '0', '--otlp-port', '0', '--otlp-grpc-port', '0'];

describe('auditspan CLI', function () {
  this.timeout(60_000);

  describe('global', () => {
    it('prints its version', async () => {
      const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
      const r = await runCli(['--version']);
      expect(r.code).to.equal(0);
      expect(r.stdout.trim()).to.equal(pkg.version);
    });

    it('lists every command in --help', async () => {
      const r = await runCli(['--help']);
      expect(r.code).to.equal(0);
      for (const c of ['serve', 'demo', 'migrate', 'purge', 'export', 'keys']) expect(r.stdout).to.contain(c);
    });

    it('answers an unknown command with one line and exit code 2', async () => {
      const r = await runCli(['sever']);
      expectOneLineError(r, /unknown command 'sever'/);
      expect(r.code).to.equal(2);
    });

    it('has --help on each command, naming env equivalents', async () => {
      for (const c of ['serve', 'demo', 'migrate', 'purge', 'export']) {
        const r = await runCli([c, '--help']);
        expect(r.code, c).to.equal(0);
        expect(r.stdout, c).to.contain('AUDITSPAN_DB');
      }
      const keys = await runCli(['keys', 'create', '--help']);
      expect(keys.stdout).to.contain('AUDITSPAN_KEY_COMPANY');
    });
  });

  describe('serve', () => {
    let running: Running | undefined;
    afterEach(async () => {
      await running?.stop();
      running = undefined;
    });

    it('logs one structured start line with its URLs, answers /healthz and stops cleanly on SIGTERM', async () => {
      const dir = tempDir();
      running = startCli(['serve', ...ZERO_PORTS, '--db', join(dir, 'a.db')]);
      const line = await running.waitForLine((l) => l.includes('auditspan listening'));
      const info = await listening(line);
      expect(JSON.parse(line)).to.include.keys('level', 'time', 'ui', 'otlpHttp', 'otlpGrpc', 'db');
      const health = await fetch(new URL('/healthz', info.ui));
      expect(health.status).to.equal(200);
      const ready = await fetch(new URL('/readyz', info.ui));
      expect(ready.status).to.equal(200);
      expect(await running.stop('SIGTERM')).to.equal(0);
      running = undefined;
    });

    it('takes its settings from AUDITSPAN_* variables', async () => {
      const dir = tempDir();
      running = startCli(['serve'], {
        AUDITSPAN_DB: join(dir, 'env.db'), AUDITSPAN_PORT: '0', AUDITSPAN_OTLP_PORT: '0', AUDITSPAN_OTLP_GRPC_PORT: '0',
      });
      await running.waitForLine((l) => l.includes('auditspan listening'));
      expect(existsSync(join(dir, 'env.db'))).to.equal(true);
    });

    it('refuses a port that is taken with one clear line', async () => {
      const blocker: Server = createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
      const port = (blocker.address() as { port: number }).port;
      try {
        const r = await runCli(['serve', '--port', String(port), '--otlp-port', '0', '--otlp-grpc-port', '0', '--db', join(tempDir(), 'b.db')]);
        expectOneLineError(r, new RegExp(`port ${port} .*already in use`));
      } finally {
        blocker.close();
      }
    });

    it('rejects a bad flag value naming the flag', async () => {
      const r = await runCli(['serve', '--port', 'eighty']);
      expectOneLineError(r, /--port/);
      expect(r.code).to.equal(2);
      const cache = await runCli(['serve', '--sqlite-cache-mb', '0']);
      expectOneLineError(cache, /--sqlite-cache-mb: "0" is not a positive whole number/);
      expect(cache.code).to.equal(2);
    });

    it('refuses a non-loopback host while no key exists', async () => {
      const r = await runCli(['serve', ...ZERO_PORTS, '--host', '0.0.0.0', '--db', join(tempDir(), 'c.db')]);
      expectOneLineError(r, /refusing to listen on 0\.0\.0\.0 without keys/);
    });

    it('refuses a non-loopback host without an ingest token, even with an admin key', async () => {
      // The key from the environment: on the command line it would add a warning line (secrets.test.ts).
      const r = await runCli(['serve', ...ZERO_PORTS, '--host', '0.0.0.0', '--db', join(tempDir(), 'c.db')], { AUDITSPAN_ADMIN_KEY: 'a-long-enough-admin-key-0123456789' });
      expectOneLineError(r, /refusing to accept OTLP on 0\.0\.0\.0 without an ingest token: set AUDITSPAN_INGEST_TOKEN/);
    });

    it('reports an unreachable database in one line', async () => {
      const r = await runCli(['serve', ...ZERO_PORTS, '--db', 'postgres://postgres@127.0.0.1:1/nope']);
      expectOneLineError(r, /cannot open database postgres:\/\/postgres@127\.0\.0\.1:1\/nope/);
    });
  });

  describe('migrate', () => {
    it('creates the schema', async () => {
      const db = join(tempDir(), 'm.db');
      const r = await runCli(['migrate', '--db', db]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('up to date');
      expect(existsSync(db)).to.equal(true);
    });

    it('hides the password of an unreachable database', async () => {
      const r = await runCli(['migrate', '--db', 'postgres://admin:s3cret@127.0.0.1:1/x']);
      expectOneLineError(r, /cannot open database/);
      expect(r.stderr).to.not.contain('s3cret');
    });
  });

  describe('keys', () => {
    it('creates a key printed once, lists it without the secret, revokes it', async () => {
      const db = join(tempDir(), 'k.db');
      const created = await runCli(['keys', 'create', '--company', 'acme', '--name', 'acme-support', '--db', db]);
      expect(created.code, created.stderr).to.equal(0);
      const key = created.stdout.trim();
      expect(key).to.match(/^\S{24,}$/);
      const list = await runCli(['keys', 'list', '--db', db]);
      expect(list.stdout).to.contain('acme-support').and.contain('acme').and.contain('active');
      expect(list.stdout).to.not.contain(key);
      expect(readFileSync(db).includes(Buffer.from(key))).to.equal(false);
      const revoked = await runCli(['keys', 'revoke', 'acme-support', '--db', db]);
      expect(revoked.code).to.equal(0);
      const after = await runCli(['keys', 'list', '--json', '--db', db]);
      expect(JSON.parse(after.stdout)[0].revokedAt).to.be.a('string');
    });

    it('needs a company or --admin', async () => {
      const r = await runCli(['keys', 'create', '--name', 'x', '--db', join(tempDir(), 'k2.db')]);
      expectOneLineError(r, /--company/);
    });

    it('refuses a duplicate name and an unknown key to revoke', async () => {
      const db = join(tempDir(), 'k3.db');
      await runCli(['keys', 'create', '--admin', '--name', 'ops', '--db', db]);
      expectOneLineError(await runCli(['keys', 'create', '--admin', '--name', 'ops', '--db', db]), /already exists/);
      expectOneLineError(await runCli(['keys', 'revoke', 'nobody', '--db', db]), /no key named "nobody"/);
    });
  });

  describe('demo, purge and export', () => {
    const dir = tempDir();
    const db = join(dir, 'demo.db');

    it('demo serves a UI with logs of the sample API within seconds', async () => {
      const demo = startCli(['demo', ...ZERO_PORTS, '--app-port', '0', '--db', db, '--history', '300', '--rate', '20']);
      try {
        const info = await listening(await demo.waitForLine((l) => l.includes('auditspan listening')));
        await demo.waitForLine((l) => l.includes('sample API:'));
        const page = await fetch(info.ui);
        expect(page.status).to.equal(200);
        expect(await page.text()).to.contain('<title>');
        // History (via OTLP) plus live traffic through the instrumented app.
        let live = 0;
        for (let i = 0; i < 40 && live === 0; i++) {
          await new Promise((r) => setTimeout(r, 500));
          const res = await fetch(new URL('/api/logs?limit=500&from=' + (Date.now() - 60_000), info.ui));
          const body = (await res.json()) as { data: Array<{ tokenName: string | null }> };
          live = body.data.length;
        }
        expect(live).to.be.greaterThan(0);
        const all = (await (await fetch(new URL('/api/logs?limit=500', info.ui))).json()) as { data: unknown[] };
        expect(all.data.length).to.be.greaterThan(250);
      } finally {
        expect(await demo.stop('SIGTERM')).to.equal(0);
      }
      // Nothing secret from the demo's traffic reached the database file.
      const bytes = readFileSync(db);
      for (const secret of ['hunter2-Secret!', '4242 4242 4242 4242', 'sk_live_acme_9f8e7d6c5b4a', 'jane.doe@example.com']) {
        expect(bytes.includes(Buffer.from(secret)), secret).to.equal(false);
      }
    });

    it('exports every row as NDJSON and CSV to a file', async () => {
      const out = join(dir, 'out.ndjson');
      const r = await runCli(['export', '--format', 'ndjson', '--out', out, '--db', db]);
      expect(r.code, r.stderr).to.equal(0);
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      expect(lines.length).to.be.greaterThan(250);
      expect(JSON.parse(lines[0])).to.include.keys('id', 'timestamp', 'method', 'status');
      const csv = await runCli(['export', '--format', 'csv', '--status', '5xx', '--db', db]);
      expect(csv.code, csv.stderr).to.equal(0);
      const rows = csv.stdout.trim().split('\n');
      expect(rows[0]).to.match(/^id,timestamp,/);
      for (const row of rows.slice(1)) expect(row).to.match(/,5\d\d,/);
    });

    it('ends quietly, exit 0, when the reader closes the pipe (export | head)', async () => {
      const r = await runShell(`"${process.execPath}" "${CLI}" export --format ndjson --db "${db}" | head -n 1; echo "status=\${PIPESTATUS[0]}" >&2`);
      expect(r.stdout.trim().split('\n')).to.have.length(1);
      expect(r.stderr.trim()).to.equal('status=0');
    });

    it('describes each command\'s own use of --db in its help', async () => {
      for (const [args, words] of [
        [['export'], 'database to export from'], [['purge'], 'database to purge'], [['migrate'], 'database to create or upgrade'],
        [['keys', 'list'], 'database whose keys are listed'], [['keys', 'revoke'], 'database holding the key'], [['keys', 'create'], 'database the key is stored in'],
      ] as const) {
        const help = (await runCli([...args, '--help'])).stdout.replace(/\s+/g, ' ');
        expect(help, args.join(' ')).to.contain(words).and.not.contain('`off`');
      }
    });

    it('refuses a database that does not exist instead of creating an empty one (export, purge, keys list, keys revoke)', async () => {
      const missing = join(tempDir(), 'typo.db');
      for (const args of [['export'], ['purge', '--older-than', '1d'], ['keys', 'list'], ['keys', 'revoke', 'x']]) {
        const r = await runCli([...args, '--db', missing]);
        expectOneLineError(r, /no database at .*typo\.db/);
        expect(existsSync(missing), args.join(' ')).to.equal(false);
      }
    });

    it('rejects an unknown export format', async () => {
      const r = await runCli(['export', '--format', 'xml', '--db', db]);
      expectOneLineError(r, /--format/);
    });

    it('rejects a bad filter naming it', async () => {
      const r = await runCli(['export', '--status', '7xx', '--db', db]);
      expectOneLineError(r, /status/);
    });

    it('purges rows older than a duration', async () => {
      const dry = await runCli(['purge', '--older-than', '1h', '--dry-run', '--db', db]);
      expect(dry.code, dry.stderr).to.equal(0);
      const wouldDelete = Number(/^(\d+) rows/.exec(dry.stdout)?.[1]);
      expect(wouldDelete).to.be.greaterThan(0);
      const r = await runCli(['purge', '--older-than', '1h', '--db', db]);
      expect(r.stdout).to.contain(`deleted ${wouldDelete} rows`);
      const again = await runCli(['purge', '--older-than', '1h', '--db', db]);
      expect(again.stdout).to.contain('deleted 0 rows');
    });

    it('rejects a bad duration', async () => {
      const r = await runCli(['purge', '--older-than', 'forever', '--db', db]);
      expectOneLineError(r, /--older-than/);
      expect(r.code).to.equal(2);
    });
  });
});
