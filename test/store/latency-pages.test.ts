import { expect } from 'chai';
import type { LogFilter } from '../../src/store/types';
import { LATENCY_WALK_ROWS } from '../../src/store/reads';
import { MIGRATION_CONFIG } from '../../src/store/migrations';
import { expectedIds } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { forEachStore } from '../helpers/stores';
import { walk } from '../helpers/pages';

forEachStore('pages with latency bounds', ({ store, dialect }) => {
  const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
  // Nine days: the read by latency goes back an hour, then 2, 4, … 128 hours at a time (reads.ts).
  const records = generateRecords(LATENCY_WALK_ROWS * 2 + 500, 55, { endMs: NOW, spanMs: 9 * 86_400_000 });
  // A busy last half hour: more rows than the walk's within PostgreSQL's walk window of an hour, so the walk ends at a row there.
  records.push(...generateRecords(LATENCY_WALK_ROWS + 300, 56, { endMs: NOW - 60_000, spanMs: 1_800_000 }));
  // A span whose clock said it lasted about 100 days: its row must still be found by a lower bound.
  records.push({ ...records[records.length - 1], spanId: 'f'.repeat(16), timestampUs: (NOW - 5 * 86_400_000) * 1000, latencyMs: 2 ** 33 });

  before(async function () {
    // 2 300 rows in 500-row batches: slow on a busy shared machine.
    this.timeout(180_000);
    for (let i = 0; i < records.length; i += 500) await store().insertBatch(records.slice(i, i + 500));
  });

  // Common matches (read in time order), rare ones (read by latency past the newest rows), both bounds, with other filters.
  const filters: LogFilter[] = [
    { minLatencyMs: 20 },
    { minLatencyMs: 250 },
    { minLatencyMs: 600 },
    { maxLatencyMs: 6 },
    { minLatencyMs: 100, maxLatencyMs: 101 },
    { minLatencyMs: 300, companyId: 'acme', statusClasses: [5] },
    { maxLatencyMs: 10, endpoints: ['/v1/charges'], from: NOW - 86_400_000 },
    // Several bins between the bounds, bounds equal to stored values, a token filter with a bound.
    { minLatencyMs: 7, maxLatencyMs: 900 },
    { minLatencyMs: records[100].latencyMs, maxLatencyMs: records[200].latencyMs + 500 },
    { minLatencyMs: 400, tokens: [records.find((r) => r.tokenName)?.tokenName ?? ''] },
    // Windows that end before the newest rows: PostgreSQL's walk starts an hour before `to`.
    { minLatencyMs: 250, to: NOW - 3 * 86_400_000 },
    { maxLatencyMs: 30, from: NOW - 2 * 86_400_000, to: NOW - 20 * 60_000 },
    { minLatencyMs: 250, to: NOW - 30 * 86_400_000 },
  ];
  for (const filter of filters) {
    it(`walks every page of ${JSON.stringify(filter)} in order, each row once`, async () => {
      const expected = expectedIds(records, filter);
      expect(await walk(store(), filter, 50)).to.deep.equal(expected);
      expect(await walk(store(), filter, 7)).to.deep.equal(expected);
    });
  }

  it('answers an empty page for a lower bound above every latency stored, and for an empty range', async () => {
    // The slowest row lasted 2^33 ms: 2^40 lies bins above the highest bin stored.
    for (const filter of [{ minLatencyMs: 2 ** 40 }, { minLatencyMs: 2 ** 34, maxLatencyMs: 2 ** 35 }, { minLatencyMs: 0.25, maxLatencyMs: 0.3 }] as LogFilter[]) {
      expect(expectedIds(records, filter), JSON.stringify(filter)).to.deep.equal([]);
      expect(await walk(store(), filter, 50), JSON.stringify(filter)).to.deep.equal([]);
    }
  });

  it('reads rare matches from the latency index, not by scanning the window', async function () {
    // PostgreSQL rightly reads a few thousand rows whole; its plans at scale: npm run bench -- rollups.
    if (dialect !== 'sqlite') this.skip();
    for (const filter of [{ minLatencyMs: 600 }, { minLatencyMs: 100, maxLatencyMs: 101 }, { maxLatencyMs: 0.5 }] as LogFilter[]) {
      const plan = (await store().explainListLogs(filter)).split('(then by latency')[1];
      // One bin, read in time order: an equality on the bin, no sort of the bin's rows.
      expect(plan, JSON.stringify(filter)).to.match(/SEARCH logs USING (COVERING )?INDEX logs_latency_bin_ts \(<expr>=\? AND ts_us/);
      expect(plan, JSON.stringify(filter)).to.not.match(/TEMP B-TREE/);
    }
  });

  it("checks a bin's candidates against the bounds and a viewer's company in the index, reading no row", async function () {
    if (dialect !== 'sqlite') this.skip();
    for (const filter of [{ minLatencyMs: 600, companyId: 'acme' }, { maxLatencyMs: 6, companyId: 'acme' }, { minLatencyMs: 600 }] as LogFilter[]) {
      const plan = (await store().explainListLogs(filter)).split('(then by latency')[1];
      expect(plan, JSON.stringify(filter)).to.match(/SEARCH logs USING COVERING INDEX logs_latency_bin_ts \(<expr>=\? AND ts_us/);
    }
    // Any other filter reads the candidate's row: still found, as the walks above check.
    const other = (await store().explainListLogs({ minLatencyMs: 600, statusClasses: [5] })).split('(then by latency')[1];
    expect(other).to.match(/SEARCH logs USING INDEX logs_latency_bin_ts/);
  });

  it('keeps every page the same when migration 013 goes down and up again', async function () {
    if (dialect !== 'sqlite') this.skip();
    this.timeout(60_000);
    const filter: LogFilter = { minLatencyMs: 300, companyId: 'acme' };
    const expected = expectedIds(records, filter);
    await store().raw.migrate.down({ ...MIGRATION_CONFIG, name: '013_sqlite_latency_index_covers' });
    expect(await walk(store(), filter, 50)).to.deep.equal(expected);
    const before = (await store().explainListLogs(filter)).split('(then by latency')[1];
    expect(before).to.match(/SEARCH logs USING INDEX logs_latency_bin_ts/);
    await store().migrate();
    expect(await walk(store(), filter, 50)).to.deep.equal(expected);
    expect((await store().explainListLogs(filter)).split('(then by latency')[1]).to.match(/COVERING INDEX logs_latency_bin_ts/);
  });
});
