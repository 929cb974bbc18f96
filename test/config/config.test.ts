import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configReferenceMarkdown, ConfigError, loadConfig, SETTINGS } from '../../src/config';

describe('configuration', () => {
  it('fills every documented default', () => {
    const c = loadConfig({});
    expect(c.db).to.equal('./auditspan.db');
    expect(c.host).to.equal('127.0.0.1');
    expect(c.port).to.equal(8080);
    expect(c.otlpPort).to.equal(4318);
    expect(c.otlpGrpcPort).to.equal(4317);
    expect(c.maxBodyBytes).to.equal(16 * 1024 * 1024);
    expect(c.maxPayloadBytes).to.equal(16 * 1024);
    expect(c.trustProxy).to.equal(false);
    expect(c.ignorePaths).to.include('/healthz');
    expect(c.retentionDays).to.equal(undefined);
    expect(c.adminKey).to.equal(undefined);
  });

  it('reads each setting from its environment variable', () => {
    const c = loadConfig({
      AUDITSPAN_DB: 'postgres://x@h/db', AUDITSPAN_PORT: '9000', AUDITSPAN_RETENTION_DAYS: '7',
      AUDITSPAN_TRUST_PROXY: 'true', AUDITSPAN_REDACT_KEYS: 'a, b ,', AUDITSPAN_LINK_BASE_URL: 'https://audit.example.com/',
    });
    expect(c).to.include({ db: 'postgres://x@h/db', port: 9000, retentionDays: 7, trustProxy: true, linkBaseUrl: 'https://audit.example.com' });
    expect(c.redactKeys).to.deep.equal(['a', 'b']);
  });

  it('lets flags override the environment', () => {
    expect(loadConfig({ AUDITSPAN_PORT: '9000' }, { port: '9100' }).port).to.equal(9100);
  });

  it('takes the per-signal OTLP traces endpoint when the generic one is unset', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).forwardEndpoint).to.equal('http://c:4318/v1/traces');
  });

  for (const [env, value] of [
    ['AUDITSPAN_PORT', 'abc'], ['AUDITSPAN_PORT', '70000'], ['AUDITSPAN_RETENTION_DAYS', '-1'],
    ['AUDITSPAN_TRUST_PROXY', 'maybe'], ['AUDITSPAN_LINK_BASE_URL', 'ftp://x'], ['AUDITSPAN_MAX_BODY_BYTES', '1.5'],
  ] as const) {
    it(`rejects ${env}=${value} naming the variable`, () => {
      expect(() => loadConfig({ [env]: value })).to.throw(ConfigError, new RegExp(`^${env}: `));
    });
  }

  it('names the flag when a flag value is bad', () => {
    expect(() => loadConfig({}, { port: 'x' })).to.throw(ConfigError, /^--port: /);
  });

  it('documents every setting in the README with its default', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = /<!-- config-reference:start -->\n([\s\S]*?)<!-- config-reference:end -->/.exec(readme)?.[1];
    expect(section?.trim(), 'run: npx tsx scripts/config-reference.ts --write').to.equal(configReferenceMarkdown());
    for (const spec of Object.values(SETTINGS)) expect(section).to.contain(`\`${spec.env}\``);
  });
});
