import { expect } from 'chai';
import type { AuditRecord } from '../../src/record/types';
import { MIGRATION_CONFIG } from '../../src/store/migrations';
import {
  aggregateFacts, binValue, COARSE, HOUR_US, factFromRow, FACT_COLUMNS, histogramPercentile, LATENCY_BINS, latencyBin, LEVELS, PERCENTILE_RELATIVE_ERROR,
  ROLLUP_TABLE, type RollupLevel,
} from '../../src/store/rollups';
import { planWindow } from '../../src/store/rollup-reads';
import { computeStats } from '../../src/store/stats';
import type { SqlStore } from '../../src/store';
import type { LogFilter, Stats } from '../../src/store/types';
import { matches } from '../helpers/expected';
import { COMPANIES, ENDPOINTS, generateRecords, prng, TOKENS } from '../helpers/fixtures';
import { forEachStore } from '../helpers/stores';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20, 12, 17, 23);

/** Every rollup row of a level as stored, in one canonical text per row. */
async function storedRollups(store: SqlStore, level: RollupLevel): Promise<string[]> {
  const rows = (await store.raw(level.table).select('*')) as Array<Record<string, unknown>>;
  const value = (d: string, v: unknown) => (d === 'status' || d === 'status_class' ? Number(v) : v);
  return rows
    .map((r) => JSON.stringify([Number(r.grain), Number(r.bucket_us), ...level.dimensions.map((d) => value(d, r[d])), Number(r.n), Number(r.last_us), ...Array.from({ length: LATENCY_BINS }, (_, k) => Number(r[`h${k}`]))]))
    .sort();
}

/** The rollup rows of a level recomputed from the rows now in `logs`. */
async function expectedRollups(store: SqlStore, level: RollupLevel): Promise<string[]> {
  const rows = (await store.raw('logs').select(...FACT_COLUMNS)) as Array<Record<string, unknown>>;
  return aggregateFacts(rows.map(factFromRow), level)
    .map((d) => JSON.stringify([d.grain, d.bucketUs, ...d.key, d.n, d.lastUs, ...d.hist]))
    .sort();
}

async function expectExactRollups(store: SqlStore): Promise<void> {
  const rows = Number(((await store.raw('logs').count('* as n').first()) as { n: unknown }).n);
  for (const level of LEVELS) {
    const [stored, expected] = await Promise.all([storedRollups(store, level), expectedRollups(store, level)]);
    expect(stored.length, level.table).to.equal(expected.length);
    expect(stored, level.table).to.deep.equal(expected);
    // And independently of the aggregation code: each grain's counts add up to the rows.
    for (const grain of [3_600_000_000, 86_400_000_000]) {
      const sum = (await store.raw(level.table).where('grain', grain).sum('n as n').first()) as { n: unknown };
      expect(Number(sum.n ?? 0), `${level.table} grain ${grain}`).to.equal(rows);
    }
  }
}

/** Counts, classes, series counts and endpoint counts exactly; percentiles within the stated error. */
function expectSameStats(actual: Stats, raw: Stats, what: string): void {
  expect(actual.total, what).to.equal(raw.total);
  expect(actual.byStatusClass, what).to.deep.equal(raw.byStatusClass);
  expect(actual.errorRate, what).to.equal(raw.errorRate);
  expect(actual.bucketMs, what).to.equal(raw.bucketMs);
  const counts = (s: Stats['series'][number]) => ({ t: s.t, total: s.total, a: s['1xx'], b: s['2xx'], c: s['3xx'], d: s['4xx'], e: s['5xx'] });
  expect(actual.series.map(counts), what).to.deep.equal(raw.series.map(counts));
  expect(actual.endpoints.map((e) => [e.endpoint, e.count, e.errorRate]), what).to.deep.equal(raw.endpoints.map((e) => [e.endpoint, e.count, e.errorRate]));
  const close = (a: number | null, b: number | null, label: string) => {
    if (b === null) return expect(a, label).to.equal(null);
    expect(a, label).to.be.a('number');
    expect(Math.abs((a as number) - b), label).to.be.at.most(b * PERCENTILE_RELATIVE_ERROR + 0.001);
  };
  close(actual.latency.p50, raw.latency.p50, `${what} p50`);
  close(actual.latency.p95, raw.latency.p95, `${what} p95`);
  close(actual.latency.p99, raw.latency.p99, `${what} p99`);
  actual.series.forEach((s, i) => close(s.p95, raw.series[i].p95, `${what} series ${s.t} p95`));
  actual.endpoints.forEach((e, i) => close(e.p95, raw.endpoints[i].p95, `${what} ${e.endpoint} p95`));
}

/** A random filter of the kinds the UI makes, with a random unaligned window (or none). */
function randomFilter(rand: () => number): LogFilter {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const f: LogFilter = {};
  const r = rand();
  if (r < 0.7) f.from = NOW - Math.floor(rand() * 4 * DAY);
  if (r < 0.5) f.to = (f.from as number) + Math.floor(rand() * 3 * DAY) + 1;
  if (rand() < 0.3) f.companyId = pick(COMPANIES);
  if (rand() < 0.3) f.endpoints = [pick(ENDPOINTS)[1], pick(ENDPOINTS)[1]];
  if (rand() < 0.2) f.methods = [pick(ENDPOINTS)[0]];
  if (rand() < 0.3) f.tokens = [pick(TOKENS[pick(COMPANIES)])];
  if (rand() < 0.2) f.statusClasses = [pick([2, 4, 5])];
  if (rand() < 0.2) f.statusCodes = [pick([200, 404, 500, 503])];
  if (rand() < 0.1) f.services = ['payments-api'];
  return f;
}

describe('rollup latency histograms', () => {
  it('estimates every value in range within the stated relative error', () => {
    expect(PERCENTILE_RELATIVE_ERROR).to.be.closeTo(0.0905, 0.0001);
    for (let ms = 0.0625; ms < 65_536; ms *= 1.0137) {
      expect(Math.abs(binValue(latencyBin(ms)) - ms) / ms, String(ms)).to.be.at.most(PERCENTILE_RELATIVE_ERROR + 1e-12);
    }
    expect(latencyBin(0)).to.equal(0);
    expect(latencyBin(Number.NaN)).to.equal(0);
    expect(latencyBin(1e9)).to.equal(LATENCY_BINS - 1);
  });

  it('gives percentiles within the stated error of the exact ones', () => {
    const rand = prng(42);
    for (let trial = 0; trial < 50; trial++) {
      const values = Array.from({ length: 1 + Math.floor(rand() * 3000) }, () => 0.1 + -Math.log(1 - rand()) * (1 + rand() * 500)).sort((a, b) => a - b);
      const hist = new Array<number>(LATENCY_BINS).fill(0);
      for (const v of values) hist[latencyBin(v)] += 1;
      for (const p of [0, 0.5, 0.95, 0.99, 1]) {
        const rank = p * (values.length - 1);
        const lo = Math.floor(rank);
        const exact = values[lo] + (values[Math.ceil(rank)] - values[lo]) * (rank - lo);
        const estimate = histogramPercentile(hist, p) as number;
        expect(Math.abs(estimate - exact), `p${p} of ${values.length}`).to.be.at.most(exact * PERCENTILE_RELATIVE_ERROR + 0.001);
      }
    }
  });
});

describe('rollup window plans', () => {
  it('covers a window exactly once with raw edges, whole hours and whole days', () => {
    const rand = prng(9);
    for (let i = 0; i < 200; i++) {
      const from = Math.floor(rand() * 10 * DAY * 1000);
      const to = from + Math.floor(rand() * 5 * DAY * 1000);
      const plan = planWindow(from, to, [HOUR * 1000, DAY * 1000]);
      const pieces = [...plan.raw.map((r) => [r.lo, r.hi as number]), ...plan.rollup.map((r) => [r.lo, r.hi])].sort((a, b) => a[0] - b[0]);
      let at = from;
      for (const [lo, hi] of pieces) {
        expect(lo).to.equal(at);
        expect(hi).to.be.greaterThan(lo);
        at = hi;
      }
      if (pieces.length) expect(at).to.equal(to);
      for (const r of plan.rollup) {
        expect(r.lo % r.grain).to.equal(0);
        expect(r.hi % r.grain).to.equal(0);
      }
      for (const r of plan.raw) expect((r.hi as number) - r.lo).to.be.below(2 * HOUR * 1000);
    }
  });
});

forEachStore('rollups', ({ store }) => {
  const fixtures = generateRecords(3000, 31, { endMs: NOW, spanMs: 4 * DAY });
  const stored: AuditRecord[] = [];

  before(async () => {
    for (let i = 0; i < fixtures.length; i += 512) await store().insertBatch(fixtures.slice(i, i + 512));
    stored.push(...fixtures);
  });

  it('agree exactly with the rows after batched inserts', async () => {
    await expectExactRollups(store());
  });

  it('add nothing for a retried batch, and only the new rows of a partly new one', async () => {
    expect(await store().insertBatch(fixtures.slice(0, 512))).to.deep.equal({ inserted: 0, duplicates: 512 });
    const fresh = generateRecords(100, 32, { endMs: NOW, spanMs: DAY });
    expect(await store().insertBatch([...fixtures.slice(600, 700), ...fresh, ...fresh.slice(0, 10)])).to.deep.equal({ inserted: 100, duplicates: 110 });
    stored.push(...fresh);
    await expectExactRollups(store());
  });

  it('count a late span (an old start time arriving later) in its own old buckets', async () => {
    const late = generateRecords(5, 33, { endMs: NOW - 3 * DAY, spanMs: HOUR });
    await store().insertBatch(late);
    stored.push(...late);
    await expectExactRollups(store());
    const stats = await store().stats({ from: NOW - 3 * DAY - HOUR, to: NOW - 3 * DAY });
    expect(stats.total).to.equal(stored.filter((r) => matches(r, { from: NOW - 3 * DAY - HOUR, to: NOW - 3 * DAY })).length);
  });

  it('answer stats equal to the computation over the rows, for random filters and windows', async () => {
    const rand = prng(2026);
    for (let i = 0; i < 40; i++) {
      const filter = randomFilter(rand);
      // 90-minute points hold no whole rollup bucket: the whole window is read from the rows.
      const pick = rand();
      const bucketMs = pick < 0.4 ? HOUR : pick < 0.8 ? DAY : 90 * 60_000;
      const what = JSON.stringify(filter);
      const raw = await computeStats(store().raw, store().dialect, filter, bucketMs);
      const fromRollups = await store().stats(filter, { bucketMs });
      expect(fromRollups.total, what).to.equal(stored.filter((r) => matches(r, filter)).length);
      expectSameStats(fromRollups, raw, what);
    }
  });

  it('list as facets every value of the window, within scope', async () => {
    const rand = prng(77);
    for (let i = 0; i < 15; i++) {
      const filter = randomFilter(rand);
      const rows = stored.filter((r) => matches(r, filter));
      const facets = await store().facets(filter);
      const what = JSON.stringify(filter);
      expect(facets.endpoints, what).to.deep.equal([...new Set(rows.map((r) => r.endpoint))].sort());
      expect(facets.methods, what).to.deep.equal([...new Set(rows.map((r) => r.method))].sort());
      expect(facets.tokens, what).to.deep.equal([...new Set(rows.map((r) => r.tokenName).filter((t) => t !== null))].sort());
      expect(facets.statuses, what).to.deep.equal([...new Set(rows.map((r) => r.status))].sort((a, b) => a - b));
    }
  });

  it('summarize endpoints for the endpoint table: exact counts and slices, percentiles within the bound', async () => {
    const filter: LogFilter = { from: NOW - DAY - 17 * 60_000, to: NOW - 5 * 60_000, companyId: 'acme' };
    const span = filter.to! - filter.from!;
    const previous: LogFilter = { ...filter, from: filter.from! - span, to: filter.from };
    for (const [f, slices] of [[filter, 24], [previous, 0], [{ ...filter, from: NOW - 50 * 60_000 }, 10], [{ companyId: 'acme' }, 0]] as Array<[LogFilter, number]>) {
      const summaries = await store().endpointSummary(f, { sparkBuckets: slices });
      const keys = new Set(stored.filter((r) => matches(r, f)).map((r) => `${r.endpoint} ${r.method}`));
      expect(summaries.map((s) => `${s.endpoint} ${s.method}`).sort()).to.deep.equal([...keys].sort());
      for (const s of summaries) {
        const rows = stored.filter((r) => matches(r, f) && r.endpoint === s.endpoint && r.method === s.method);
        expect(s.count).to.equal(rows.length);
        expect(s.errorRate).to.equal(Math.round((rows.filter((r) => r.status >= 400).length / rows.length) * 1000) / 1000);
        expect(s.lastSeen).to.equal(new Date(Math.floor(Math.max(...rows.map((r) => r.timestampUs)) / 1000)).toISOString());
        const latencies = rows.map((r) => r.latencyMs).sort((a, b) => a - b);
        const rank = 0.95 * (latencies.length - 1);
        const lo = Math.floor(rank);
        const p95 = latencies[lo] + (latencies[Math.ceil(rank)] - latencies[lo]) * (rank - lo);
        expect(s.p95 as number).to.be.closeTo(p95, p95 * PERCENTILE_RELATIVE_ERROR + 0.001);
        if (slices === 0 || f.from === undefined) {
          expect(s.sparkline).to.equal(undefined);
          continue;
        }
        // Slices narrower than an hour are counted from the rows themselves: exactly.
        const sliceUs = Math.ceil(((f.to ?? Date.now()) - f.from) * 1000 / slices);
        const expected = new Array<number>(slices).fill(0);
        for (const r of rows) expected[Math.min(slices - 1, Math.floor((r.timestampUs - f.from * 1000) / sliceUs))] += 1;
        if (sliceUs < HOUR_US) expect(s.sparkline).to.deep.equal(expected);
        else expect(s.sparkline!.reduce((a, b) => a + b, 0)).to.equal(rows.length);
      }
    }
  });

  it('stay exact when batches, some late and straddling the cutoff, are written during a purge', async () => {
    const cutoff = NOW - 3.5 * DAY + 7 * 60_000 + 11;
    const late = generateRecords(1200, 34, { endMs: cutoff + HOUR, spanMs: 2 * HOUR });
    const fresh = generateRecords(1200, 35, { endMs: NOW, spanMs: DAY });
    const batches: AuditRecord[][] = [];
    for (let i = 0; i < late.length; i += 100) batches.push(late.slice(i, i + 100), fresh.slice(i, i + 100));
    // Two writers and a purge in small batches at once: on PostgreSQL their rollup row locks
    // interleave (a lock-order cycle would fail here with a deadlock).
    const writer = async (mine: AuditRecord[][]) => {
      for (const b of mine) await store().insertBatch(b);
    };
    await Promise.all([
      store().purgeOlderThan(cutoff, { batchSize: 40 }),
      writer(batches.filter((_, i) => i % 2 === 0)),
      writer(batches.filter((_, i) => i % 2 === 1)),
    ]);
    stored.push(...late, ...fresh);
    await expectExactRollups(store());
  });

  it('stay exact through retention purges at an unaligned cutoff, in small batches', async () => {
    await store().purgeOlderThan(NOW - 3 * DAY + 17 * 60_000 + 123, { batchSize: 97 });
    await expectExactRollups(store());
    await store().purgeOlderThan(NOW - 2 * DAY - 5 * HOUR - 1, { batchSize: 5000 });
    await expectExactRollups(store());
    const remaining = stored.filter((r) => r.timestampUs >= (NOW - 2 * DAY - 5 * HOUR - 1) * 1000);
    expect(await store().countLogs({})).to.equal(remaining.length);
    const stats = await store().stats({});
    expect(stats.total).to.equal(remaining.length);
  });

  it('are rebuilt from the stored rows by the migrations (fine from the rows, coarse from the fine)', async () => {
    await store().raw.migrate.down({ ...MIGRATION_CONFIG, name: '011_coarse_rollups' });
    expect(await store().raw.schema.hasTable(COARSE.table)).to.equal(false);
    await store().raw.migrate.down({ ...MIGRATION_CONFIG, name: '006_rollups' });
    expect(await store().raw.schema.hasTable(ROLLUP_TABLE)).to.equal(false);
    await store().migrate();
    await expectExactRollups(store());
  });
});

forEachStore('rollups while a purge deletes the hour late spans land in', ({ store }) => {
  it('subtract exactly the rows each purge batch deleted, late spans committed meanwhile included', async function () {
    this.timeout(120_000);
    // The purge's rows and the late spans share no rollup key, so a late span's writer never
    // waits on the purge's rollup rows: it can commit between any two statements of a purge batch.
    const cutoff = NOW - 2 * DAY + 50 * 60_000;
    const hourStart = cutoff - 50 * 60_000;
    const old = generateRecords(400, 61, { endMs: cutoff - 60_000, spanMs: 45 * 60_000 })
      .map((r) => ({ ...r, endpoint: '/v1/old', method: 'GET', companyId: 'old-co', statusCode: 200 }));
    for (let i = 0; i < old.length; i += 200) await store().insertBatch(old.slice(i, i + 200));
    const late = generateRecords(200, 62, { endMs: cutoff - 60_000, spanMs: 45 * 60_000 })
      .map((r) => ({ ...r, endpoint: '/v1/late', method: 'PUT', companyId: 'late-co', statusCode: 201 }));
    expect(Math.min(...late.map((r) => r.timestampUs))).to.be.at.least(hourStart * 1000);
    let purging = true;
    const writer = async (mine: AuditRecord[]) => {
      for (const r of mine) {
        if (!purging) break;
        await store().insertBatch([r]);
      }
    };
    const purge = store().purgeOlderThan(cutoff, { batchSize: 4 }).finally(() => {
      purging = false;
    });
    await Promise.all([purge, writer(late.filter((_, i) => i % 2 === 0)), writer(late.filter((_, i) => i % 2 === 1))]);
    await expectExactRollups(store());
  });
});
