/**
 * Memory of an express app with and without auditspan under large JSON bodies (issue 17 §6):
 * 8 keep-alive clients POST N × 1 MiB bodies, then R rounds of N × 100 KB, to the test app's
 * `/items` (express.json, 5 MB limit). The app's RSS is sampled from /proc every 50 ms; the
 * table gives its peak and its value 2 s after the load, bare and instrumented, run one after
 * the other (loopback only, bounded in count).
 *
 *   npm run bench -- memory
 *   BENCH_MEMORY_REQUESTS=2000 BENCH_MEMORY_ROUNDS=6 npm run bench -- memory   # the issue's load
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import Database from 'better-sqlite3';
import { startApp, APP, type AppProcess } from '../test/instrumentation/app-process';
import { fmt, table } from './lib';

const REQUESTS = Number(process.env.BENCH_MEMORY_REQUESTS ?? 400);
const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 2);
const CLIENTS = 8;

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function body(bytes: number): Buffer {
  const item = JSON.stringify({ note: 'x'.repeat(1000) });
  const items = Math.floor(bytes / (item.length + 1));
  return Buffer.from(`[${Array.from({ length: items }, () => item).join(',')}]`.replace(/^\[/, '{"items":[') + '}');
}

function post(base: URL, agent: Agent, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path: '/items', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function load(app: AppProcess, payload: Buffer, count: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const base = new URL(app.base);
  let sent = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (sent < count) {
      sent += 1;
      await post(base, agent, payload);
    }
  }));
  agent.destroy();
}

async function measure(instrumented: boolean): Promise<{ start: number; peak1: number; peak2: number; end: number; rows: number; said: string[] }> {
  const db = join(mkdtempSync(join(tmpdir(), 'auditspan-bench-mem-')), 'm.db');
  const app = await startApp({ instrumented, script: APP, env: { AUDITSPAN_DB: db } });
  const pid = app.child.pid!;
  await new Promise((r) => setTimeout(r, 1000));
  const start = rssOf(pid);
  let peak = start;
  const timer = setInterval(() => { peak = Math.max(peak, rssOf(pid)); }, 50);
  await load(app, body(1024 * 1024), REQUESTS);
  const peak1 = peak;
  const small = body(100 * 1024);
  for (let r = 0; r < ROUNDS; r++) await load(app, small, REQUESTS);
  await new Promise((r) => setTimeout(r, 2000));
  clearInterval(timer);
  const end = rssOf(pid);
  await app.stop();
  // Every request a row, or the drop said on stderr (issue 17: never silent).
  const rows = instrumented ? (new Database(db, { readonly: true }).prepare('SELECT count(*) AS n FROM logs').get() as { n: number }).n : 0;
  const said = app.output().split('\n').filter((l) => /auditspan/.test(l) && /drop|lost|stopped|full/i.test(l));
  return { start, peak1, peak2: peak, end, rows, said };
}

export async function run(): Promise<string> {
  const bare = await measure(false);
  const audited = await measure(true);
  const mb = (n: number): string => fmt(n / 1024 / 1024, 0);
  const rows = [
    ['RSS at start', mb(bare.start), mb(audited.start), mb(audited.start - bare.start)],
    [`peak during ${REQUESTS} × 1 MiB`, mb(bare.peak1), mb(audited.peak1), mb(audited.peak1 - bare.peak1)],
    [`peak after ${ROUNDS} rounds of ${REQUESTS} × 100 KB`, mb(bare.peak2), mb(audited.peak2), mb(audited.peak2 - bare.peak2)],
    ['2 s after the load', mb(bare.end), mb(audited.end), mb(audited.end - bare.end)],
  ];
  const total = REQUESTS * (1 + ROUNDS);
  const said = audited.said.length ? `; the app said: ${audited.said.slice(0, 3).map((l) => `"${l.trim()}"`).join(' ')}` : '; nothing dropped was reported';
  return `## memory\n\n${CLIENTS} keep-alive clients, test app \`/items\` (express.json), RSS in MB from /proc (one run each, bare then auditspan → SQLite; shared machine).\n\n${table(['', 'bare express', 'auditspan', 'difference'], rows)}\n\nRows written: ${fmt(audited.rows)} of ${fmt(total)} requests${said}.\n`;
}
