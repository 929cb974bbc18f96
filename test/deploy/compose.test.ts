import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SETTINGS } from '../../src/config';

const root = join(__dirname, '..', '..');
const load = (file: string): any => parse(readFileSync(join(root, file), 'utf8'));

// No Docker engine runs here: these tests check the shipped files' wiring.
describe('otel-collector.yaml', () => {
  const config = load('otel-collector.yaml');
  const pipeline = config.service.pipelines.traces;

  it('names only receivers, processors and exporters it defines', () => {
    for (const r of pipeline.receivers) expect(config.receivers, r).to.have.property(r);
    for (const p of pipeline.processors) expect(config.processors, p).to.have.property(p);
    for (const e of pipeline.exporters) expect(config.exporters, e).to.have.property(e);
  });

  it('sends the same traces pipeline to auditspan and to Jaeger', () => {
    expect(pipeline.exporters).to.include.members(['otlphttp/auditspan', 'otlp/jaeger']);
  });

  it("points at auditspan's default OTLP/HTTP port with the ingest token", () => {
    const exporter = config.exporters['otlphttp/auditspan'];
    expect(new URL(exporter.endpoint).port).to.equal(SETTINGS.otlpPort.default);
    expect(exporter.headers.authorization).to.contain('${env:AUDITSPAN_INGEST_TOKEN}');
    expect(exporter.retry_on_failure.enabled).to.equal(true);
  });

  it('receives OTLP on the standard ports', () => {
    expect(config.receivers.otlp.protocols.grpc.endpoint).to.match(/:4317$/);
    expect(config.receivers.otlp.protocols.http.endpoint).to.match(/:4318$/);
  });
});

describe('docker-compose.yml', () => {
  const compose = load('docker-compose.yml');
  const services = compose.services;
  const knownEnv = new Set<string>(Object.values(SETTINGS).map((s) => s.env));
  knownEnv.add('OTEL_EXPORTER_OTLP_ENDPOINT');

  it('runs PostgreSQL, auditspan, the collector, Jaeger and a sample app', () => {
    expect(services).to.include.keys('postgres', 'auditspan', 'collector', 'jaeger', 'app');
  });

  it('depends only on services it defines', () => {
    for (const [name, service] of Object.entries<any>(services)) {
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(services, `${name} depends on ${dep}`).to.have.property(dep);
    }
  });

  it('configures auditspan only with settings that exist, on PostgreSQL', () => {
    const env = services.auditspan.environment;
    for (const key of Object.keys(env)) {
      if (key.startsWith('AUDITSPAN_')) expect(knownEnv.has(key), key).to.equal(true);
    }
    expect(env.AUDITSPAN_DB).to.match(/^postgres:\/\/[^@]+@postgres:5432\//);
    expect(env.AUDITSPAN_OTLP_PORT).to.equal(SETTINGS.otlpPort.default);
    expect(services.auditspan.ports).to.include(`${SETTINGS.port.default}:${SETTINGS.port.default}`);
  });

  it("feeds the collector the same file and the app the collector's OTLP endpoint", () => {
    expect(services.collector.volumes[0]).to.match(/^\.\/otel-collector\.yaml:/);
    expect(existsSync(join(root, 'otel-collector.yaml'))).to.equal(true);
    expect(services.app.environment.OTEL_EXPORTER_OTLP_ENDPOINT).to.equal('http://collector:4318');
    for (const key of Object.keys(services.app.environment)) {
      if (key.startsWith('AUDITSPAN_')) expect(knownEnv.has(key), key).to.equal(true);
    }
  });

  it('runs commands whose files the build produces', () => {
    for (const name of ['auditspan', 'app', 'traffic']) {
      const script = (services[name].command as string[]).find((part) => part.startsWith('dist/'));
      expect(script, name).to.be.a('string');
      expect(existsSync(join(root, script as string)), `${script} (run npm run build)`).to.equal(true);
    }
    expect(existsSync(join(root, 'Dockerfile'))).to.equal(true);
  });
});
