import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store';
import type { StoredLog } from '../../src/store/types';
import { SECRETS } from '../record/secrets';
import { ROOT, startApp } from './app-process';
import { abandonedDownload, abortedUpload, rawCall, type RawAnswer, type RawRequest } from './http-client';

const APPS = join(ROOT, 'test', 'fixtures', 'apps');
const json = (body: unknown, headers: Record<string, string> = {}): Pick<RawRequest, 'method' | 'headers' | 'body'> => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

async function rows(db: string): Promise<StoredLog[]> {
  const store = await openStore({ url: db });
  try {
    return (await store.listLogs({}, { limit: 500 })).data.reverse();
  } finally {
    await store.close();
  }
}

/** Runs the same requests on the app bare and with `--import auditspan/register`; returns both answers and the rows. */
async function compare(script: string, env: NodeJS.ProcessEnv, requests: RawRequest[], after?: (base: string) => Promise<void>) {
  const bare: RawAnswer[] = [];
  const audited: RawAnswer[] = [];
  const plain = await startApp({ instrumented: false, script, env });
  for (const r of requests) bare.push(await rawCall(plain.base, r));
  await plain.stop();
  const db = join(mkdtempSync(join(tmpdir(), 'auditspan-fw-')), 'audit.db');
  const app = await startApp({ instrumented: true, script, env: { ...env, AUDITSPAN_DB: db } });
  for (const r of requests) audited.push(await rawCall(app.base, r));
  if (after) await after(app.base);
  await app.stop('SIGTERM');
  return { bare, audited, logs: await rows(db), output: app.output() };
}

interface Framework {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  /** The package whose version is checked, in its fixture folder. */
  manifest: string;
  version: RegExp;
  users: string;
  orders: string;
  /** The error body is compressed (the framework's usual compression is on). */
  compresses: boolean;
}

const pkg = (fixture: string, name: string): string => join(ROOT, 'test', 'fixtures', fixture, 'node_modules', name, 'package.json');
const FRAMEWORKS: Framework[] = [
  { name: 'fastify 4 (@fastify/compress)', script: 'fastify.cjs', env: { FIXTURE: 'fastify4' }, manifest: pkg('fastify4', 'fastify'), version: /^4\./, users: '/users/:id', orders: '/v1/orders/:orderId', compresses: true },
  { name: 'fastify 5 (@fastify/compress)', script: 'fastify.cjs', env: { FIXTURE: 'fastify5' }, manifest: pkg('fastify5', 'fastify'), version: /^5\./, users: '/users/:id', orders: '/v1/orders/:orderId', compresses: true },
  { name: 'koa 3 with @koa/router (koa-compress)', script: 'koa.cjs', env: {}, manifest: pkg('koa', 'koa'), version: /^3\./, users: '/users/:id', orders: '/v1/orders/:orderId', compresses: true },
  { name: 'hapi 21 (its own compression)', script: 'hapi.cjs', env: {}, manifest: pkg('hapi', '@hapi/hapi'), version: /^21\./, users: '/users/{id}', orders: '/v1/orders/{orderId}', compresses: true },
  { name: 'NestJS 11 on express', script: 'nest.cjs', env: { NEST_PLATFORM: 'express' }, manifest: pkg('nestjs', '@nestjs/platform-express'), version: /^11\./, users: '/users/:id', orders: '/v1/orders/:orderId', compresses: false },
  { name: 'NestJS 11 on fastify', script: 'nest.cjs', env: { NEST_PLATFORM: 'fastify' }, manifest: pkg('nestjs', '@nestjs/platform-fastify'), version: /^11\./, users: '/users/:id', orders: '/v1/orders/:orderId', compresses: false },
];

const REQUESTS: RawRequest[] = [
  { path: '/users/alice?expand=owner' },
  { path: '/users', ...json({ name: 'Ada', password: SECRETS.password }) },
  { path: '/validate', ...json({ email: SECRETS.email }, { 'accept-encoding': 'gzip' }) },
  { path: '/v1/orders/7' },
  { path: '/users/bob', headers: { authorization: 'Bearer wrong' } },
  { path: '/nope/42' },
];

describe('route templates, aborted and compressed responses on each framework', function () {
  this.timeout(120_000);

  for (const fw of FRAMEWORKS) {
    describe(fw.name, () => {
      let result: Awaited<ReturnType<typeof compare>>;
      before(async () => {
        result = await compare(join(APPS, fw.script), fw.env, REQUESTS, async (base) => {
          await abortedUpload(base);
          await abandonedDownload(base);
        });
      });

      it('runs on the fixture package', () => {
        expect(JSON.parse(readFileSync(fw.manifest, 'utf8')).version).to.match(fw.version);
      });

      it('answers every request byte for byte as without auditspan', () => {
        expect(result.audited).to.deep.equal(result.bare);
        expect(result.bare.map((a) => a.status)).to.deep.equal([200, 201, 422, 200, 401, 404]);
        expect(result.bare[2].headers['content-encoding']).to.equal(fw.compresses ? 'gzip' : undefined);
      });

      it("files one row per request with the router's route template", () => {
        const logs = result.logs;
        expect(logs.map((l) => `${l.method} ${l.status}`)).to.deep.equal(['GET 200', 'POST 201', 'POST 422', 'GET 200', 'GET 401', 'GET 404', 'POST 499', 'GET 499']);
        expect(logs.map((l) => l.endpoint)).to.deep.include.members([fw.users, '/users', '/validate', fw.orders, '/upload', '/download']);
        expect(logs[0].endpoint).to.equal(fw.users);
        expect(logs[3].endpoint).to.equal(fw.orders);
        // No route matched: the path with ids collapsed, as before.
        expect(logs[5].endpoint).to.equal('/nope/{id}');
      });

      it('decodes the error body, redacted, and takes the error message from it', () => {
        const log = result.logs[2];
        expect(JSON.parse(log.responsePayload as string).error.message).to.equal('field email [REDACTED] is invalid');
        expect(log.error).to.equal('field email [REDACTED] is invalid');
        expect(result.logs[1].requestPayload).to.equal('{"name":"Ada","password":"[REDACTED]"}');
      });

      it('files an aborted upload and an abandoned download as 499 with an error saying so', () => {
        const [upload, download] = result.logs.slice(6);
        expect(upload).to.include({ endpoint: '/upload', status: 499 });
        expect(upload.error).to.match(/^client closed the connection/);
        expect(download).to.include({ endpoint: '/download', status: 499 });
        expect(download.error).to.match(/^client closed the connection before the response was complete \(the app answered 200/);
      });
    });
  }

  describe('ESM apps (import from the framework package)', () => {
    for (const [fixture, template] of [['koa', '/esm/users/:id'], ['hapi', '/esm/users/{id}'], ['fastify5', '/esm/users/:id']]) {
      it(`records the route template on ${fixture}`, async () => {
        const db = join(mkdtempSync(join(tmpdir(), 'auditspan-fw-')), 'esm.db');
        const app = await startApp({ instrumented: true, script: join(ROOT, 'test', 'fixtures', fixture, 'esm-app.mjs'), env: { AUDITSPAN_DB: db } });
        const answer = await rawCall(app.base, { path: '/esm/users/ada' });
        await app.stop('SIGTERM');
        expect(Buffer.from(answer.body, 'base64').toString()).to.equal('{"id":"ada"}');
        const logs = await rows(db);
        expect(logs.map((l) => l.endpoint)).to.deep.equal([template]);
      });
    }
  });

  describe('a node:http app answering through res.writeHead(status, headers)', () => {
    const forms: Array<[string, string]> = [['object', 'gzip'], ['object', 'deflate'], ['object', 'br'], ['array', 'gzip'], ['pairs', 'deflate'], ['reason', 'br']];
    const boundary = [302, 304, 399, 400];
    let result: Awaited<ReturnType<typeof compare>>;
    before(async () => {
      const requests: RawRequest[] = [
        ...forms.map(([form, enc]) => ({ path: `/validate?form=${form}&enc=${enc}`, ...json({ email: SECRETS.email }) })),
        ...boundary.map((status) => ({ path: `/status/${status}` })),
        { path: '/users/alice' },
      ];
      result = await compare(join(APPS, 'node-http.cjs'), {}, requests, async (base) => {
        await abortedUpload(base);
        await abandonedDownload(base);
      });
    });

    it('answers every request byte for byte as without auditspan', () => {
      expect(result.audited).to.deep.equal(result.bare);
    });

    it('decodes gzip, deflate and br error bodies whatever form the headers were given in', () => {
      const logs = result.logs.slice(0, forms.length);
      for (const [i, log] of logs.entries()) {
        expect(log.status, forms[i].join(' ')).to.equal(422);
        expect(JSON.parse(log.responsePayload as string).error.message, forms[i].join(' ')).to.equal('field email [REDACTED] is invalid');
        expect(log.error, forms[i].join(' ')).to.equal('field email [REDACTED] is invalid');
      }
    });

    it('keeps the response body of failures only: 302, 304 and 399 drop it, 400 keeps it', () => {
      const logs = result.logs.slice(forms.length, forms.length + boundary.length);
      expect(logs.map((l) => l.status)).to.deep.equal(boundary);
      expect(logs.map((l) => l.responsePayload)).to.deep.equal([null, null, null, '{"message":"answered 400"}']);
      expect(logs.map((l) => l.error)).to.deep.equal([null, null, null, 'answered 400']);
    });

    it('files an aborted upload and an abandoned download as 499, the upload with what arrived marked truncated', () => {
      const [upload, download] = result.logs.slice(-2);
      expect(upload).to.include({ endpoint: '/upload', status: 499, truncated: true });
      expect(upload.error).to.match(/^client closed the connection while sending the request body \(\d+ bytes read of 5242880 declared\); no response was sent$/);
      expect(upload.requestPayload).to.match(/^\{"data":"xxx/);
      expect(download).to.include({ endpoint: '/download', status: 499 });
      expect(download.error).to.match(/the app answered 200; not every byte was delivered/);
    });
  });
});
