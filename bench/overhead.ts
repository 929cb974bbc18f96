/**
 * What auditspan costs a service: the same express API run bare, under plain OpenTelemetry with
 * spans discarded (http instrumentation only — the baseline, one span per request as
 * under auditspan — and http + express instrumentation, what many express users run), and under
 * `--import auditspan/register` writing to SQLite (and PostgreSQL when reachable). Two measures:
 *
 * - peak throughput with 16 connections, in paired slices: every variant runs at once, and the
 *   load moves from one to the next in short slices, cycle after cycle (the order reversed every
 *   other cycle). A variant's ratio is the median, over the cycles, of its slice divided by the
 *   baseline's slice of the same cycle: runs compared seconds apart, so that the machine's own
 *   drift (shared hosts, other tenants) falls on both sides of each ratio. Work an app does after
 *   its slice (the pipeline's backlog) counts against that slice. The report gives the
 *   median's 95 % bootstrap interval beside it, so that a run says how far it can be trusted;
 * - latency at a fixed 500 req/s (p50 / p99, relative to bare), rounds interleaved, medians.
 *
 * The apps are stopped with SIGTERM at the end and the rows in each database are counted against
 * the responses autocannon received: every request must be a row.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { openStore } from '../src/store';
import { startApp, type AppProcess } from '../test/instrumentation/app-process';
import { dialects, fmt, freshStore, median, medianInterval, percentile, pgReachable, ratio, SQLITE_FILTER_INDEXES, table } from './lib';

const APP = join(__dirname, 'apps', 'api.cjs');
const OTEL_HTTP = join(__dirname, 'apps', 'otel-http.mjs');
const OTEL_HTTP_EXPRESS = join(__dirname, 'apps', 'otel-http-express.mjs');
const NO_DB = join(__dirname, 'apps', 'auditspan-no-db.cjs');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 30);
const SLICE_SECONDS = Number(process.env.BENCH_SLICE_SECONDS ?? 2);
/**
 * After a slice the app finishes what the slice left it (the pipeline worker's backlog): the
 * next slice starts once the app's threads have been quiet for QUIET_MS (below a tenth of a
 * core), and the time it took counts against the slice's throughput, its CPU for the slice.
 */
const QUIET_MS = 100;
const MAX_DRAIN_MS = 5000;
const FIXED_RATE = 500;
const CONNECTIONS = { peak: 16, fixed: 8, warm: 8 } as const;

const BARE_NAME = 'bare express';
const OTEL_HTTP_NAME = 'OpenTelemetry http (spans discarded)';
const OTEL_EXPRESS_NAME = 'OpenTelemetry http + express (spans discarded)';

interface Variant {
  /** Short name for BENCH_VARIANTS. */
  id: string;
  /** Runs only when BENCH_VARIANTS names it (the decomposition variants). */
  optIn?: boolean;
  name: string;
  db?: () => Promise<{ url: string; dispose(): Promise<void> }>;
  start(db?: string): Promise<AppProcess>;
}

interface Sample { rps: number; p50: number; p99: number; responses: number; errors: number; cpu?: ThreadCpu }

/** CPU time of the app process, in µs: its main (request) thread and all its other threads. */
interface ThreadCpu { main: number; other: number }

/**
 * Reads the CPU time of every thread of `pid` from /proc (Linux; undefined elsewhere). Steadier
 * than throughput on a shared machine: it counts what the app's threads spent, not what they got.
 */
function threadCpu(pid: number): ThreadCpu | undefined {
  const TICK_US = 10_000; // USER_HZ = 100
  try {
    const cpu = { main: 0, other: 0 };
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const us = (Number(fields[11]) + Number(fields[12])) * TICK_US; // utime + stime
      if (tid === String(pid)) cpu.main += us;
      else cpu.other += us;
    }
    return cpu;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the app's threads together use less than a tenth of a core over QUIET_MS, and
 * returns how long it was busy before that (0 when it was quiet at once).
 */
async function quiet(pid: number): Promise<number> {
  const started = performance.now();
  let last = threadCpu(pid);
  if (!last) {
    await new Promise((done) => setTimeout(done, 500));
    return 0;
  }
  for (;;) {
    await new Promise((done) => setTimeout(done, QUIET_MS));
    const now = threadCpu(pid);
    const elapsed = performance.now() - started;
    if (!now || now.main + now.other - (last.main + last.other) <= (QUIET_MS * 1000) / 10 || elapsed > MAX_DRAIN_MS) {
      return Math.max(0, elapsed - QUIET_MS);
    }
    last = now;
  }
}

const charge = JSON.stringify({ amount: 4200, currency: 'eur', card: { number: '4242424242424242', cvc: '123' }, email: 'jane@example.com' });

async function load(base: string, mode: keyof typeof CONNECTIONS): Promise<Sample> {
  const rate = mode === 'peak' ? undefined : mode === 'fixed' ? FIXED_RATE : 200;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS[mode],
    duration: mode === 'warm' ? 2 : mode === 'peak' ? SLICE_SECONDS : SECONDS,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      { method: 'GET', path: '/v1/customers/cus_1042?expand=invoices', headers: { authorization: 'Bearer sk_live_bench_1234567890' } },
      { method: 'POST', path: '/v1/charges', headers: { 'content-type': 'application/json', authorization: 'Bearer sk_live_bench_1234567890' }, body: charge },
    ],
  });
  const responses = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, responses, errors: result.errors + result.timeouts };
}

async function countRows(url: string): Promise<number> {
  const store = await openStore({ url });
  try {
    return await store.countLogs({});
  } finally {
    await store.close();
  }
}

function rowLine(what: string, responses: number, rows: number, inFlight: number): string {
  const ok = rows >= responses && rows <= responses + inFlight;
  return `${what}: ${fmt(responses)} responses counted → ${fmt(rows)} rows (${rows - responses} answered after autocannon's deadlines)` +
    (ok ? '' : '  ← ROWS MISSING');
}

/** The peak measure: every variant up at once, the load moved between them slice by slice. */
async function peakSlices(variants: Variant[], rowCheck: string[]): Promise<Map<string, Sample[]>> {
  const running: Array<{ v: Variant; app: AppProcess; db?: { url: string; dispose(): Promise<void> }; responses: number; warm: number }> = [];
  const slices = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  try {
    for (const v of variants) {
      const db = await v.db?.();
      running.push({ v, db, app: await v.start(db?.url), responses: 0, warm: 0 });
    }
    for (const r of running) r.warm = (await load(r.app.base, 'warm')).responses; // JIT, connection pools, schema
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      process.stderr.write(`overhead: peak, cycle ${cycle + 1}/${CYCLES}\n`);
      for (const r of cycle % 2 === 0 ? running : [...running].reverse()) {
        const before = threadCpu(r.app.child.pid!);
        const sample = await load(r.app.base, 'peak');
        const drainMs = await quiet(r.app.child.pid!);
        sample.rps = sample.responses / (SLICE_SECONDS + drainMs / 1000);
        const after = threadCpu(r.app.child.pid!);
        if (before && after) sample.cpu = { main: (after.main - before.main) / sample.responses, other: (after.other - before.other) / sample.responses };
        r.responses += sample.responses;
        slices.get(r.v.name)!.push(sample);
      }
    }
    for (const r of running) {
      await r.app.stop('SIGTERM');
      if (r.db) {
        const rows = (await countRows(r.db.url)) - r.warm;
        rowCheck.push(rowLine(`${r.v.name}, peak, ${CYCLES} slices`, r.responses, rows, CONNECTIONS.peak * CYCLES + CONNECTIONS.warm));
      }
    }
  } finally {
    for (const r of running) {
      await r.app.stop('SIGKILL');
      await r.db?.dispose();
    }
  }
  return slices;
}

/**
 * BENCH_VARIANTS (a comma list of ids) runs only those variants, in their usual order, with the
 * OpenTelemetry http baseline always among them: `BENCH_VARIANTS=sqlite` compares auditspan →
 * SQLite with the baseline alone. The opt-in variants run only when named.
 */
function pickVariants(all: Variant[]): Variant[] {
  const wanted = process.env.BENCH_VARIANTS?.split(',').map((id) => id.trim()).filter(Boolean);
  if (!wanted) return all.filter((v) => !v.optIn);
  const unknown = wanted.filter((id) => !all.some((v) => v.id === id));
  if (unknown.length > 0) throw new Error(`overhead: unknown BENCH_VARIANTS ${unknown.join(', ')} (known: ${all.map((v) => v.id).join(', ')})`);
  return all.filter((v) => v.id === 'otel-http' || wanted.includes(v.id));
}

export async function run(): Promise<string> {
  const all: Variant[] = [
    { id: 'bare', name: BARE_NAME, start: () => startApp({ instrumented: false, script: APP }) },
    {
      id: 'otel-http',
      name: OTEL_HTTP_NAME,
      start: () => startApp({ instrumented: false, script: APP, env: { NODE_OPTIONS: `--import ${OTEL_HTTP}` } }),
    },
    // auditspan's variants follow the baseline directly (also when the order is reversed), so that
    // each of their slices is compared with one taken seconds before or after it.
    ...dialects(await pgReachable()).map((dialect): Variant => ({
      id: dialect,
      name: `auditspan → ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`,
      // A fresh, migrated database that the instrumented app opens itself.
      db: () => freshStore(dialect).then(async (s) => { await s.store.close(); return { url: s.url, dispose: s.dispose }; }),
      start: (db) => startApp({ instrumented: true, script: APP, env: { AUDITSPAN_DB: db, BENCH_AUDIT_CONTEXT: '1' } }),
    })),
    // Opt-in: the whole pipeline writing into a SQLite table without the search and filter
    // indexes (the row, its unique key and the rollups only: a database the query API could not
    // serve), to price the indexes in throughput.
    {
      id: 'sqlite-bare-table',
      optIn: true,
      name: 'auditspan → SQLite, no filter or search indexes',
      db: () => freshStore('sqlite').then(async (s) => {
        for (const name of SQLITE_FILTER_INDEXES) await s.store.raw.raw(`DROP INDEX ${name}`);
        for (const sql of ['DROP VIEW logs_search_all', 'DROP VIEW logs_ids_all', 'DROP TABLE logs_search_parts', 'DROP TABLE logs_search', 'DROP TABLE logs_ids']) {
          await s.store.raw.raw(sql);
        }
        await s.store.close();
        return { url: s.url, dispose: s.dispose };
      }),
      start: (db) => startApp({ instrumented: true, script: APP, env: { AUDITSPAN_DB: db, BENCH_AUDIT_CONTEXT: '1' } }),
    },
    {
      id: 'otel-express',
      name: OTEL_EXPRESS_NAME,
      start: () => startApp({ instrumented: false, script: APP, env: { NODE_OPTIONS: `--import ${OTEL_HTTP_EXPRESS}` } }),
    },
    {
      id: 'in-thread',
      name: 'auditspan, in-thread pipeline, rows discarded',
      start: () => startApp({ instrumented: false, script: APP, env: { NODE_OPTIONS: `--require ${NO_DB}`, BENCH_AUDIT_CONTEXT: '1' } }),
    },
  ];
  const variants = pickVariants(all);

  const rowCheck: string[] = [];
  const peak = await peakSlices(variants, rowCheck);
  const fixed = new Map<string, Sample[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      process.stderr.write(`overhead: fixed rate, round ${round + 1}/${ROUNDS}, ${v.name}\n`);
      const db = await v.db?.();
      const app = await v.start(db?.url);
      try {
        const warm = await load(app.base, 'warm'); // JIT, connection pools, schema
        const sample = await load(app.base, 'fixed');
        await app.stop('SIGTERM');
        if (db) {
          // autocannon stops counting at the deadline with one request in flight per connection;
          // the server still answers (and records) those, so they may add up to that many rows.
          const rows = (await countRows(db.url)) - warm.responses;
          rowCheck.push(rowLine(`${v.name}, fixed rate, round ${round + 1}`, sample.responses, rows, CONNECTIONS.fixed + CONNECTIONS.warm));
        }
        fixed.set(v.name, [...(fixed.get(v.name) ?? []), sample]);
      } finally {
        await app.stop('SIGKILL');
        await db?.dispose();
      }
    }
  }

  // autocannon reports latency in whole milliseconds.
  const has = (name: string) => variants.some((v) => v.name === name);
  const base = (m: Map<string, Sample[]>, pick: (s: Sample) => number) => median(m.get(BARE_NAME)!.map(pick));
  // Slice i of every variant belongs to cycle i.
  const cycleRatios = (name: string, baseline: string) => peak.get(name)!.map((s, i) => s.rps / peak.get(baseline)![i].rps);
  const vs = (name: string, baseline: string) => (has(baseline) ? `${median(cycleRatios(name, baseline)).toFixed(2)}×` : '—');
  const range = ([low, high]: number[]) => `${low.toFixed(2)}–${high.toFixed(2)}×`;
  const quartiles = (values: number[]) => range([percentile(values, 25), percentile(values, 75)]);
  const peakRows = variants.map((v) => [
    v.name,
    fmt(median(peak.get(v.name)!.map((s) => s.rps))),
    vs(v.name, BARE_NAME),
    vs(v.name, OTEL_HTTP_NAME),
    range(medianInterval(cycleRatios(v.name, OTEL_HTTP_NAME))),
    quartiles(cycleRatios(v.name, OTEL_HTTP_NAME)),
    vs(v.name, OTEL_EXPRESS_NAME),
  ]);
  const cpuOf = (name: string, pick: (c: ThreadCpu) => number) => median(peak.get(name)!.map((s) => (s.cpu ? pick(s.cpu) : NaN)));
  const otelMain = cpuOf(OTEL_HTTP_NAME, (c) => c.main);
  const otelAll = cpuOf(OTEL_HTTP_NAME, (c) => c.main + c.other);
  const cpuRows = variants.map((v) => {
    const main = cpuOf(v.name, (c) => c.main);
    const all = cpuOf(v.name, (c) => c.main + c.other);
    return [v.name, `${fmt(main)} µs`, ratio(otelMain, main), `${fmt(cpuOf(v.name, (c) => c.other))} µs`, `${fmt(all)} µs`, ratio(otelAll, all)];
  });
  const fixedRows = variants.map((v) => {
    const s = fixed.get(v.name)!;
    const p50 = median(s.map((x) => x.p50));
    const p99 = median(s.map((x) => x.p99));
    const vsBare = (value: number, pick: (x: Sample) => number) => (has(BARE_NAME) ? ratio(value, base(fixed, pick) || 1) : '—');
    return [v.name, `${fmt(p50, 1)} ms`, vsBare(p50, (x) => x.p50), `${fmt(p99, 1)} ms`, vsBare(p99, (x) => x.p99)];
  });
  return [
    `## Overhead on an instrumented service`,
    '',
    `\`npm run bench -- overhead\` — express app in bench/apps/api.cjs (GET with a query string, POST with a`,
    'JSON body holding card data and an email), autocannon on the same 2-core machine. Ratios are against the',
    'variant each column names, measured in the same run.',
    '',
    `Peak throughput, ${CONNECTIONS.peak} connections, in paired slices: all variants run at once and the load moves`,
    `from one to the next in ${SLICE_SECONDS} s slices, ${CYCLES} cycles. Ratios are medians over the cycles of a slice`,
    'divided by the named variant\'s slice of the same cycle (seconds apart, so that the shared machine\'s drift falls',
    'on both sides). A slice\'s req/s is its responses over the slice plus the time the app then took to finish',
    'the work the slice left it (the pipeline\'s backlog: the next slice waits until the app is quiet); req/s is',
    'the median slice:',
    '',
    'The 95 % interval is that of the median (bootstrap over the cycles): where the median of another run on',
    'this machine would likely fall. The middle half is the spread of single cycles.',
    '',
    table(['variant', 'req/s', 'vs bare', 'vs OTel http', 'vs OTel http, 95 % interval', 'vs OTel http, middle half of cycles', 'vs OTel http + express'], peakRows),
    '',
    'CPU per request during the peak slices, from /proc (medians over the slices): the app\'s main thread',
    '(where requests are served; "OTel http ÷ this" is the throughput that thread alone allows, relative to the',
    'OTel http baseline), all its other threads (GC helpers, libuv, and under auditspan the pipeline worker that',
    'maps, redacts and writes), and both together (on two shared cores, the throughput the whole app allows):',
    '',
    table(['variant', 'main thread', 'OTel http ÷ this', 'other threads', 'all threads', 'OTel http ÷ all threads'], cpuRows),
    '',
    `Latency at a fixed ${FIXED_RATE} req/s (${CONNECTIONS.fixed} connections), each variant started anew per run, ${ROUNDS}`,
    `interleaved rounds of ${SECONDS} s, medians:`,
    '',
    table(['variant', 'p50', 'vs bare', 'p99', 'vs bare'], fixedRows),
    '',
    'Every response became a row (counted in the database after SIGTERM; autocannon leaves one request per',
    'connection in flight at each deadline, which the server still answers and records):',
    '',
    ...rowCheck.map((l) => `- ${l}`),
  ].join('\n');
}
