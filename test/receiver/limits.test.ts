import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOtlpHttpReceiver } from '../../src/receiver';
import { createTestStore, forEachStore } from '../helpers/stores';
import { hex, logIdOf, request, span } from './otlp-payloads';

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
