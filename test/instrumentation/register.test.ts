import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openStore } from '../../src/store';
import type { StoredLog } from '../../src/store/types';
import { expectNoLeak, LEAK_MARKERS, SECRETS } from '../record/secrets';
import { ROOT, startApp } from './app-process';
import { abandonedDownload, abortedUpload } from './http-client';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const BIG = { items: Array.from({ length: 900 }, (_, i) => ({ i, note: `item number ${i} with some padding text` })) };
const PLANTED = {
  user: { profile: { password: SECRETS.password, contact: { email: SECRETS.email, phone: SECRETS.phone } } },
  payment: { card_number: SECRETS.card, note: `card ${SECRETS.cardCompact} iban ${SECRETS.iban}`, cvv: SECRETS.cvv },
  ids: { ssn: SECRETS.ssn, nino: SECRETS.nino, jwt: SECRETS.jwt, key: SECRETS.apiKey },
};

const REQUESTS: Array<{ name: string; path: string; init?: RequestInit }> = [
  { name: 'GET with query', path: `/items/42?expand=owner&email=${encodeURIComponent(SECRETS.email)}&api_key=${SECRETS.apiKey}` },
  { name: 'POST 50 KB JSON', path: '/items', init: { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.bearerToken}`, cookie: `session=${SECRETS.jwt}` }, body: JSON.stringify({ ...BIG, ...PLANTED }) } },
  { name: '422', path: '/validate', init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: SECRETS.email, password: SECRETS.password }) } },
  { name: 'streamed 500', path: '/stream-fail' },
  { name: '401', path: '/items/1', init: { headers: { authorization: 'Bearer wrong' } } },
  { name: 'mounted router', path: '/v1/orders/7' },
  { name: 'mounted router, error handler answers', path: '/v1/orders/8', init: { method: 'DELETE' } },
];

async function call(base: string, path: string, init?: RequestInit): Promise<Answer> {
  const res = await fetch(base + path, init);
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k !== 'date' && k !== 'keep-alive' && k !== 'connection') headers[k] = v;
  });
  return { status: res.status, headers, body: await res.text() };
}

async function rows(db: string): Promise<StoredLog[]> {
  const store = await openStore({ url: db });
  try {
    const page = await store.listLogs({}, { limit: 500 });
    return page.data;
  } finally {
    await store.close();
  }
}

describe('node --import auditspan/register', function () {
  this.timeout(60_000);
  before(() => {
    // The tests run the built entry, as users do (`npm test` builds first).
    expect(existsSync(join(ROOT, 'dist', 'register.mjs')), 'run npm run build first').to.equal(true);
  });

  // Express 5 is the project's own; express 4 (a test fixture, scripts/test-fixtures.mjs) keeps its
  // Route in its own package, which the route template instrumentation patches separately.
  const EXPRESS4 = join(ROOT, 'test', 'fixtures', 'express4', 'node_modules', 'express');
  for (const version of [{ name: '5', env: {} }, { name: '4', env: { FIXTURE_EXPRESS: EXPRESS4 } }]) {
    describe(`an express ${version.name} app`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'auditspan-reg-'));
      const db = join(dir, 'audit.db');
      const bare: Answer[] = [];
      const audited: Answer[] = [];
      let logs: StoredLog[] = [];
      let output = '';

      before(async () => {
        const plain = await startApp({ instrumented: false, env: version.env });
        for (const r of REQUESTS) bare.push(await call(plain.base, r.path, r.init));
        await plain.stop();
        const app = await startApp({ instrumented: true, env: { ...version.env, AUDITSPAN_DB: db } });
        for (const r of REQUESTS) audited.push(await call(app.base, r.path, r.init));
        await abortedUpload(app.base, '/items');
        await abandonedDownload(app.base);
        await call(app.base, '/healthz');
        const exit = await app.stop('SIGTERM');
        expect(exit.signal ?? exit.code).to.be.oneOf(['SIGTERM', 143, 0]);
        output = app.output();
        logs = (await rows(db)).reverse();
      });

      it(`runs on express ${version.name}`, () => {
        const manifest = join(version.env.FIXTURE_EXPRESS ?? join(ROOT, 'node_modules', 'express'), 'package.json');
        expect(JSON.parse(readFileSync(manifest, 'utf8')).version).to.match(new RegExp(`^${version.name}\\.`));
      });

      it('answers every request byte for byte as without auditspan', () => {
        expect(audited).to.deep.equal(bare);
      });

      it('files exactly one row per request after a graceful shutdown (health checks ignored)', () => {
        expect(logs.map((l) => `${l.method} ${l.status}`)).to.deep.equal(['GET 200', 'POST 201', 'POST 422', 'GET 500', 'GET 401', 'GET 200', 'DELETE 409', 'POST 499', 'GET 499']);
      });

      it('files an aborted upload and an abandoned download as 499 with an error saying so', () => {
        expect(logs[7]).to.include({ endpoint: '/items', status: 499 });
        expect(logs[7].error).to.match(/^client closed the connection while sending the request body \(\d+ bytes read of 5242880 declared\); no response was sent$/);
        expect(logs[8]).to.include({ endpoint: '/download', status: 499 });
        expect(logs[8].error).to.match(/^client closed the connection before the response was complete \(the app answered 200/);
      });

      it('records the route template, token, client and company from setAuditContext', () => {
        expect(logs[0]).to.include({ endpoint: '/items/:id', tokenName: 'prod-billing', clientId: 'billing-svc', companyId: 'acme', clientIp: '127.0.0.1' });
        expect(logs[0].url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/items\/42\?expand=owner&email=\[REDACTED\]&api_key=\[REDACTED\]$/);
        expect(logs[4].tokenName).to.equal(null);
      });

      it('records the mount path in the route template of a mounted router, also when the error handler answers', () => {
        expect(audited[5].body).to.equal('{"order":"7","route":"/orders/:orderId","base":"/v1"}');
        expect(logs[5].endpoint).to.equal('/v1/orders/:orderId');
        expect(logs[6]).to.include({ endpoint: '/v1/orders/:orderId', error: 'order is locked' });
      });

      it('caps the large request payload and marks it truncated', () => {
        expect(Buffer.byteLength(logs[1].requestPayload as string)).to.be.at.most(16 * 1024);
        expect(logs[1].truncated).to.equal(true);
        expect(logs[1].requestPayload).to.match(/^\{"items":\[\{"i":0,/);
      });

      it('keeps response payloads only for failures', () => {
        expect(logs[0].responsePayload).to.equal(null);
        expect(logs[1].responsePayload).to.equal(null);
        expect(JSON.parse(logs[2].responsePayload as string)).to.deep.equal({ error: { message: 'field email [REDACTED] is invalid', password: '[REDACTED]' } });
        expect(logs[3].responsePayload).to.equal('{"error":{"message":"upstream exploded"}}');
        expect(logs[3].error).to.equal('upstream exploded');
        expect(logs[4].error).to.equal('invalid api key');
      });

      it('never keeps credentials in headers', () => {
        for (const l of logs) expect(Object.keys(l.requestHeaders ?? {})).to.not.include.members(['authorization', 'cookie']);
        expect(logs[1].requestHeaders).to.include({ 'content-type': 'application/json' });
      });

      it('writes no planted secret to the database files or the output', () => {
        const files = readdirSync(dir).filter((f) => f.startsWith('audit.db'));
        expect(files).to.include('audit.db');
        for (const f of files) {
          const bytes = readFileSync(join(dir, f));
          for (const marker of [...LEAK_MARKERS, SECRETS.password]) {
            expect(bytes.includes(Buffer.from(marker)), `${marker} in ${f}`).to.equal(false);
          }
        }
        expectNoLeak(output, 'process output');
      });
    });
  }

  it('lets an app that handles SIGTERM itself exit on its own, with every row written', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-reg-')), 'g.db');
    const app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: db, GRACEFUL: '1' } });
    for (let i = 0; i < 20; i++) await call(app.base, `/items/${i}`, { headers: { connection: 'close' } });
    const exit = await app.stop('SIGTERM');
    // Exited by itself (server closed, loop empty), not killed by the signal.
    expect(exit).to.deep.equal({ code: 0, signal: null });
    expect(await rows(db)).to.have.length(20);
  });

  it('lets a process whose work is done exit, with every row written', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-reg-')), 'h.db');
    const app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: db, EXIT_AFTER: '1500' } });
    for (let i = 0; i < 5; i++) await call(app.base, `/items/${i}`, { headers: { connection: 'close' } });
    const exit = await new Promise((resolve) => app.child.once('exit', (code, signal) => resolve({ code, signal })));
    expect(exit).to.deep.equal({ code: 0, signal: null });
    expect(await rows(db)).to.have.length(5);
  });

  it('records a request whose traceparent says "not sampled"', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-reg-')), 'a.db');
    const app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: db } });
    await call(app.base, '/items/5', { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' } });
    await app.stop();
    const logs = await rows(db);
    expect(logs).to.have.length(1);
    expect(logs[0].traceId).to.equal('0af7651916cd43dd8448eb211c80319c');
  });

  it('keeps every way of reading a body intact and records multipart and gzip bodies', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-reg-')), 'b.db');
    const app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: db } });
    const payload = JSON.stringify({ hello: 'world', password: 'x' });
    expect((await call(app.base, '/raw', { method: 'POST', body: payload })).body).to.equal(`raw:${payload.length}`);
    expect((await call(app.base, '/for-await', { method: 'POST', body: 'x'.repeat(100_000) })).body).to.equal('{"n":100000}');
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(2048)]), 'a.bin');
    expect(JSON.parse((await call(app.base, '/upload', { method: 'POST', body: form })).body).n).to.be.greaterThan(2048);
    const gz = gzipSync(Buffer.from(JSON.stringify({ zipped: true, token: 'abc' })));
    await call(app.base, '/upload', { method: 'POST', body: gz, headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' } });
    await app.stop();
    const logs = (await rows(db)).reverse();
    expect(logs[0].requestPayload).to.equal('{"hello":"world","password":"[REDACTED]"}');
    expect(logs[2].requestPayload).to.match(/^\[multipart, \d+ bytes\]$/);
    expect(logs[3].requestPayload).to.equal('{"zipped":true,"token":"[REDACTED]"}');
  });

  it('records ESM apps with the route template', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-reg-')), 'c.db');
    const app = await startApp({ instrumented: true, script: join(ROOT, 'test', 'fixtures', 'apps', 'app.mjs'), env: { AUDITSPAN_DB: db, AUDITSPAN_INSTRUMENTED: '1' } });
    expect((await call(app.base, '/esm/ada')).body).to.equal('{"hello":"ada"}');
    await app.stop();
    const logs = await rows(db);
    expect(logs[0]).to.include({ endpoint: '/esm/:name', tokenName: 'esm-token', companyId: 'globex' });
  });

  it('answers normally while the database is unreachable, and says so once', async () => {
    const app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: 'postgres://postgres@127.0.0.1:1/none' } });
    for (let i = 0; i < 5; i++) expect((await call(app.base, `/items/${i}`)).status).to.equal(200);
    const exit = await app.stop('SIGINT');
    expect(exit.signal ?? exit.code).to.be.oneOf(['SIGINT', 130, 0]);
    const complaints = app.output().split('\n').filter((l) => l.startsWith('auditspan:'));
    expect(complaints.length).to.be.within(1, 3);
    expect(app.output()).to.not.match(/\n\s+at /);
  });

  it('adds X-Request-Log-Url pointing at the stored row', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-reg-')), 'd.db');
    const app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: db, AUDITSPAN_LINK_BASE_URL: 'https://audit.example.com' } });
    const answer = await call(app.base, '/items/9');
    await app.stop();
    const [log] = await rows(db);
    expect(answer.headers['x-request-log-url']).to.equal(`https://audit.example.com/logs/${log.id}`);
  });

  it('forwards the same spans, redacted, to OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const received: Array<{ path: string; body: string }> = [];
    const collector: Server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    const port = (collector.address() as { port: number }).port;
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-reg-')), 'e.db');
    const app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: db, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` } });
    await call(app.base, '/validate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: SECRETS.email, password: SECRETS.password }) });
    await app.stop();
    collector.close();
    expect(received.map((r) => r.path)).to.include('/v1/traces');
    const all = received.map((r) => r.body).join('\n');
    expect(all).to.contain('auditspan.request.body');
    // Spans that leave the process keep express's layer spans and the route in the span name.
    expect(all).to.contain('@opentelemetry/instrumentation-express');
    expect(all).to.contain('POST /validate');
    expectNoLeak(all, 'forwarded spans');
    expect(all).to.not.contain(SECRETS.password);
    expect(await rows(db)).to.have.length(1);
  });

  it('loses no row at saturation', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-reg-')), 'f.db');
    const app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: db } });
    const total = 3000;
    let sent = 0;
    let ok = 0;
    const worker = async (): Promise<void> => {
      while (sent < total) {
        sent += 1;
        const res = await fetch(`${app.base}/items/${sent}`);
        await res.arrayBuffer();
        if (res.status === 200) ok += 1;
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    await app.stop();
    const store = await openStore({ url: db });
    try {
      expect(await store.countLogs({})).to.equal(ok);
    } finally {
      await store.close();
    }
    expect(ok).to.equal(total);
  });
});
