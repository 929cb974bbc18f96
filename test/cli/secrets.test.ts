import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli, tempDir, type Running } from './run-cli';

const ZERO_PORTS = ['--port', '0', '--otlp-port', '0', '--otlp-grpc-port', '0'];
const STRONG = 'Xq3vN8rT0bKf2LmZ7sWc9PdY4hGj6AeU1oRi5Ny';

describe('auditspan serve: the admin key, the ingest token and the link secret', function () {
  this.timeout(60_000);
  let running: Running | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  for (const weak of ['hunter2', 'admin-key-for-tests-0123456789', 'passw0rd-passw0rd-passw0rd-passw0rd', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']) {
    it(`refuses a weak admin key (${weak.length} characters) without echoing it`, async () => {
      const r = await runCli(['serve', ...ZERO_PORTS, '--db', join(tempDir(), 'w.db')], { AUDITSPAN_ADMIN_KEY: weak });
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.match(/^auditspan: refusing a weak admin key \(AUDITSPAN_ADMIN_KEY\): /);
      expect(r.stderr).to.not.contain(weak);
    });
  }

  for (const [env, noun] of [['AUDITSPAN_INGEST_TOKEN', 'ingest token'], ['AUDITSPAN_LINK_SECRET', 'link secret']]) {
    it(`refuses a weak ${noun} without echoing it`, async () => {
      const weak = 'change-me-ingest-token';
      const r = await runCli(['serve', ...ZERO_PORTS, '--db', join(tempDir(), 'w.db')], { [env]: weak });
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.match(new RegExp(`^auditspan: refusing a weak ${noun} \\(${env}\\): it has 22 characters; use at least 32 random ones`));
      expect(r.stderr).to.not.contain(weak);
    });
  }

  it('refuses a weak link secret in `links create` too', async () => {
    const r = await runCli(['links', 'create', '--company', 'acme', '--db', join(tempDir(), 'l.db')], { AUDITSPAN_LINK_SECRET: 'x'.repeat(40) });
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/^auditspan: refusing a weak link secret \(AUDITSPAN_LINK_SECRET\): it uses fewer than 10 distinct characters/);
    expect(r.stdout).to.equal('');
  });

  it('reads the ingest token from --ingest-token-file and asks every OTLP request for it', async () => {
    const dir = tempDir();
    const file = join(dir, 'ingest.token');
    writeFileSync(file, `${STRONG}\n`);
    running = startCli(['serve', ...ZERO_PORTS, '--db', join(dir, 'i.db'), '--ingest-token-file', file]);
    const info = JSON.parse(await running.waitForLine((l) => l.includes('auditspan listening'))) as { otlpHttp: string };
    const post = (token?: string) =>
      fetch(info.otlpHttp, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: '{"resourceSpans":[]}',
      });
    expect((await post()).status).to.equal(401);
    expect((await post(`${STRONG}x`)).status).to.equal(401);
    expect((await post(STRONG)).status).to.equal(200);
    expect(running.stderr()).to.not.contain('warning');
  });

  it('warns on stderr when the ingest token is given on the command line', async () => {
    running = startCli(['serve', ...ZERO_PORTS, '--db', join(tempDir(), 'j.db'), '--ingest-token', STRONG]);
    await running.waitForLine((l) => l.includes('auditspan listening'));
    expect(running.stderr()).to.match(/warning: --ingest-token on the command line is visible to other local users \(ps\); prefer AUDITSPAN_INGEST_TOKEN or --ingest-token-file/);
    expect(running.stderr()).to.not.contain(STRONG);
  });

  it('refuses AUDITSPAN_INGEST_TOKEN_FILE together with AUDITSPAN_INGEST_TOKEN', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tok'), STRONG);
    const both = await runCli(['serve', ...ZERO_PORTS, '--db', join(dir, 'k.db')], { AUDITSPAN_INGEST_TOKEN: STRONG, AUDITSPAN_INGEST_TOKEN_FILE: join(dir, 'tok') });
    expect(both.stderr).to.match(/^auditspan: AUDITSPAN_INGEST_TOKEN_FILE \(--ingest-token-file\) and AUDITSPAN_INGEST_TOKEN \(--ingest-token\) exclude each other\n$/);
    expect(both.code).to.equal(2);
  });

  it('reads the admin key from --admin-key-file, without a warning', async () => {
    const dir = tempDir();
    const file = join(dir, 'admin.key');
    writeFileSync(file, `${STRONG}\n`);
    running = startCli(['serve', ...ZERO_PORTS, '--db', join(dir, 'a.db'), '--admin-key-file', file]);
    const info = JSON.parse(await running.waitForLine((l) => l.includes('auditspan listening'))) as { ui: string };
    expect((await fetch(`${info.ui}api/whoami`, { headers: { authorization: `Bearer ${STRONG}` } })).status).to.equal(200);
    expect((await fetch(`${info.ui}api/whoami`, { headers: { authorization: `Bearer ${STRONG}x` } })).status).to.equal(401);
    expect(running.stderr()).to.not.contain('warning');
  });

  it('warns on stderr when the admin key is given on the command line', async () => {
    running = startCli(['serve', ...ZERO_PORTS, '--db', join(tempDir(), 'b.db'), '--admin-key', STRONG]);
    await running.waitForLine((l) => l.includes('auditspan listening'));
    expect(running.stderr()).to.match(/warning: --admin-key on the command line is visible to other local users \(ps\); prefer AUDITSPAN_ADMIN_KEY or --admin-key-file/);
    expect(running.stderr()).to.not.contain(STRONG);
  });

  it('accepts AUDITSPAN_ADMIN_KEY_FILE and refuses it together with AUDITSPAN_ADMIN_KEY, an empty or a missing file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty'), '\n');
    const both = await runCli(['serve', ...ZERO_PORTS, '--db', join(dir, 'c.db')], { AUDITSPAN_ADMIN_KEY: STRONG, AUDITSPAN_ADMIN_KEY_FILE: join(dir, 'empty') });
    expect(both.stderr).to.match(/^auditspan: AUDITSPAN_ADMIN_KEY_FILE \(--admin-key-file\) and AUDITSPAN_ADMIN_KEY \(--admin-key\) exclude each other\n$/);
    const empty = await runCli(['serve', ...ZERO_PORTS, '--db', join(dir, 'c.db'), '--admin-key-file', join(dir, 'empty')]);
    expect(empty.stderr).to.match(/^auditspan: --admin-key-file: .*empty is empty\n$/);
    const missing = await runCli(['serve', ...ZERO_PORTS, '--db', join(dir, 'c.db')], { AUDITSPAN_ADMIN_KEY_FILE: join(dir, 'nope') });
    expect(missing.stderr).to.match(/^auditspan: --admin-key-file: cannot read .*nope: ENOENT\n$/);
    expect(missing.code).to.equal(2);
  });
});
