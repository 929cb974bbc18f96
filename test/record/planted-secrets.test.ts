/**
 * Every secret kind that once reached the database (issue 18.5), planted through both entry
 * points — an app run with `--import auditspan/register` (the worker pipeline) and the OTLP
 * receiver — then looked for in the raw bytes the database holds: the SQLite file with its
 * WAL, and PostgreSQL's rows as text.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { startOtlpHttpReceiver } from '../../src/receiver';
import { startApp, ROOT } from '../instrumentation/app-process';
import { createTestStore, pgReachable, REQUIRE_ALL, PG_URL, type TestStore } from '../helpers/stores';
import { LEAK_MARKERS, MORE_SECRETS as M, PEM, SECRETS } from './secrets';

/** Bytes that must be nowhere: every planted value (the cvv and password have no shape, but were planted by key). */
const MARKERS = [...LEAK_MARKERS, SECRETS.password];

const JSON_BODY = {
  certificate: PEM,
  pem: PEM,
  note: `aws ${M.awsSecret} google ${M.googleKey} call ${M.phoneSpaces} iban ${M.ibanLower} card ${M.cardDots}`,
  data: JSON.stringify({ user: 'bob', password: M.nestedPassword }),
  'p\u0430ssword': M.homoglyphPassword,
  customer: { first_name: M.firstName, last_name: M.lastName, street_address: M.street, postcode: M.postcode },
};
const TEXT_BODY = `please rotate this key:\n${PEM}\nand this one ${M.awsSecret}`;
const QUERY = `a=1;password=${M.semicolonPassword};first_name=${M.firstName}`;
const RESET_PATH = `/password-reset/${M.resetToken}`;

/** The raw bytes of the database: every SQLite file (main, -wal, -shm), or every PostgreSQL row as text. */
async function databaseBytes(store: TestStore, dialect: 'sqlite' | 'postgres'): Promise<Buffer> {
  if (dialect === 'sqlite') {
    const dir = dirname(store.url);
    const files = readdirSync(dir).filter((f) => f.startsWith('audit.db'));
    expect(files).to.include('audit.db');
    return Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
  }
  const client = new Client({ connectionString: store.url });
  await client.connect();
  try {
    const res = await client.query<{ row: string }>('SELECT t::text AS row FROM logs t');
    expect(res.rows.length).to.be.greaterThan(0);
    return Buffer.from(res.rows.map((r) => r.row).join('\n'));
  } finally {
    await client.end();
  }
}

function expectNoneIn(bytes: Buffer, where: string): void {
  for (const marker of MARKERS) expect(bytes.includes(Buffer.from(marker)), `${JSON.stringify(marker)} in ${where}`).to.equal(false);
  // PostgreSQL's text form escapes quotes and newlines, so also look for a piece of the key body on its own.
  expect(bytes.includes(Buffer.from('MIIEowIBAAKCAQEAu1SU1')), `PEM body in ${where}`).to.equal(false);
}

function otlpString(key: string, value: string) {
  return { key, value: { stringValue: value } };
}

function otlpSpan(i: number, attributes: Array<Record<string, unknown>>) {
  const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
  return {
    traceId: hex(i + 0xabc, 32), spanId: hex(i + 0xabc, 16), name: 'POST /x', kind: 2,
    startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n), endTimeUnixNano: String(1_700_000_000_012_000_000n + BigInt(i) * 1_000_000n),
    attributes: [
      otlpString('http.request.method', 'POST'), otlpString('url.scheme', 'https'), otlpString('server.address', 'api.example.com'),
      { key: 'http.response.status_code', value: { intValue: '400' } },
      ...attributes,
    ],
  };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`planted secrets never reach the database bytes [${dialect}]`, function () {
    this.timeout(90_000);
    let store: TestStore | undefined;
    before(async function () {
      if (dialect === 'postgres' && !(await pgReachable())) {
        if (REQUIRE_ALL) throw new Error(`PostgreSQL at ${PG_URL} is not reachable`);
        this.skip();
      }
      store = await createTestStore(dialect);
    });
    after(async () => {
      await store?.cleanup();
    });

    it('through the OTLP receiver', async () => {
      const receiver = await startOtlpHttpReceiver({ store: store!.store, port: 0 });
      try {
        const spans = [
          otlpSpan(1, [otlpString('url.path', '/v1/charges'), otlpString('url.query', QUERY),
            otlpString('http.request.header.content-type', 'application/json'),
            otlpString('auditspan.request.body', JSON.stringify(JSON_BODY)), otlpString('auditspan.response.body', TEXT_BODY)]),
          otlpSpan(2, [otlpString('url.path', RESET_PATH), otlpString('auditspan.request.body', TEXT_BODY),
            otlpString('http.request.header.content-type', 'text/plain'), otlpString('auditspan.error.message', `bad key ${M.googleKey} for ${M.phoneSpaces}`)]),
        ];
        const res = await fetch(`http://127.0.0.1:${receiver.port}/v1/traces`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] }),
        });
        expect(res.status).to.equal(200);
      } finally {
        await receiver.close();
      }
      const page = await store!.store.listLogs({}, { limit: 10 });
      expect(page.data.length).to.equal(2);
      expectNoneIn(await databaseBytes(store!, dialect), `${dialect} after OTLP`);
    });

    it('through node --import auditspan/register (the worker pipeline)', async function () {
      if (!existsSync(join(ROOT, 'dist', 'register.mjs'))) throw new Error('run npm run build first');
      const before = (await store!.store.listLogs({}, { limit: 50 })).data.length;
      const app = await startApp({ instrumented: true, env: { AUDITSPAN_DB: store!.url } });
      try {
        const calls = [
          fetch(`${app.base}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(JSON_BODY) }),
          fetch(`${app.base}/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'x', password: M.nestedPassword, note: TEXT_BODY }) }),
          fetch(`${app.base}/items/7?${QUERY}`),
          fetch(`${app.base}${RESET_PATH}`),
        ];
        for (const c of calls) await (await c).text();
      } finally {
        await app.stop('SIGTERM');
      }
      const after = (await store!.store.listLogs({}, { limit: 50 })).data;
      expect(after.length - before).to.equal(4);
      expect(after.map((l) => l.url).join(' ')).to.contain('/password-reset/[REDACTED]').and.contain('password=[REDACTED]');
      expectNoneIn(await databaseBytes(store!, dialect), `${dialect} after register()`);
      expect(app.output()).to.not.contain(M.awsSecret);
    });
  });
}
