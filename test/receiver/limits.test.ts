import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestBudget, startOtlpGrpcReceiver, startOtlpHttpReceiver } from '../../src/receiver';
import { TRACE_SERVICE_EXPORT_PATH } from '../../src/receiver/otlp-schema';
import { createTestStore, forEachStore } from '../helpers/stores';
import { grpcExport, hex, logIdOf, request, span, toProtobuf } from './otlp-payloads';

const json = { 'content-type': 'application/json' };

describe('OTLP receiver: memory bounded whatever senders do', function () {
  this.timeout(90_000);

  it('answers 429 + Retry-After before reading an upload the request budget cannot hold, and frees a stalled upload\'s share', async () => {
    const t = await createTestStore('sqlite');
    const rx = await startOtlpHttpReceiver({ store: t.store, port: 0, maxInFlightBytes: 1_000_000, log: () => undefined });
    const stalled = net.connect(rx.port, '127.0.0.1');
    try {
      // Declares 900 kB, sends ten bytes, then nothing.
      await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
      stalled.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900000\r\n\r\n{"resource');
      const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
      stalled.on('error', () => undefined);
      await new Promise((r) => setTimeout(r, 200));
      const body = JSON.stringify(request([span(1)]));
      const refused = await fetch(`http://127.0.0.1:${rx.port}/v1/traces`, { method: 'POST', body: `${body}${' '.repeat(200_000)}`, headers: json });
      expect(refused.status).to.equal(429);
      expect(refused.headers.get('retry-after')).to.equal('5');
      expect(((await refused.json()) as { message: string }).message).to.match(/too many request bytes in flight/);
      // The stalled upload is cut off (10 s without a byte), and its share goes back to the budget.
      await closed;
      const admitted = await fetch(`http://127.0.0.1:${rx.port}/v1/traces`, { method: 'POST', body: `${body}${' '.repeat(200_000)}`, headers: json });
      expect(admitted.status).to.equal(200);
      expect((await t.store.getLog(logIdOf(1))).spanId).to.equal(hex(2, 16));
    } finally {
      stalled.destroy();
      await rx.close();
      await t.cleanup();
    }
  });

  it('answers a gRPC call on its headers, before reading its message, when the token is wrong or the budget is full', async () => {
    const t = await createTestStore('sqlite');
    const budget = new RequestBudget(4 * 1024 * 1024);
    const rx = await startOtlpGrpcReceiver({ store: t.store, port: 0, ingestToken: 'tok-0123456789', budget, log: () => undefined });
    const session = http2.connect(`http://127.0.0.1:${rx.port}`);
    /** A call whose message declares 8 MiB and then stalls after 1,000 bytes: only an answer given before reading can come. */
    const stalledCall = (authorization: string) =>
      new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': TRACE_SERVICE_EXPORT_PATH, 'content-type': 'application/grpc', te: 'trailers', authorization });
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(8 * 1024 * 1024, 1);
        stream.write(Buffer.concat([prefix, Buffer.alloc(1000)]));
        const statusOf = (headers: http2.IncomingHttpHeaders) => {
          if (headers['grpc-status'] !== undefined) resolve(`${headers['grpc-status']} ${decodeURIComponent(String(headers['grpc-message'] ?? ''))}`);
        };
        stream.on('response', statusOf);
        stream.on('trailers', statusOf);
        stream.on('error', reject);
        const timer = setTimeout(() => reject(new Error('no answer before the message was read')), 5000);
        stream.on('close', () => clearTimeout(timer));
      });
    try {
      expect(await stalledCall('Bearer wrong')).to.match(/^16 missing or wrong ingest token/);
      // The HTTP receiver's uploads hold the whole budget: the next gRPC call is turned away at once.
      const held = budget.reserve(budget.maxBytes)!;
      expect(await stalledCall('Bearer tok-0123456789')).to.equal(`14 too many request bytes in flight (limit ${budget.maxBytes}); retry later`);
      held.release();
      // With room again, a call is admitted, stored, and gives its share back.
      const ok = await new Promise<number>((resolve) => {
        const stream = session.request({ ':method': 'POST', ':path': TRACE_SERVICE_EXPORT_PATH, 'content-type': 'application/grpc', te: 'trailers', authorization: 'Bearer tok-0123456789' });
        const message = toProtobuf(request([span(7)]));
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(message.length, 1);
        stream.end(Buffer.concat([prefix, message]));
        stream.on('trailers', (h) => resolve(Number(h['grpc-status'])));
        stream.resume();
      });
      expect(ok).to.equal(0);
      expect((await t.store.getLog(logIdOf(7))).spanId).to.equal(hex(8, 16));
      expect(budget.bytesInFlight).to.equal(0);
      // A message larger than the budget can hold once read is refused, and its share returned.
      const tight = new RequestBudget(1.5 * 1024 * 1024);
      const rx2 = await startOtlpGrpcReceiver({ store: t.store, port: 0, budget: tight, log: () => undefined });
      try {
        const big = toProtobuf(request(Array.from({ length: 12_000 }, (_, i) => span(100 + i))));
        expect(big.length).to.be.greaterThan(tight.maxBytes);
        const answer = await grpcExport(rx2.port, big);
        expect(answer.code).to.equal(14);
        expect(tight.bytesInFlight).to.equal(0);
      } finally {
        await rx2.close();
      }
    } finally {
      session.destroy();
      await rx.close();
      await t.cleanup();
    }
  });

  it('keeps serving other requests while an 8 MiB body is decoded', async function () {
    // A receiver in its own process, so that this process's event loop is not the one measured.
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-decode-')), 'a.db');
    const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'receiver.cjs'), db], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          const m = /listening (\d+)/.exec(d.toString());
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`receiver exited ${code}`)));
      });
      // 30k INTERNAL spans: decoded and mapped, none written (not audit rows).
      const spans = Array.from({ length: 30_000 }, (_, i) => ({ ...span(i), kind: 1 }));
      const big = Buffer.from(JSON.stringify(request(spans)));
      expect(big.length).to.be.greaterThan(7 * 1024 * 1024);
      let done = false;
      const ingest = new Promise<number>((resolve, reject) => {
        const req = http.request({ port, method: 'POST', path: '/v1/traces', headers: { ...json, 'content-length': big.length } }, (res) => {
          res.resume();
          res.on('end', () => { done = true; resolve(res.statusCode ?? 0); });
        });
        req.on('error', reject);
        req.end(big);
      });
      // Once the upload is sent, probe the same server until the ingest is answered.
      await new Promise((r) => setImmediate(r));
      let answered = 0;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (!done) {
        const status = await new Promise<number>((resolve, reject) => {
          http.get({ port, path: '/probe', agent }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); }).on('error', reject);
        });
        if (!done && status === 404) answered += 1;
      }
      agent.destroy();
      expect(await ingest).to.equal(200);
      // With the decode on the request thread, the probes waited for it (at most one got through before).
      expect(answered, 'probes answered while the big body was decoded').to.be.at.least(5);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

forEachStore('OTLP receiver: per-span limits', ({ store }) => {
  it('cuts attributes, long values and events like the SDK span limits while decoding, and counts what it cut', async () => {
    const rx = await startOtlpHttpReceiver({ store: store(), port: 0, log: () => undefined });
    try {
      const extra = [
        { key: 'user_agent.original', value: { stringValue: 'u'.repeat(100_000) } },
        ...Array.from({ length: 196 }, (_, i) => ({ key: `a${i}`, value: { stringValue: 'v' } })),
      ];
      const s = span(50, extra); // 3 + 197 = 200 attributes
      s.events = Array.from({ length: 150 }, (_, i) => ({ name: `e${i}`, timeUnixNano: '1700000000001000000' }));
      const res = await fetch(`http://127.0.0.1:${rx.port}/v1/traces`, { method: 'POST', body: JSON.stringify(request([s])), headers: json });
      expect(res.status).to.equal(200);
      const log = await store().getLog(logIdOf(50));
      expect(log.status).to.equal(200);
      expect(log.userAgent!.length).to.be.at.most(1024);
      expect(rx.pipeline.limited).to.deep.equal({ droppedAttributes: 72, truncatedValues: 1, droppedEvents: 22 });
    } finally {
      await rx.close();
    }
  });
});
