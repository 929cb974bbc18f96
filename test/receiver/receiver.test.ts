import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { toSpanInput } from '../../src/exporter';
import { createRecordMapper, logIdAt } from '../../src/record';
import { startOtlpGrpcReceiver, startOtlpHttpReceiver } from '../../src/receiver';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '../../src/receiver/otlp-schema';
import { openStore } from '../../src/store';
import { expectNoLeak } from '../record/secrets';
import { logId } from '../helpers/expected';
import { createTestStore, forEachStore, pgReachable, REQUIRE_ALL } from '../helpers/stores';
import { sendSpans } from './spans';
import { LEAK } from './otlp-payloads';

const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
function otlpJson(spans: Array<Record<string, unknown>>): string {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'json-svc' } }] }, scopeSpans: [{ spans }] }] });
}
/** Every span of jsonSpan() starts here: their log ids are `${JSON_START_US}-<span id>`. */
const JSON_START_US = 1_700_000_000_000_000;
function jsonSpan(i: number, extra: Array<Record<string, unknown>> = []): Record<string, unknown> {
  return {
    traceId: hex(i + 1, 32), spanId: hex(i + 1, 16), name: 'GET /x', kind: 2,
    startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000012000000',
    attributes: [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'url.path', value: { stringValue: `/items/${i}` } },
      { key: 'http.response.status_code', value: { intValue: '200' } },
      ...extra,
    ],
  };
}

forEachStore('OTLP receiver', ({ store }) => {
  let httpPort = 0;
  let grpcPort = 0;
  let closers: Array<() => Promise<void>> = [];
  const post = (body: BodyInit, headers: Record<string, string>, path = '/v1/traces') =>
    fetch(`http://127.0.0.1:${httpPort}${path}`, { method: 'POST', body, headers });

  before(async () => {
    const http = await startOtlpHttpReceiver({ store: store(), port: 0, maxBodyBytes: 2 * 1024 * 1024 });
    const grpc = await startOtlpGrpcReceiver({ store: store(), port: 0 });
    httpPort = http.port;
    grpcPort = grpc.port;
    closers = [http.close, grpc.close];
  });
  after(async () => {
    for (const c of closers) await c();
  });

  const clients = [
    ['OTLP/HTTP JSON (exporter-trace-otlp-http)', () => new HttpJsonExporter({ url: `http://127.0.0.1:${httpPort}/v1/traces` })],
    ['OTLP/HTTP protobuf (exporter-trace-otlp-proto)', () => new ProtoExporter({ url: `http://127.0.0.1:${httpPort}/v1/traces` })],
    ['OTLP/HTTP protobuf gzip', () => new ProtoExporter({ url: `http://127.0.0.1:${httpPort}/v1/traces`, compression: 'gzip' as never })],
    ['OTLP/gRPC (exporter-trace-otlp-grpc)', () => new GrpcExporter({ url: `http://127.0.0.1:${grpcPort}` })],
    ['OTLP/gRPC gzip', () => new GrpcExporter({ url: `http://127.0.0.1:${grpcPort}`, compression: 'gzip' as never })],
  ] as const;

  for (const [name, make] of clients) {
    it(`files the same rows as the in-process path: ${name}`, async () => {
      const tag = name.replace(/\W+/g, '-');
      const ended = await sendSpans(make(), tag);
      const map = createRecordMapper();
      const expected = ended.map((s) => map(toSpanInput(s))).filter((r) => r !== null);
      expect(expected).to.have.length(2);
      for (const record of expected) {
        const { id, createdAt, updatedAt, ...stored } = await store().getLog(logId(record!));
        expect(stored).to.deep.equal(record);
        expectNoLeak(JSON.stringify(stored), 'stored row');
      }
      // The CLIENT span was ignored, not stored.
      const clientSpan = ended.find((s) => s.name === 'GET upstream')!;
      try {
        await store().getLog(logIdAt(clientSpan.startTime, clientSpan.spanContext().spanId));
        expect.fail('client span stored');
      } catch (err) {
        expect((err as Error).name).to.equal('NotFoundError');
      }
    });
  }

  it('answers in the request encoding and never duplicates a replayed batch', async () => {
    const body = otlpJson([jsonSpan(1000), jsonSpan(1001)]);
    for (let i = 0; i < 3; i++) {
      const res = await post(body, { 'content-type': 'application/json' });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/json');
      expect(await res.json()).to.deep.equal({});
    }
    expect((await store().listLogs({ endpoints: ['/items/{id}'] }, { limit: 500 })).data.filter((l) => l.traceId === hex(1001, 32))).to.have.length(1);
  });

  it('keeps 64-bit integers exact and reports invalid spans as a partial success', async () => {
    const big = jsonSpan(2000, [{ key: 'big.number', value: { intValue: 9007199254740993 } }]);
    const raw = otlpJson([big, { ...jsonSpan(2001), traceId: 'xyz' }, { ...jsonSpan(2002), endTimeUnixNano: '1' }]).replace('"intValue":9007199254740993', '"intValue":9007199254740993');
    const res = await post(raw, { 'content-type': 'application/json' });
    const body = (await res.json()) as any;
    expect(res.status).to.equal(200);
    expect(body.partialSuccess.rejectedSpans).to.equal('2');
    expect(body.partialSuccess.errorMessage).to.match(/invalid trace id/);
    const rejected = await store().getLog(`${JSON_START_US}-${hex(2003, 16)}`).catch(() => null);
    expect(rejected).to.equal(null);
    expect((await store().getLog(`${JSON_START_US}-${hex(2001, 16)}`)).timestampUs).to.equal(1_700_000_000_000_000);
  });

  it('answers a protobuf partial success in protobuf', async () => {
    // One valid span beside the invalid one: a request with nothing storable at all is a 400.
    const msg = ExportTraceServiceRequest.fromObject({ resourceSpans: [{ scopeSpans: [{ spans: [
      { traceId: Buffer.alloc(16), spanId: Buffer.alloc(8, 1), name: 'x', kind: 2, startTimeUnixNano: 1, endTimeUnixNano: 2 },
      { traceId: Buffer.alloc(16, 7), spanId: Buffer.alloc(8, 7), name: 'y', kind: 1, startTimeUnixNano: 1, endTimeUnixNano: 2 },
    ] }] }] });
    const res = await post(Buffer.from(ExportTraceServiceRequest.encode(msg).finish()), { 'content-type': 'application/x-protobuf' });
    expect(res.status).to.equal(200);
    const decoded = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(new Uint8Array(await res.arrayBuffer())), { longs: Number }) as any;
    expect(decoded.partialSuccess.rejectedSpans).to.equal(1);
  });

  describe('bad input', () => {
    const bad: Array<[string, () => Promise<Response>, number, RegExp]> = [
      ['garbage protobuf', () => post(Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' }), 400, /invalid protobuf/],
      ['truncated protobuf', () => post(Buffer.from([0x0a, 0x50, 0x0a, 0x02]), { 'content-type': 'application/x-protobuf' }), 400, /invalid protobuf/],
      ['invalid JSON', () => post('{"resourceSpans": [', { 'content-type': 'application/json' }), 400, /invalid JSON/],
      ['JSON that is not OTLP', () => post('[1,2]', { 'content-type': 'application/json' }), 400, /expected an object/],
      ['wrong content type', () => post('hello', { 'content-type': 'text/plain' }), 415, /Content-Type/],
      ['unknown encoding', () => post('x', { 'content-type': 'application/json', 'content-encoding': 'zstd' }), 415, /Content-Encoding/],
      ['bad gzip', () => post(Buffer.from('not gzip'), { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400, /compressed/],
      ['oversized body', () => post(Buffer.alloc(3 * 1024 * 1024, 32), { 'content-type': 'application/json' }), 413, /exceeds the limit/],
      ['gzip bomb', () => post(gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 1 }), { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 413, /after decompression/],
      ['wrong path', () => post('{}', { 'content-type': 'application/json' }, '/v1/logs'), 404, /POST \/v1\/traces/],
    ];
    for (const [name, send, status, message] of bad) {
      it(`answers ${status} with a message for ${name}, and stays healthy`, async () => {
        const res = await send();
        expect(res.status).to.equal(status);
        const json = res.headers.get('content-type') === 'application/json';
        const body = json ? ((await res.json()) as { code: number; message: string }) : { code: 0, message: '' };
        if (json) {
          expect(body.message).to.match(message);
          // google.rpc.Status codes: INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED; never a retryable UNAVAILABLE.
          expect(body.code).to.equal({ 400: 3, 404: 5, 413: 8, 415: 3 }[status]);
        }
        const ok = await post(otlpJson([jsonSpan(3000 + status)]), { 'content-type': 'application/json' });
        expect(ok.status).to.equal(200);
      });
    }

    it('caps absurd attribute values instead of failing', async () => {
      let deep: Record<string, unknown> = { stringValue: 'leaf' };
      for (let i = 0; i < 1000; i++) deep = { kvlistValue: { values: [{ key: 'k', value: deep }] } };
      const huge = 'x'.repeat(700 * 1024);
      const res = await post(otlpJson([jsonSpan(4000, [
        { key: 'http.route', value: { stringValue: huge } },
        { key: 'user_agent.original', value: { stringValue: huge } },
        { key: 'deep', value: deep },
      ])]), { 'content-type': 'application/json' });
      expect(res.status).to.equal(200);
      const log = await store().getLog(`${JSON_START_US}-${hex(4001, 16)}`);
      expect(log.endpoint.length).to.be.at.most(1024);
      expect(log.userAgent!.length).to.be.at.most(1024);
    });

    it('answers 405 to other methods', async () => {
      expect((await fetch(`http://127.0.0.1:${httpPort}/v1/traces`)).status).to.equal(405);
    });
  });
});

describe('OTLP receiver: ingest token, outages and crashes', function () {
  this.timeout(60_000);

  it('refuses requests without the ingest token', async () => {
    const t = await createTestStore('sqlite');
    const rx = await startOtlpHttpReceiver({ store: t.store, port: 0, ingestToken: 'tok-123' });
    const grpc = await startOtlpGrpcReceiver({ store: t.store, port: 0, ingestToken: 'tok-123' });
    try {
      const url = `http://127.0.0.1:${rx.port}/v1/traces`;
      const body = otlpJson([jsonSpan(1)]);
      expect((await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).status).to.equal(401);
      expect((await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: 'Bearer nope' } })).status).to.equal(401);
      expect((await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: 'Bearer tok-123' } })).status).to.equal(200);
      const denied = await new Promise<{ code: number }>((resolve) => {
        void sendSpans({
          export: (spans, cb) => new GrpcExporter({ url: `http://127.0.0.1:${grpc.port}` }).export(spans, (r) => { resolve({ code: r.code }); cb(r); }),
          shutdown: async () => undefined,
        }, 'grpc-auth');
      });
      expect(denied.code).to.equal(1);
    } finally {
      await rx.close();
      await grpc.close();
      await t.cleanup();
    }
  });

  it('answers 503 + Retry-After while PostgreSQL is unreachable and loses no acknowledged span', async function () {
    if (!(await pgReachable())) {
      if (REQUIRE_ALL) throw new Error('PostgreSQL unreachable');
      this.skip();
    }
    const t = await createTestStore('postgres');
    // A TCP proxy the test controls stands between the store and PostgreSQL.
    const upstream = new URL(t.url);
    let cut = false;
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      if (cut) return client.destroy();
      const server = net.connect(Number(upstream.port || 5432), upstream.hostname);
      sockets.add(client).add(server);
      client.pipe(server).pipe(client);
      const end = () => { client.destroy(); server.destroy(); };
      client.on('error', end); server.on('error', end); client.on('close', end); server.on('close', end);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const proxied = new URL(t.url);
    proxied.port = String((proxy.address() as net.AddressInfo).port);
    const store = await openStore({ url: proxied.toString(), poolSize: 2 });
    const rx = await startOtlpHttpReceiver({ store, port: 0 });
    const url = `http://127.0.0.1:${rx.port}/v1/traces`;
    const send = (i: number) => fetch(url, { method: 'POST', body: otlpJson([jsonSpan(i), jsonSpan(i + 1)]), headers: { 'content-type': 'application/json' } });
    try {
      const acked: number[] = [];
      for (const i of [10, 20]) if ((await send(i)).status === 200) acked.push(i, i + 1);
      cut = true;
      for (const s of sockets) s.destroy();
      const during = await send(30);
      expect(during.status).to.equal(503);
      expect(during.headers.get('retry-after')).to.equal('5');
      // No driver message, address or SQL reaches the sender.
      expect(((await during.json()) as { message: string }).message).not.to.match(LEAK);
      cut = false;
      let after = 503;
      for (let attempt = 0; attempt < 10 && after !== 200; attempt++) {
        after = (await send(30)).status;
        if (after !== 200) await new Promise((r) => setTimeout(r, 500));
      }
      expect(after).to.equal(200);
      acked.push(30, 31);
      for (const i of acked) expect((await t.store.getLog(`${JSON_START_US}-${hex(i + 1, 16)}`)).spanId).to.equal(hex(i + 1, 16));
      expect(await t.store.countLogs({})).to.equal(acked.length);
    } finally {
      await rx.close();
      await store.close();
      proxy.close();
      for (const s of sockets) s.destroy();
      await t.cleanup();
    }
  });

  it('keeps every acknowledged span across a SIGKILL', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-kill-')), 'a.db');
    const start = () => new Promise<{ port: number; kill: () => Promise<void> }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'receiver.cjs'), db], { stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout.on('data', (d: Buffer) => {
        const m = /listening (\d+)/.exec(d.toString());
        if (m) resolve({ port: Number(m[1]), kill: () => new Promise((r) => { child.once('exit', () => r()); child.kill('SIGKILL'); }) });
      });
      child.once('exit', (code) => reject(new Error(`receiver exited ${code}`)));
    });
    const acked: number[] = [];
    const first = await start();
    for (let b = 0; b < 5; b++) {
      const spans = Array.from({ length: 100 }, (_, i) => jsonSpan(10_000 + b * 100 + i));
      const res = await fetch(`http://127.0.0.1:${first.port}/v1/traces`, { method: 'POST', body: otlpJson(spans), headers: { 'content-type': 'application/json' } });
      if (res.status === 200) acked.push(...spans.map((_, i) => 10_000 + b * 100 + i));
    }
    await first.kill();
    const store = await openStore({ url: db });
    try {
      expect(acked).to.have.length(500);
      expect(await store.countLogs({})).to.equal(acked.length);
    } finally {
      await store.close();
    }
  });
});

