/**
 * How long one OTLP request can hold up everything else in `serve` (dist/, a process of its
 * own): `GET /healthz` on the UI port is probed back to back while large or many requests
 * arrive, and its latency is the stall a UI user or another sender would see. Baseline: the
 * same probes while the server is idle, in the same run.
 *
 * Loads, each on its own:
 * - a 16 MiB OTLP/JSON body of ~195k attributes (1,500 spans × 130), three times;
 * - the same spans as one protobuf body over HTTP, and over gRPC, three times each;
 * - 4 clients posting 512-span protobuf batches back to back for 10 s.
 *
 *   npm run bench -- event-loop
 */
import http from 'node:http';
import { rmSync } from 'node:fs';
import { grpcExport, request, span, toProtobuf } from '../test/receiver/otlp-payloads';
import { fmt, median, percentile, table } from './lib';
import { startServe } from './receiver-memory';

const BIG_SPANS = 1500;
const ATTRS_PER_SPAN = 130;
const SUSTAINED_MS = 10_000;
const SUSTAINED_CLIENTS = 4;

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(port: number, path: string): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request({ port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
    });
    req.on('error', reject);
    req.end();
  });
}

function post(port: number, body: Buffer, type: string, sendAgent?: http.Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ port, method: 'POST', path: '/v1/traces', agent: sendAgent, headers: { 'content-type': type, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Probes /healthz back to back until `load` settles; the probe latencies in ms. */
async function probeDuring(uiPort: number, load: () => Promise<string>): Promise<{ times: number[]; outcome: string }> {
  const times: number[] = [];
  let done = false;
  const probing = (async () => {
    while (!done) times.push(await get(uiPort, '/healthz'));
  })();
  const outcome = await load();
  done = true;
  await probing;
  return { times, outcome };
}

function bigSpans(): ReturnType<typeof span>[] {
  return Array.from({ length: BIG_SPANS }, (_, i) =>
    span(i + Math.floor(Math.random() * 1e9), Array.from({ length: ATTRS_PER_SPAN }, (_, a) => ({ key: `app.attr.${a}`, value: { stringValue: `value-${i}-${a}-${'x'.repeat(18)}` } }))),
  );
}

export async function run(): Promise<string> {
  const { child, port, uiPort, grpcPort, dir } = await startServe();
  const rows: Array<Array<string | number>> = [];
  const summarize = (name: string, r: { times: number[]; outcome: string }) =>
    rows.push([name, r.times.length, `${fmt(median(r.times), 2)} ms`, `${fmt(percentile(r.times, 99), 1)} ms`, `${fmt(Math.max(...r.times), 1)} ms`, r.outcome]);
  try {
    for (let i = 0; i < 200; i++) await get(uiPort, '/healthz'); // warm up
    summarize('idle (baseline), 2 s', await probeDuring(uiPort, async () => {
      await new Promise((r) => setTimeout(r, 2000));
      return '—';
    }));

    // Bodies are built before probing starts: the probes share this process's event loop.
    const jsonBodies = [0, 1, 2].map(() => Buffer.from(JSON.stringify(request(bigSpans()))));
    const attributes = BIG_SPANS * (ATTRS_PER_SPAN + 3);
    summarize(`OTLP/JSON ${fmt(jsonBodies[0].length / 1048576, 1)} MiB, ${fmt(attributes)} attributes, ×3`, await probeDuring(uiPort, async () => {
      const statuses: number[] = [];
      for (const body of jsonBodies) statuses.push(await post(port, body, 'application/json'));
      return `HTTP ${statuses.join(', ')}`;
    }));

    const protoBodies = [0, 1, 2].map(() => toProtobuf(request(bigSpans())));
    summarize(`OTLP/protobuf over HTTP ${fmt(protoBodies[0].length / 1048576, 1)} MiB, ×3`, await probeDuring(uiPort, async () => {
      const statuses: number[] = [];
      for (const body of protoBodies) statuses.push(await post(port, body, 'application/x-protobuf'));
      return `HTTP ${statuses.join(', ')}`;
    }));

    const grpcBodies = [0, 1, 2].map(() => toProtobuf(request(bigSpans())));
    summarize(`OTLP/gRPC ${fmt(grpcBodies[0].length / 1048576, 1)} MiB, ×3`, await probeDuring(uiPort, async () => {
      const codes: number[] = [];
      for (const body of grpcBodies) codes.push((await grpcExport(grpcPort, body, 60_000)).code);
      return `gRPC codes ${codes.join(', ')}`;
    }));

    const batches = Array.from({ length: 40 }, (_, b) => toProtobuf(request(Array.from({ length: 512 }, (_, i) => span(1e7 + b * 512 + i + Math.floor(Math.random() * 1e9))))));
    summarize(`${SUSTAINED_CLIENTS} clients × 512-span protobuf batches, ${SUSTAINED_MS / 1000} s`, await probeDuring(uiPort, async () => {
      const end = Date.now() + SUSTAINED_MS;
      const sendAgent = new http.Agent({ keepAlive: true, maxSockets: SUSTAINED_CLIENTS });
      let ok = 0;
      let other = 0;
      await Promise.all(Array.from({ length: SUSTAINED_CLIENTS }, async (_, c) => {
        for (let n = c; Date.now() < end; n += SUSTAINED_CLIENTS) {
          if ((await post(port, batches[n % batches.length], 'application/x-protobuf', sendAgent)) === 200) ok += 1;
          else other += 1;
        }
      }));
      sendAgent.destroy();
      return `${fmt((ok * 512) / (SUSTAINED_MS / 1000))} spans/s acknowledged, ${other} not 200`;
    }));
  } finally {
    child.kill('SIGKILL');
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    '## Event-loop stalls of `serve` under large and sustained OTLP requests',
    '',
    '`GET /healthz` on the UI port probed back to back (one connection) while each load runs; its',
    'latency is what a UI user or another sender waits. Target (issue 18): no request stalls the',
    'event loop for more than ~50 ms.',
    '',
    table(['load', 'probes', 'p50', 'p99', 'max', 'outcome'], rows),
  ].join('\n');
}

