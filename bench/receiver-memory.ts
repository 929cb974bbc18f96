/**
 * The OTLP/HTTP receiver's memory under hostile and overloading senders, in a `serve` process of
 * its own (dist/, loopback only, bounded):
 * - 160 uploads that each declare 16 MiB, send all but the last byte and stall;
 * - sustained overload: 16 clients posting 2 MiB OTLP/JSON batches back to back for 10 s.
 * Each with the request budget at its default (64 MiB) and, as "before", with a budget too large
 * to matter (the receiver's behaviour without one). Baseline: the same process's RSS when idle.
 *
 *   npm run bench -- receiver-memory
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, span } from '../test/receiver/otlp-payloads';
import { fmt, table } from './lib';

const UPLOADS = Number(process.env.BENCH_STALLED_UPLOADS ?? 160);
const UPLOAD_BYTES = 16 * 1024 * 1024;
const OVERLOAD_CLIENTS = 16;
const OVERLOAD_MS = 10_000;

const mb = (kb: number): string => `${fmt(kb / 1024)} MB`;

function rssKb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** `auditspan serve` from dist/ in a process of its own, on free ports. */
export async function startServe(extraArgs: string[] = []): Promise<{ child: ChildProcess; port: number; uiPort: number; grpcPort: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'auditspan-bench-serve-'));
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'cli', 'main.js'), 'serve', '--db', join(dir, 'a.db'), '--port', '0', '--otlp-port', '0', '--otlp-grpc-port', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<{ port: number; uiPort: number; grpcPort: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const otlp = /"otlpHttp":"http:\/\/[^:]+:(\d+)\//.exec(out);
      const ui = /"ui":"http:\/\/[^:]+:(\d+)\//.exec(out);
      const grpc = /"otlpGrpc":"[^"]*:(\d+)"/.exec(out);
      if (otlp && ui && grpc) resolve({ port: Number(otlp[1]), uiPort: Number(ui[1]), grpcPort: Number(grpc[1]) });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
  return { child, ...ports, dir };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 160 uploads declaring 16 MiB, all but the last byte sent; RSS once the bytes are in. */
async function stalled(port: number, pid: number): Promise<{ rss: number; refused: number }> {
  const payload = Buffer.alloc(UPLOAD_BYTES - 1, 0x20);
  const sockets: net.Socket[] = [];
  let refused = 0;
  await Promise.all(Array.from({ length: UPLOADS }, () => new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${UPLOAD_BYTES}\r\n\r\n`);
      s.write(payload, () => resolve());
    });
    s.on('data', (d: Buffer) => { if (/^HTTP\/1\.1 429/.test(d.toString('latin1'))) refused += 1; });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    sockets.push(s);
  })));
  await settle(2000);
  const { rss } = rssKb(pid);
  for (const s of sockets) s.destroy();
  return { rss, refused };
}

/** Clients posting 2 MiB batches back to back: peak RSS and what they were answered. */
async function overload(port: number, pid: number): Promise<{ peak: number; ok: number; busy: number }> {
  const spans = Array.from({ length: 6000 }, (_, i) => span(i + Math.floor(Math.random() * 1e9)));
  const body = Buffer.from(JSON.stringify(request(spans)));
  let ok = 0;
  let busy = 0;
  let peak = 0;
  const end = Date.now() + OVERLOAD_MS;
  const agent = new http.Agent({ keepAlive: true, maxSockets: OVERLOAD_CLIENTS });
  const timer = setInterval(() => { peak = Math.max(peak, rssKb(pid).rss); }, 100);
  await Promise.all(Array.from({ length: OVERLOAD_CLIENTS }, async () => {
    while (Date.now() < end) {
      const status = await new Promise<number>((resolve) => {
        const req = http.request({ port, method: 'POST', path: '/v1/traces', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', () => resolve(0));
        req.end(body);
      });
      if (status === 200) ok += 1;
      else if (status === 429 || status === 503) busy += 1;
    }
  }));
  clearInterval(timer);
  agent.destroy();
  return { peak, ok, busy };
}

export async function run(): Promise<string> {
  const rows: Array<Array<string | number>> = [];
  for (const [label, budget] of [['no budget (before)', 1024 ** 4], ['default budget, 64 MiB (after)', 64 * 1024 * 1024]] as const) {
    const { child, port, dir } = await startServe(['--otlp-max-inflight-bytes', String(budget)]);
    try {
      await settle(1000);
      const idle = rssKb(child.pid!).rss;
      const s = await stalled(port, child.pid!);
      await settle(3000);
      const afterStall = rssKb(child.pid!).rss;
      const o = await overload(port, child.pid!);
      rows.push([label, mb(idle), `${mb(s.rss)} (${s.refused} refused)`, mb(afterStall), `${mb(o.peak)} (${o.ok} × 200, ${o.busy} × 429/503)`]);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return [
    `## Receiver memory: ${UPLOADS} stalled 16 MiB uploads, then ${OVERLOAD_CLIENTS} clients × 2 MiB batches for ${OVERLOAD_MS / 1000} s (RSS of the serve process)`,
    '',
    table(['receiver', 'idle RSS (baseline)', 'RSS, uploads stalled', 'RSS 3 s after they closed', 'peak RSS under overload'], rows),
  ].join('\n');
}
