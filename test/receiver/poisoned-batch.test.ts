import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { toSpanInput } from '../../src/exporter';
import { createRecordMapper } from '../../src/record';
import type { AuditRecord } from '../../src/record/types';
import { startOtlpGrpcReceiver, startOtlpHttpReceiver } from '../../src/receiver';
import { insertIsolating } from '../../src/store';
import { forEachStore } from '../helpers/stores';
import { grpcExport, LEAK, logIdOf, request, span, toProtobuf } from './otlp-payloads';

const NUL = '\u0000';

forEachStore('a bad value never poisons a batch', ({ store, url, dialect }) => {
  let httpPort = 0;
  let grpcPort = 0;
  const logged: Array<Record<string, unknown>> = [];
  let closers: Array<() => Promise<void>> = [];
  const post = (body: Record<string, unknown>) =>
    fetch(`http://127.0.0.1:${httpPort}/v1/traces`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  /** Makes the database itself refuse status 418 (a CHECK constraint, or a trigger on SQLite). */
  async function refuseTeapots(on: boolean): Promise<void> {
    if (dialect === 'postgres') {
      const c = new Client({ connectionString: url() });
      await c.connect();
      await c.query(on ? 'ALTER TABLE logs ADD CONSTRAINT no_teapots CHECK (status <> 418)' : 'ALTER TABLE logs DROP CONSTRAINT no_teapots');
      await c.end();
      return;
    }
    // Another process: two SQLite copies must not open one file in one process (src/store/sqlite-files.ts).
    const sql = on
      ? "CREATE TRIGGER no_teapots BEFORE INSERT ON logs WHEN NEW.status = 418 BEGIN SELECT RAISE(ABORT, 'no teapots'); END"
      : 'DROP TRIGGER no_teapots';
    execFileSync(process.execPath, ['-e', `const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.pragma('busy_timeout = 5000'); db.exec(process.argv[2]); db.close();`, url(), sql]);
  }

  before(async () => {
    const log = (entry: Record<string, unknown>) => logged.push(entry);
    const http = await startOtlpHttpReceiver({ store: store(), port: 0, log });
    const grpc = await startOtlpGrpcReceiver({ store: store(), port: 0, log });
    httpPort = http.port;
    grpcPort = grpc.port;
    closers = [http.close, grpc.close];
  });
  after(async () => {
    for (const c of closers) await c();
  });

  it('stores every span of a batch holding NUL bytes and out-of-range status codes (OTLP/HTTP and gRPC)', async () => {
    const nul = span(100, [
      { key: 'user_agent.original', value: { stringValue: `curl${NUL}/8` } },
      { key: 'auditspan.company.id', value: { stringValue: `acme${NUL}` } },
      { key: 'auditspan.request.body', value: { stringValue: `{"a":"${'x'.repeat(200)}${NUL}y"}` } },
      { key: 'http.request.header.content-type', value: { stringValue: 'application/json' } },
    ]);
    (nul.attributes as Array<{ key: string; value: { stringValue?: string } }>)[1].value.stringValue = `/p/1${NUL}00`;
    const valid = Array.from({ length: 10 }, (_, i) => span(110 + i));
    const res = await post(request([...valid, nul, span(101, [], 2 ** 31), span(102, [], 2 ** 40)]));
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({});
    for (let i = 110; i < 120; i++) expect((await store().getLog(logIdOf(i))).status).to.equal(200);
    const stored = await store().getLog(logIdOf(100));
    expect(stored.url).to.equal('/p/1\uFFFD00');
    expect(stored.userAgent).to.equal('curl\uFFFD/8');
    expect(stored.companyId).to.equal('acme\uFFFD');
    expect(stored.requestPayload).to.equal(`{"a":"${'x'.repeat(200)}\uFFFDy"}`);
    for (const i of [101, 102]) {
      const log = await store().getLog(logIdOf(i));
      expect(log.status).to.equal(0);
      expect(log.error).to.match(/invalid HTTP status code \d+/);
    }

    const grpcAnswer = await grpcExport(grpcPort, toProtobuf(request([span(130, [{ key: 'x', value: { stringValue: NUL } }], 2 ** 31), span(131, [{ key: 'user_agent.original', value: { stringValue: NUL } }])])));
    expect(grpcAnswer.code).to.equal(0);
    expect((await store().getLog(logIdOf(130))).status).to.equal(0);
    expect((await store().getLog(logIdOf(131))).userAgent).to.equal('\uFFFD');
  });

  it('maps in-process spans the same way, so the pipeline worker stores them too', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    const s = provider.getTracer('t').startSpan('GET', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET', 'url.path': `/in${NUL}proc`, 'http.response.status_code': 2 ** 31, 'auditspan.token.name': `t${NUL}` },
    });
    s.end();
    const record = createRecordMapper()(toSpanInput(memory.getFinishedSpans()[0]))!;
    expect(record.url).to.equal('/in\uFFFDproc');
    expect(record.status).to.equal(0);
    const result = await insertIsolating(store(), [record]);
    expect(result).to.deep.include({ inserted: 1, rejected: [] });
    await provider.shutdown();
  });

  it('rejects alone the spans the database refuses, with no SQL in the answer; only a request with nothing storable is a 400', async () => {
    await refuseTeapots(true);
    try {
      logged.length = 0;
      const valid = Array.from({ length: 10 }, (_, i) => span(200 + i));
      const res = await post(request([valid[0], span(210, [], 418), ...valid.slice(1)]));
      expect(res.status).to.equal(200);
      const body = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
      expect(body.partialSuccess.rejectedSpans).to.equal('1');
      expect(body.partialSuccess.errorMessage).to.include(span(210).spanId as string);
      expect(body.partialSuccess.errorMessage).not.to.match(LEAK);
      for (let i = 200; i < 210; i++) expect((await store().getLog(logIdOf(i))).spanId).to.equal(span(i).spanId);
      expect(await store().getLog(logIdOf(210)).catch((e: Error) => e.name)).to.equal('NotFoundError');
      // The detail went to the server log instead.
      expect(JSON.stringify(logged)).to.match(/no_teapots|teapots/);

      const grpcPartial = await grpcExport(grpcPort, toProtobuf(request([span(220), span(221, [], 418)])));
      expect(grpcPartial.code).to.equal(0);
      expect(grpcPartial.response?.partialSuccess?.rejectedSpans).to.equal(1);
      expect(grpcPartial.response?.partialSuccess?.errorMessage).not.to.match(LEAK);

      const none = await post(request([span(230, [], 418), span(231, [], 418)]));
      expect(none.status).to.equal(400);
      expect(none.headers.get('retry-after')).to.equal(null);
      const status = (await none.json()) as { code: number; message: string };
      expect(status.code).to.equal(3);
      expect(status.message).to.match(/no span could be stored/).and.not.match(LEAK);
      const grpcNone = await grpcExport(grpcPort, toProtobuf(request([span(240, [], 418)])));
      expect(grpcNone.code).to.equal(3); // INVALID_ARGUMENT, not UNAVAILABLE
      expect(grpcNone.details).not.to.match(LEAK);
    } finally {
      await refuseTeapots(false);
    }
  });

  it('isolates a refused row at the store: the others are committed, a replay adds nothing', async () => {
    const map = createRecordMapper();
    const records: AuditRecord[] = [];
    for (let i = 300; i < 311; i++) {
      records.push({ ...map(fromJson(span(i)))! });
    }
    records.splice(4, 0, { ...records[0], spanId: 'ffffffffffffff01', method: null as unknown as string });
    const first = await insertIsolating(store(), records);
    expect(first.inserted).to.equal(11);
    expect(first.rejected.map((r) => r.index)).to.deep.equal([4]);
    const again = await insertIsolating(store(), records);
    expect(again).to.deep.include({ inserted: 0, duplicates: 11 });
  });
});

/** The decoder's view of span(i), enough for the mapper. */
function fromJson(s: Record<string, unknown>) {
  const attributes: Record<string, string | number> = {};
  for (const kv of s.attributes as Array<{ key: string; value: { stringValue?: string; intValue?: string } }>) {
    attributes[kv.key] = kv.value.stringValue ?? Number(kv.value.intValue);
  }
  return {
    traceId: s.traceId as string, spanId: s.spanId as string, name: s.name as string, kind: 'server' as const,
    startTimeUnixNano: BigInt(s.startTimeUnixNano as string), endTimeUnixNano: BigInt(s.endTimeUnixNano as string),
    attributes, resource: {}, status: { code: 'unset' as const }, events: [],
  };
}
