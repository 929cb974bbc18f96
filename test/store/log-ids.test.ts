import { expect } from 'chai';
import { formatLogId } from '../../src/record';
import { NotFoundError } from '../../src/store';
import { MIGRATION_CONFIG } from '../../src/store/migrations';
import { toRow } from '../../src/store/rows';
import { logId } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { forEachStore } from '../helpers/stores';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
/** Rows stored before migration 004, and rows stored after it. */
const BEFORE = generateRecords(200, 41, { endMs: NOW - 86_400_000, spanMs: 86_400_000 });
const AFTER = generateRecords(200, 42, { endMs: NOW, spanMs: 86_400_000 });
const legacyId = (r: { traceId: string; spanId: string }) => `${r.traceId}-${r.spanId}`;

async function notFound(work: Promise<unknown>): Promise<void> {
  try {
    await work;
    expect.fail('found');
  } catch (err) {
    expect(err).to.be.instanceOf(NotFoundError);
  }
}

forEachStore('log ids across migration 004', ({ store, dialect }) => {
  before(async () => {
    // Back to the schema of the first release (migrations 001–003), rows written as it wrote them.
    await store().rollbackAll();
    for (let i = 0; i < 3; i++) await store().raw.migrate.up(MIGRATION_CONFIG);
    const rows = BEFORE.map((r) => ({ ...toRow(r, NOW), truncated: r.truncated ? 1 : 0 }));
    for (let i = 0; i < rows.length; i += 100) await store().raw('logs').insert(rows.slice(i, i + 100));
    await store().migrate();
    expect(await store().insertBatch(AFTER)).to.deep.equal({ inserted: AFTER.length, duplicates: 0 });
  });

  it('gives every row an id made of its start time and span id', async () => {
    const page = await store().listLogs({}, { limit: 500 });
    expect(page.data).to.have.length(BEFORE.length + AFTER.length);
    for (const log of page.data) expect(log.id).to.equal(formatLogId(log.timestampUs, log.spanId));
  });

  it('reads rows from before and after the migration by their id', async () => {
    for (const r of [BEFORE[0], BEFORE[199], AFTER[0], AFTER[199]]) expect((await store().getLog(logId(r))).spanId).to.equal(r.spanId);
  });

  it('still resolves the ids handed out before the migration (trace id-span id)', async () => {
    const log = await store().getLog(legacyId(BEFORE[7]));
    expect(log.traceId).to.equal(BEFORE[7].traceId);
    expect(log.id).to.equal(logId(BEFORE[7]));
    await notFound(store().getLog(legacyId(BEFORE[7]), 'no-such-company'));
  });

  it('answers an old-style id of a row stored since as not found', async () => {
    await notFound(store().getLog(legacyId(AFTER[3])));
  });

  it('skips spans replayed across the migration as duplicates', async () => {
    expect(await store().insertBatch([...BEFORE.slice(0, 50), ...AFTER.slice(0, 50)])).to.deep.equal({ inserted: 0, duplicates: 100 });
    expect(await store().countLogs({})).to.equal(BEFORE.length + AFTER.length);
  });

  it('answers malformed and unsafe ids as not found', async () => {
    for (const id of ['', 'x', `${'9'.repeat(17)}-${AFTER[0].spanId}`, `99999999999999999-${AFTER[0].spanId}`, `${AFTER[0].timestampUs}-${AFTER[0].spanId.toUpperCase()}`]) {
      await notFound(store().getLog(id));
    }
  });

  if (dialect === 'sqlite') {
    it('reads one index entry per lookup, in either id form', async () => {
      const plan = async (sql: string, bindings: unknown[]) =>
        JSON.stringify(await store().raw.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as never));
      const timeOrdered = await plan('select * from logs where ts_us = ? and span_id = ? limit 1', [AFTER[0].timestampUs, AFTER[0].spanId]);
      expect(timeOrdered).to.contain('logs_ts_span');
      const max = (await store().raw('auditspan_meta').where({ name: 'legacy_id_max' }).first()) as { value: string };
      expect(Number(max.value)).to.equal(BEFORE.length);
      const legacy = await plan(`select * from logs where trace_id = ? and span_id = ? and id <= ${max.value} limit 1`, [BEFORE[0].traceId, BEFORE[0].spanId]);
      expect(legacy).to.contain('logs_trace_span_legacy');
    });
  }

  it('migrates down to the first schema and up again', async () => {
    await store().rollbackAll();
    await store().migrate();
    expect(await store().insertBatch(AFTER.slice(0, 10))).to.deep.equal({ inserted: 10, duplicates: 0 });
  });
});
