import { expect } from 'chai';
import { openStore, type SqlStore } from '../../src/store';
import { MIGRATION_CONFIG } from '../../src/store/migrations';
import { DAY_US, listPartitions, partitionName } from '../../src/store/partitions';
import { toRow } from '../../src/store/rows';
import type { AuditRecord } from '../../src/record/types';
import { logId } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { createTestStore, pgReachable, REQUIRE_ALL, PG_URL, type TestStore } from '../helpers/stores';

const DAY_MS = 86_400_000;
const dayStartUs = (ms: number) => Math.floor(ms / DAY_MS) * DAY_US;
const names = async (store: SqlStore) => (await listPartitions(store.raw)).map((p) => p.name);
const at = (records: AuditRecord[], ms: number) => records.map((r, i) => ({ ...r, timestampUs: Math.floor(ms * 1000) + i }));

function pgSuite(title: string, suite: (ctx: { store: () => SqlStore; url: () => string }) => void): void {
  describe(`${title} [postgres]`, function () {
    let current: TestStore | undefined;
    before(async function () {
      if (!(await pgReachable())) {
        if (REQUIRE_ALL) throw new Error(`PostgreSQL at ${PG_URL} is not reachable`);
        this.skip();
      }
      current = await createTestStore('postgres');
    });
    after(async () => {
      await current?.cleanup();
    });
    suite({ store: () => current!.store, url: () => current!.url });
  });
}

/** Rolls migrations back one at a time until `name` is the last one applied. */
async function downTo(store: SqlStore, name: string): Promise<void> {
  for (;;) {
    const [done] = (await store.raw.migrate.list(MIGRATION_CONFIG)) as [Array<{ name: string } | string>];
    const last = done[done.length - 1];
    if ((typeof last === 'string' ? last : last.name) === name) return;
    await store.raw.migrate.down(MIGRATION_CONFIG);
  }
}

pgSuite('time partitions', ({ store, url }) => {
  it('creates the current partition and the next three at start', async () => {
    const now = Date.now();
    const have = await names(store());
    for (let d = 0; d <= 3; d++) expect(have).to.include(partitionName(dayStartUs(now + d * DAY_MS)));
  });

  it('creates partitions ahead again when maintained later', async () => {
    const later = Date.now() + 20 * DAY_MS;
    await store().maintainPartitions(later);
    const have = await names(store());
    for (let d = 0; d <= 3; d++) expect(have).to.include(partitionName(dayStartUs(later + d * DAY_MS)));
  });

  it('stores late and future spans in partitions created on demand, and finds them by id', async () => {
    const late = at(generateRecords(20, 71), Date.UTC(2024, 1, 29, 23, 59, 59));
    const future = at(generateRecords(20, 72), Date.UTC(2031, 0, 1, 0, 0, 0));
    const ancient = at(generateRecords(3, 73), 0);
    const batch = [...late, ...future, ...ancient];
    expect(await store().insertBatch(batch)).to.deep.equal({ inserted: batch.length, duplicates: 0 });
    expect(await store().insertBatch(batch)).to.deep.equal({ inserted: 0, duplicates: batch.length });
    const have = await names(store());
    expect(have).to.include.members(['logs_p20240229', 'logs_p20310101', 'logs_p19700101']);
    for (const r of [late[0], late[19], future[5], ancient[2]]) expect((await store().getLog(logId(r))).spanId).to.equal(r.spanId);
  });

  it('never creates a partition twice when several processes need it at once', async () => {
    const others = await Promise.all([1, 2, 3].map(() => openStore({ url: url(), poolSize: 2 })));
    try {
      const day = Date.UTC(2029, 5, 1, 12);
      const batches = [store(), ...others].map((s, i) => at(generateRecords(50, 80 + i), day + i * DAY_MS / 8));
      const results = await Promise.all([store(), ...others].map((s, i) => s.insertBatch(batches[i])));
      for (const r of results) expect(r).to.deep.equal({ inserted: 50, duplicates: 0 });
      expect((await names(store())).filter((n) => n === 'logs_p20290601')).to.have.length(1);
      expect(await store().countLogs({ from: Date.UTC(2029, 5, 1), to: Date.UTC(2029, 5, 2) })).to.equal(200);
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
  });

  it('reads only the partitions of a time window', async () => {
    await store().raw.raw('ANALYZE logs');
    const plan = await store().explainListLogs({ from: Date.UTC(2024, 1, 29), to: Date.UTC(2024, 2, 1) });
    expect(plan).to.contain('logs_p20240229');
    expect(plan).not.to.match(/logs_p2031|logs_p1970|logs_p2026|logs_p2029/);
  });
  it('stores a span whose partition another process dropped meanwhile', async () => {
    const other = await openStore({ url: url(), poolSize: 2 });
    try {
      const day = Date.UTC(2028, 2, 3, 6);
      await store().insertBatch(at(generateRecords(5, 90), day));
      await other.purgeOlderThan(Date.UTC(2028, 2, 4));
      expect(await names(store())).not.to.include('logs_p20280303');
      // `store` still believes in the dropped partition.
      expect(await store().insertBatch(at(generateRecords(5, 91), day))).to.deep.equal({ inserted: 5, duplicates: 0 });
      expect(await names(store())).to.include('logs_p20280303');
    } finally {
      await other.close();
    }
  });

});

pgSuite('retention by partition', ({ store }) => {
  // Five days of rows, 2030-03-01 to 2030-03-05 (UTC), 100 a day.
  const days = [1, 2, 3, 4, 5].map((d) => Date.UTC(2030, 2, d));
  const rows = days.flatMap((d, i) => generateRecords(100, 200 + i, { endMs: d + DAY_MS - 1, spanMs: DAY_MS - 1 }));

  before(async () => {
    expect((await store().insertBatch(rows)).inserted).to.equal(rows.length);
  });

  it('drops the partitions entirely older than the cutoff and deletes only the older rows of the day it cuts', async () => {
    const cutoff = Date.UTC(2030, 2, 3, 12); // noon of the third day
    const older = rows.filter((r) => r.timestampUs < cutoff * 1000);
    const before = await names(store());
    expect(before).to.include.members(['logs_p20300301', 'logs_p20300302', 'logs_p20300303']);
    expect(await store().purgeOlderThan(cutoff, { batchSize: 7 })).to.equal(older.length);
    const after = await names(store());
    expect(after).not.to.include.members(['logs_p20300301']);
    expect(after).not.to.include('logs_p20300302');
    expect(after).to.include.members(['logs_p20300303', 'logs_p20300304', 'logs_p20300305']);
    expect(await store().countLogs({})).to.equal(rows.length - older.length);
    expect(await store().countLogs({ to: cutoff })).to.equal(0);
    const kept = rows.filter((r) => r.timestampUs >= cutoff * 1000);
    for (const r of [kept[0], kept[kept.length - 1]]) expect((await store().getLog(logId(r))).spanId).to.equal(r.spanId);
  });

  it('finds nothing more to purge at the same cutoff', async () => {
    expect(await store().purgeOlderThan(Date.UTC(2030, 2, 3, 12))).to.equal(0);
  });

  it('accepts a late span for a purged day again (its partition is recreated)', async () => {
    const late = at(generateRecords(3, 300), Date.UTC(2030, 2, 1, 8));
    expect(await store().insertBatch(late)).to.deep.equal({ inserted: 3, duplicates: 0 });
    expect(await names(store())).to.include('logs_p20300301');
  });
});

pgSuite('migration 005 from an unpartitioned database', ({ store }) => {
  const NOW = Date.UTC(2026, 10, 20, 12);
  /** Rows stored before migration 004 (they also have ids of the first format), and between 004 and 005. */
  const FIRST = generateRecords(150, 401, { endMs: NOW - 3 * DAY_MS, spanMs: 4 * DAY_MS });
  const SECOND = generateRecords(150, 402, { endMs: NOW, spanMs: 3 * DAY_MS });
  const LATER = generateRecords(50, 403, { endMs: NOW, spanMs: DAY_MS });
  const legacyId = (r: AuditRecord) => `${r.traceId}-${r.spanId}`;

  before(async () => {
    await store().rollbackAll();
    for (let i = 0; i < 3; i++) await store().raw.migrate.up(MIGRATION_CONFIG);
    const rows = FIRST.map((r) => toRow(r, NOW));
    for (let i = 0; i < rows.length; i += 50) await store().raw('logs').insert(rows.slice(i, i + 50));
    await store().raw.migrate.up(MIGRATION_CONFIG); // 004
    await store().raw('logs').insert(SECOND.map((r) => toRow(r, NOW)));
    expect((await store().raw.raw("SELECT relkind FROM pg_class WHERE relname = 'logs'")).rows[0].relkind).to.equal('r');
    await store().migrate();
  });

  it('turns logs into a partitioned table holding every row, one partition per day of data', async () => {
    expect((await store().raw.raw("SELECT relkind FROM pg_class WHERE relname = 'logs'")).rows[0].relkind).to.equal('p');
    expect(await store().countLogs({})).to.equal(FIRST.length + SECOND.length);
    const have = await names(store());
    for (const r of [...FIRST, ...SECOND]) expect(have).to.include(partitionName(dayStartUs(r.timestampUs / 1000)));
  });

  it('resolves the ids of before, both forms', async () => {
    for (const r of [FIRST[0], FIRST[149], SECOND[0], SECOND[149]]) expect((await store().getLog(logId(r))).spanId).to.equal(r.spanId);
    expect((await store().getLog(legacyId(FIRST[9]))).traceId).to.equal(FIRST[9].traceId);
  });

  it('keeps writes idempotent and numbers new rows after the old ones', async () => {
    expect(await store().insertBatch([...FIRST.slice(0, 20), ...SECOND.slice(0, 20)])).to.deep.equal({ inserted: 0, duplicates: 40 });
    expect(await store().insertBatch(LATER)).to.deep.equal({ inserted: LATER.length, duplicates: 0 });
    const { max } = (await store().raw('logs').whereIn('span_id', FIRST.concat(SECOND).map((r) => r.spanId)).max({ max: 'id' }).first()) as { max: string };
    const { min } = (await store().raw('logs').whereIn('span_id', LATER.map((r) => r.spanId)).min({ min: 'id' }).first()) as { min: string };
    expect(Number(min)).to.be.greaterThan(Number(max));
    const all = await store().listLogs({}, { limit: 500 });
    expect(all.data).to.have.length(FIRST.length + SECOND.length + LATER.length);
  });

  it('migrates down to an unpartitioned table with every row, and up again', async () => {
    await downTo(store(), '004_time_ordered_key');
    expect((await store().raw.raw("SELECT relkind FROM pg_class WHERE relname = 'logs'")).rows[0].relkind).to.equal('r');
    expect(await store().countLogs({})).to.equal(FIRST.length + SECOND.length + LATER.length);
    expect((await store().getLog(legacyId(FIRST[3]))).spanId).to.equal(FIRST[3].spanId);
    await store().migrate();
    expect((await store().raw.raw("SELECT relkind FROM pg_class WHERE relname = 'logs'")).rows[0].relkind).to.equal('p');
    expect(await store().countLogs({})).to.equal(FIRST.length + SECOND.length + LATER.length);
    for (const r of [FIRST[1], SECOND[2], LATER[3]]) expect((await store().getLog(logId(r))).spanId).to.equal(r.spanId);
    expect((await store().getLog(legacyId(FIRST[4]))).spanId).to.equal(FIRST[4].spanId);
    expect(await store().insertBatch(LATER)).to.deep.equal({ inserted: 0, duplicates: LATER.length });
  });
});
