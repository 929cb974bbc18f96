import { expect } from 'chai';
import type { AuditRecord } from '../../src/record/types';
import { InvalidCursorError, NotFoundError, openStore, StoreUnavailableError, ConflictError } from '../../src/store';
import type { LogFilter } from '../../src/store/types';
import { expectedIds, logId, matches } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { createTestStore, forEachStore } from '../helpers/stores';
import { walk } from '../helpers/pages';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const FIXTURES = generateRecords(1200, 7, { endMs: NOW, spanMs: 3 * 86_400_000 });

forEachStore('store', ({ store, dialect }) => {
  before(async () => {
    const result = await store().insertBatch(FIXTURES);
    expect(result).to.deep.equal({ inserted: FIXTURES.length, duplicates: 0 });
  });

  describe('writes', () => {
    it('skips a replayed batch as duplicates without new rows', async () => {
      const again = await store().insertBatch(FIXTURES.slice(0, 300));
      expect(again).to.deep.equal({ inserted: 0, duplicates: 300 });
      expect(await store().countLogs({})).to.equal(FIXTURES.length);
    });

    for (const size of [1, 499, 500, 501, 512, 2000]) {
      it(`writes a batch of ${size} in one go`, async () => {
        const batch = generateRecords(size, 1000 + size, { endMs: NOW - 10 * 86_400_000, spanMs: 86_400_000 });
        expect(await store().insertBatch(batch)).to.deep.equal({ inserted: size, duplicates: 0 });
        expect(await store().countLogs({ to: NOW - 9 * 86_400_000 })).to.be.at.least(size);
        await store().purgeOlderThan(NOW - 9 * 86_400_000);
      });
    }

    it('stores every field and reads it back by id', async () => {
      const r = FIXTURES[5];
      const log = await store().getLog(logId(r));
      const { id, createdAt, updatedAt, ...rest } = log;
      expect(rest).to.deep.equal(r);
      expect(id).to.equal(`${r.timestampUs}-${r.spanId}`);
      expect(Date.parse(createdAt)).to.be.greaterThan(0);
      expect(updatedAt).to.equal(createdAt);
    });

    it('stores text and numbers exactly as given', async () => {
      const text = 'quote " backslash \\ \\u0041 slash / tab \t line \n \u2028 emoji 😀 [1,{"a":null}] é';
      const [a, b] = generateRecords(2, 4242, { endMs: NOW - 20 * 86_400_000 });
      const records: AuditRecord[] = [
        { ...a, url: `/t?q=${text}`, requestPayload: text, responsePayload: '{"error":"😀"}', error: 'ÿ\\"', latencyMs: 12, truncated: true, userAgent: null },
        { ...b, requestPayload: null, latencyMs: 0.125, truncated: false, tokenName: '', companyId: null },
      ];
      expect(await store().insertBatch(records)).to.deep.equal({ inserted: 2, duplicates: 0 });
      const first = await store().getLog(logId(records[0]));
      expect(first).to.include({ url: `/t?q=${text}`, requestPayload: text, responsePayload: '{"error":"😀"}', error: 'ÿ\\"', latencyMs: 12, truncated: true, userAgent: null });
      expect(first.timestampUs).to.equal(records[0].timestampUs);
      const second = await store().getLog(logId(records[1]));
      expect(second).to.include({ requestPayload: null, latencyMs: 0.125, truncated: false, tokenName: '', companyId: null });
      await store().purgeOlderThan(NOW - 19 * 86_400_000);
    });

    it('writes a batch larger than one statement holds, its replayed rows skipped and every row indexed', async () => {
      // ~10 MB of JSON: more than one INSERT statement on the knex SQLite path.
      const batch = generateRecords(700, 4343, { endMs: NOW - 30 * 86_400_000, spanMs: 86_400_000 })
        .map((r, i) => ({ ...r, requestPayload: `{"note":"${'x'.repeat(14_000)}","tag":"bigbatch${i}zq"}`, truncated: false }));
      expect(await store().insertBatch(batch.slice(0, 100))).to.deep.equal({ inserted: 100, duplicates: 0 });
      expect(await store().insertBatch(batch)).to.deep.equal({ inserted: 600, duplicates: 100 });
      const window = { from: NOW - 32 * 86_400_000, to: NOW - 29 * 86_400_000 };
      expect(await store().countLogs(window)).to.equal(700);
      for (const i of [5, 350, 699]) {
        const found = await store().listLogs({ ...window, q: `bigbatch${i}zq` }, { limit: 5 });
        expect(found.data.map((l) => l.id), `row ${i}`).to.deep.equal([logId(batch[i])]);
      }
      expect((await store().stats(window)).total).to.equal(700);
      await store().purgeOlderThan(NOW - 29 * 86_400_000);
    });

    it('keeps a batch atomic: a bad row fails the whole batch', async () => {
      const before = await store().countLogs({});
      const bad = { ...generateRecords(1, 99)[0], method: null } as unknown as AuditRecord;
      let failed = false;
      try {
        await store().insertBatch([...generateRecords(10, 98), bad]);
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
      expect(await store().countLogs({})).to.equal(before);
    });
  });

  describe('queries', () => {
    const filters: Array<[string, LogFilter]> = [
      ['no filter', {}],
      ['time range', { from: NOW - 86_400_000, to: NOW - 3_600_000 }],
      ['one endpoint', { endpoints: ['/v1/charges'] }],
      ['two endpoints', { endpoints: ['/v1/charges', '/v1/refunds'] }],
      ['methods', { methods: ['POST', 'DELETE'] }],
      ['status class 5xx', { statusClasses: [5] }],
      ['status 4xx or exact 200', { statusClasses: [4], statusCodes: [200] }],
      ['exact codes', { statusCodes: [404, 422] }],
      ['token', { tokens: ['prod-billing'] }],
      ['text in url', { q: 'PAGE=3' }],
      ['text in error', { q: 'database timeout' }],
      ['latency range', { minLatencyMs: 50, maxLatencyMs: 200 }],
      ['company scope', { companyId: 'globex' }],
      ['combination', { companyId: 'acme', endpoints: ['/v1/charges', '/v1/customers'], statusClasses: [2, 4], tokens: ['prod-billing'], from: NOW - 2 * 86_400_000, minLatencyMs: 10 }],
      ['nothing matches', { endpoints: ['/nope'] }],
    ];
    for (const [name, filter] of filters) {
      it(`returns exactly the matching rows, newest first: ${name}`, async () => {
        const ids = await walk(store(), filter, 97);
        expect(ids).to.deep.equal(expectedIds(FIXTURES, filter));
        expect(await store().countLogs(filter)).to.equal(ids.length);
      });
    }

    it('keeps pages free of duplicates and gaps while new rows arrive', async () => {
      const filter: LogFilter = { companyId: 'initech' };
      const expected = expectedIds(FIXTURES, filter);
      const seen: string[] = [];
      let cursor: string | undefined;
      let round = 0;
      do {
        const page = await store().listLogs(filter, { limit: 25, cursor });
        seen.push(...page.data.map((l) => l.id));
        cursor = page.nextCursor ?? undefined;
        // Newer rows arriving between pages must not shift the walk.
        await store().insertBatch(generateRecords(3, 5000 + round++, { endMs: NOW + 3_600_000, spanMs: 1000 }).map((r) => ({ ...r, companyId: 'initech' })));
      } while (cursor);
      expect(seen).to.deep.equal(expected);
      await store().purgeOlderThan(0);
    });

    it('rejects a tampered cursor', async () => {
      for (const bad of ['nope', Buffer.from('v1:1:x').toString('base64url'), 'A'.repeat(200)]) {
        try {
          await store().listLogs({}, { limit: 5, cursor: bad });
          expect.fail('accepted a bad cursor');
        } catch (err) {
          expect(err).to.be.instanceOf(InvalidCursorError);
        }
      }
    });

    it('keeps injection strings inert', async () => {
      for (const evil of ["'; drop table logs; --", '%', '_', '\\', "' OR '1'='1"]) {
        const filter = { q: evil, endpoints: [evil], tokens: [evil], companyId: evil };
        expect(await walk(store(), filter, 50)).to.deep.equal([]);
        expect((await store().listLogs({ q: evil }, { limit: 500 })).data.length).to.equal(FIXTURES.filter((r) => matches(r, { q: evil })).length);
      }
      expect(await store().countLogs({})).to.be.at.least(FIXTURES.length);
    });

    it('hides another company\'s log as not found', async () => {
      const r = FIXTURES.find((f) => f.companyId === 'acme') as AuditRecord;
      expect((await store().getLog(logId(r), 'acme')).id).to.equal(logId(r));
      for (const [id, company] of [[logId(r), 'globex'], ['0'.repeat(32) + '-' + '0'.repeat(16), undefined], ['garbage', undefined]] as const) {
        try {
          await store().getLog(id, company);
          expect.fail('found');
        } catch (err) {
          expect(err).to.be.instanceOf(NotFoundError);
        }
      }
    });

    it('computes stats that match an independent computation', async () => {
      const filter: LogFilter = { companyId: 'acme', from: NOW - 2 * 86_400_000, to: NOW };
      const rows = FIXTURES.filter((r) => matches(r, filter));
      const stats = await store().stats(filter, { bucketMs: 3_600_000 });
      expect(stats.total).to.equal(rows.length);
      for (const c of [2, 3, 4, 5]) {
        expect(stats.byStatusClass[`${c}xx` as '2xx'], `${c}xx`).to.equal(rows.filter((r) => Math.floor(r.status / 100) === c).length);
      }
      expect(stats.series.reduce((n, s) => n + s.total, 0)).to.equal(rows.length);
      expect(stats.bucketMs).to.equal(3_600_000);
      // One point per hour, on the hour: at most 48 over two days, however many rows.
      expect(stats.series.length).to.be.at.most(49);
      for (const point of stats.series) expect(Date.parse(point.t) % 3_600_000, point.t).to.equal(0);
      for (const point of stats.series) expect(point.total).to.equal(point['1xx'] + point['2xx'] + point['3xx'] + point['4xx'] + point['5xx']);
      const sorted = rows.map((r) => r.latencyMs).sort((a, b) => a - b);
      const p95 = sorted[Math.floor(0.95 * (sorted.length - 1))];
      expect(stats.latency.p95).to.be.closeTo(p95, Math.max(1, p95 * 0.05));
      const errors = rows.filter((r) => r.status >= 400).length;
      expect(stats.errorRate).to.be.closeTo(errors / rows.length, 0.001);
      const charges = rows.filter((r) => r.endpoint === '/v1/charges');
      expect(stats.endpoints.find((e) => e.endpoint === '/v1/charges')?.count).to.equal(charges.length);
    });

    it('lists facets within scope', async () => {
      const facets = await store().facets({ companyId: 'globex' });
      expect(facets.tokens).to.deep.equal(['globex-sync']);
      expect(facets.methods).to.include('POST');
      expect(facets.statuses.every((s) => typeof s === 'number')).to.equal(true);
      expect(facets.endpoints).to.include('/v1/charges');
    });

    it('exports every matching row in order', async () => {
      const filter: LogFilter = { statusClasses: [4], to: NOW + 1 };
      const ids: string[] = [];
      for await (const log of store().exportLogs(filter)) ids.push(log.id);
      expect(ids).to.deep.equal(expectedIds(FIXTURES, filter));
    });
  });

  describe('keys, views and retention', () => {
    it('creates, finds, touches, lists and revokes keys', async () => {
      const k = await store().createApiKey({ name: 'acme-support', companyId: 'acme', hash: 'h1' });
      expect(k).to.include({ name: 'acme-support', companyId: 'acme', lastUsedAt: null, revokedAt: null });
      try {
        await store().createApiKey({ name: 'acme-support', companyId: 'acme', hash: 'h2' });
        expect.fail('duplicate accepted');
      } catch (err) {
        expect(err).to.be.instanceOf(ConflictError);
      }
      expect((await store().findApiKeyByHash('h1'))?.name).to.equal('acme-support');
      await store().touchApiKey(k.id);
      expect((await store().listApiKeys())[0].lastUsedAt).to.be.a('string');
      await store().revokeApiKey('acme-support');
      expect(await store().findApiKeyByHash('h1')).to.equal(null);
      try {
        await store().revokeApiKey('nobody');
        expect.fail('revoked nobody');
      } catch (err) {
        expect(err).to.be.instanceOf(NotFoundError);
      }
    });

    it('records who viewed a log', async () => {
      const id = logId(FIXTURES[0]);
      await store().recordView({ logId: id, keyName: 'acme-support', companyId: 'acme' });
      const views = await store().listViews(id);
      expect(views).to.have.length(1);
      expect(views[0]).to.include({ logId: id, keyName: 'acme-support', companyId: 'acme' });
    });

    it('purges rows older than a cutoff in batches', async () => {
      const cutoff = NOW - 2 * 86_400_000;
      const old = FIXTURES.filter((r) => r.timestampUs < cutoff * 1000).length;
      const before = await store().countLogs({});
      expect(await store().purgeOlderThan(cutoff, { batchSize: 100 })).to.equal(old);
      expect(await store().countLogs({})).to.equal(before - old);
      expect(await store().countLogs({ to: cutoff })).to.equal(0);
    });

    // Last in the suite: it empties this suite's own database.
    it('migrates down and up again', async () => {
      await store().rollbackAll();
      await store().migrate();
      expect(await store().countLogs({})).to.equal(0);
    });
  });
});

describe('store errors', () => {
  it('reports an unreachable PostgreSQL as unavailable, quickly, without the password', async () => {
    const started = Date.now();
    try {
      await openStore({ url: 'postgres://u:pw-secret@127.0.0.1:1/x' });
      expect.fail('opened');
    } catch (err) {
      expect(err).to.be.instanceOf(StoreUnavailableError);
      expect((err as Error).message).to.not.contain('pw-secret');
      expect((err as Error).message.split('\n')).to.have.length(1);
    }
    expect(Date.now() - started).to.be.below(15_000);
  });

  it('rejects an unsupported URL scheme', async () => {
    try {
      await openStore({ url: 'mysql://x' });
      expect.fail('opened');
    } catch (err) {
      expect((err as Error).message).to.match(/unsupported database URL scheme/);
    }
  });
});

describe('SQLite connection settings', () => {
  for (const driver of ['sqlite3', 'better-sqlite3'] as const) {
    it(`runs ${driver} in WAL mode with a 10 000-page checkpoint window and a bounded WAL file`, async () => {
      const t = await createTestStore('sqlite', driver);
      try {
        const pragma = async (name: string): Promise<unknown> => {
          const rows = (await t.store.raw.raw(`PRAGMA ${name}`)) as Array<Record<string, unknown>>;
          return Object.values(rows[0])[0];
        };
        expect(await pragma('journal_mode')).to.equal('wal');
        expect(await pragma('wal_autocheckpoint')).to.equal(10_000);
        expect(await pragma('journal_size_limit')).to.equal(64 * 1024 * 1024);
      } finally {
        await t.cleanup();
      }
    });
  }
});
