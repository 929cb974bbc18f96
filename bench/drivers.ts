/**
 * One SQLite library or two (issue 19, target 8): the query API of `serve` on each driver, over
 * the same dataset of bench/dataset.ts (BENCH_DRIVERS_ROWS rows, default 1 M). `sqlite3` runs
 * each statement on libuv's thread pool; `better-sqlite3` runs it on the calling thread, so a
 * query holds the event loop — every other request, the OTLP receiver's included — for as long
 * as it runs. Measured for each driver in the same run:
 *
 * - each UI request alone (median of BENCH_DRIVERS_SAMPLES);
 * - `GET /healthz` probed back to back, idle (the baseline) and while 4 clients replay the UI
 *   requests for 10 s: the stall another user or sender sees, and the UI requests answered.
 *
 *   BENCH_DRIVERS_ROWS=10000000 npm run bench -- drivers
 */
import { createHttpApp } from '../src/query-api';
import { openStore, type SqliteDriver } from '../src/store';
import { listen } from '../test/helpers/http';
import { DATASET_END_MS, datasetUrl, openDataset } from './dataset';
import { fmt, median, percentile, table } from './lib';

const ROWS = Number(process.env.BENCH_DRIVERS_ROWS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_DRIVERS_SAMPLES ?? 7);
const LOAD_MS = 10_000;
const CLIENTS = 4;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What the UI asks for when a page opens and a user narrows it (the window ends before the data does). */
const END = DATASET_END_MS - 17 * 60_000;
const DAY_WINDOW = `from=${END - DAY}&to=${END}`;
const REQUESTS: Array<[string, string]> = [
  ['first page, newest', '/api/logs?limit=50'],
  ['first page, status=5xx', '/api/logs?limit=50&status=5xx'],
  ['stats, 24 h', `/api/stats?${DAY_WINDOW}`],
  ['facets, 24 h', `/api/facets?${DAY_WINDOW}`],
  ['stats, 30 days', `/api/stats?from=${END - 30 * DAY}&to=${END}`],
  ['search a word, 24 h', `/api/logs?limit=50&q=declined&${DAY_WINDOW}`],
  ['first page, minLatencyMs=600', '/api/logs?limit=50&minLatencyMs=600'],
];

async function timed(url: string, headers: Record<string, string>): Promise<number> {
  const t = performance.now();
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`drivers: ${url} answered ${res.status}`);
  return performance.now() - t;
}

interface DriverResult {
  alone: number[];
  idle: number[];
  loaded: number[];
  answered: number;
}

async function measure(driver: SqliteDriver): Promise<DriverResult> {
  const store = await openStore({ url: datasetUrl('sqlite', ROWS), sqliteDriver: driver });
  const adminKey = 'bench-admin-key-0123456789abcdef';
  const { base, close } = await listen(createHttpApp({ store, adminKey, version: 'bench', authFailureLimit: 1_000_000 }));
  const admin = { authorization: `Bearer ${adminKey}` };
  try {
    const alone: number[] = [];
    for (const [, path] of REQUESTS) {
      await timed(base + path, admin);
      const times: number[] = [];
      for (let i = 0; i < SAMPLES; i++) times.push(await timed(base + path, admin));
      alone.push(median(times));
    }
    const probe = async (until: () => boolean): Promise<number[]> => {
      const out: number[] = [];
      while (!until()) out.push(await timed(`${base}/healthz`, {}));
      return out;
    };
    const idleUntil = performance.now() + 2000;
    const idle = await probe(() => performance.now() > idleUntil);
    let done = false;
    let answered = 0;
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = c; !done; i++) {
        await timed(base + REQUESTS[i % REQUESTS.length][1], admin);
        answered++;
      }
    });
    const stop = setTimeout(() => (done = true), LOAD_MS);
    const loaded = await probe(() => done);
    await Promise.all(clients);
    clearTimeout(stop);
    return { alone, idle, loaded, answered };
  } finally {
    await close();
    await store.close();
  }
}

export async function run(): Promise<string> {
  // Made (or checked) with the default driver, then closed: one driver per file at a time.
  const { store } = await openDataset('sqlite', ROWS);
  await store.close();
  const drivers: SqliteDriver[] = ['sqlite3', 'better-sqlite3'];
  const results: DriverResult[] = [];
  for (const d of drivers) results.push(await measure(d));
  const ms = (v: number) => `${fmt(v, 1)} ms`;
  return [
    '## One SQLite driver for `serve`? (issue 19, target 8)',
    '',
    `The query API over the ${fmt(ROWS)}-row SQLite dataset, opened with each driver in turn (one connection, as \`serve\` runs).`,
    `Each request alone (median of ${SAMPLES}):`,
    '',
    table(['request', ...drivers], REQUESTS.map(([name], i) => [name, ...results.map((r) => ms(r.alone[i]))])),
    '',
    `\`GET /healthz\` probed back to back — the wait any other request (an OTLP export included) sees — idle, and while ${CLIENTS} clients replay the requests above for ${LOAD_MS / 1000} s:`,
    '',
    table(['', ...drivers], [
      ['healthz idle, p50', ...results.map((r) => ms(median(r.idle)))],
      ['healthz under UI load, p50', ...results.map((r) => ms(median(r.loaded)))],
      ['healthz under UI load, p99', ...results.map((r) => ms(percentile(r.loaded, 99)))],
      ['healthz under UI load, max', ...results.map((r) => ms(Math.max(...r.loaded)))],
      ['UI requests answered per second', ...results.map((r) => fmt(r.answered / (LOAD_MS / 1000), 1))],
    ]),
  ].join('\n');
}
