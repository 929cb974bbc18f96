import { expect } from 'chai';
import { SpanKind, type Attributes } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { toSpanInput, WorkerSpanProcessor } from '../../src/exporter';
import { createRecordMapper } from '../../src/record';
import { openStore } from '../../src/store';
import { logId } from '../helpers/expected';
import { createTestStore, pgReachable, PG_URL, REQUIRE_ALL, type TestStore } from '../helpers/stores';

const serverSpan = (i: number, extra: Attributes = {}): Attributes => ({
  'http.request.method': 'POST',
  'url.scheme': 'https',
  'server.address': 'api.example.com',
  'url.path': `/v1/items/${i}`,
  'url.query': 'expand=owner&api_key=sk_live_51Hplanted0000',
  'http.route': '/v1/items/:id',
  'http.response.status_code': 201,
  'auditspan.request.body': JSON.stringify({ n: i, password: 'hunter2-planted', email: 'jane.planted@example.com' }),
  'http.request.header.content-type': ['application/json'],
  ...extra,
});

function harness(options: ConstructorParameters<typeof WorkerSpanProcessor>[0]) {
  const reports: string[] = [];
  const processor = new WorkerSpanProcessor({ ...options, report: (m) => reports.push(m) });
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  const tracer = provider.getTracer('test');
  const emit = (from: number, count: number): void => {
    for (let i = from; i < from + count; i++) {
      tracer.startSpan(`POST /v1/items/:id`, { kind: SpanKind.SERVER, attributes: serverSpan(i) }).end();
    }
  };
  return { processor, provider, tracer, reports, emit };
}

// The worker writes SQLite with better-sqlite3; this process reads the file with the same driver.
async function rowsOf(url: string) {
  const store = await openStore({ url, sqliteDriver: 'better-sqlite3' });
  try {
    return (await store.listLogs({}, { limit: 500 })).data;
  } finally {
    await store.close();
  }
}

describe('WorkerSpanProcessor (mapping, redaction and writes on a worker thread)', () => {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    describe(`into ${dialect}`, function () {
      let db: TestStore | undefined;
      before(async function () {
        if (dialect === 'postgres' && !(await pgReachable())) {
          if (REQUIRE_ALL) throw new Error(`PostgreSQL at ${PG_URL} is not reachable`);
          this.skip();
        }
        db = await createTestStore(dialect, 'better-sqlite3');
      });
      after(async () => db?.cleanup());

      it('files each server span as one redacted row; other spans are not rows', async () => {
        const { processor, provider, tracer, emit } = harness({ db: db!.url });
        emit(0, 300);
        tracer.startSpan('SELECT items', { kind: SpanKind.CLIENT }).end();
        tracer.startSpan('middleware', { kind: SpanKind.INTERNAL }).end();
        await processor.forceFlush();
        expect(processor.stats()).to.deep.equal({ accepted: 300, written: 300, dropped: 0, failedWrites: 0, queued: 0 });
        const rows = await rowsOf(db!.url);
        expect(rows).to.have.length(300);
        const row = rows.find((r) => r.url.includes('/v1/items/7?'))!;
        expect(row).to.include({ method: 'POST', endpoint: '/v1/items/:id', status: 201 });
        expect(row.url).to.equal('https://api.example.com/v1/items/7?expand=owner&api_key=[REDACTED]');
        expect(JSON.parse(row.requestPayload!)).to.deep.equal({ n: 7, password: '[REDACTED]', email: '[REDACTED]' });
        await provider.shutdown();
      });
    });
  }

  it('files exactly the row the in-thread mapping makes, whatever the attribute values', async () => {
    const t = await createTestStore('sqlite', 'better-sqlite3');
    const spans = new InMemorySpanExporter();
    const processor = new WorkerSpanProcessor({ db: t.url });
    const provider = new BasicTracerProvider({ spanProcessors: [processor, new SimpleSpanProcessor(spans)] });
    try {
      const span = provider.getTracer('test').startSpan('POST /v1/items/:id', {
        kind: SpanKind.SERVER,
        attributes: serverSpan(1, {
          'http.response.status_code': 500,
          // Text that a copy between threads or a database could alter: astral characters, a lone surrogate, controls, quotes, escapes.
          'user_agent.original': 'app/1 😀 \ud800 "quoted" \u0000\n\t \\ ✓',
          'auditspan.response.body': '{"error":{"message":"upstream said \\"no\\" 😀"}}',
          'http.request.header.accept': ['application/json', 'text/plain'],
          'auditspan.request.body.size': 1234567,
          'auditspan.request.body.truncated': true,
          'custom.float': 0.1 + 0.2,
          'custom.nan': Number.NaN,
        }),
      });
      span.recordException(new Error('boom at step 3'));
      span.end();
      await processor.forceFlush();
      const [ended] = spans.getFinishedSpans();
      const expected = createRecordMapper()(toSpanInput(ended))!;
      const { id, createdAt, updatedAt, ...stored } = await t.store.getLog(logId(expected));
      expect(stored).to.deep.equal(expected);
      // A NUL becomes U+FFFD like a lone surrogate (PostgreSQL's text cannot hold it): the same on every database.
      expect(stored.userAgent).to.contain('😀').and.contain('"quoted" \ufffd\n').and.not.contain('\u0000');
    } finally {
      await provider.shutdown();
      await t.cleanup();
    }
  });

  it('bounds in bytes what waits for an unreachable database: large spans beyond maxQueueBytes are dropped and counted', async () => {
    const { processor, provider, tracer, reports } = harness({ db: 'postgres://postgres@127.0.0.1:1/none', maxQueueBytes: 100_000, shutdownTimeoutMs: 500 });
    const body = 'x'.repeat(10_000);
    for (let i = 0; i < 50; i++) {
      tracer.startSpan('POST /v1/items/:id', { kind: SpanKind.SERVER, attributes: serverSpan(i, { 'auditspan.request.body': body }) }).end();
    }
    const stats = processor.stats();
    // About 10.6 KB of JSON per span: 9 fit in 100 000 bytes, the other 41 are dropped.
    expect(stats.dropped).to.equal(41);
    expect(stats.queued).to.equal(9);
    expect(reports.join('\n')).to.match(/audit queue full \(100000 bytes of span data\): dropped a row/);
    await provider.shutdown().catch(() => undefined);
  });

  it('gives the bytes back once the rows are written', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'auditspan-bytes-')), 'b.db');
    const { processor, provider, tracer } = harness({ db, maxQueueBytes: 100_000 });
    const body = 'x'.repeat(10_000);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 9; i++) {
        tracer.startSpan('POST /v1/items/:id', { kind: SpanKind.SERVER, attributes: serverSpan(round * 9 + i, { 'auditspan.request.body': body }) }).end();
      }
      await processor.forceFlush();
    }
    expect(processor.stats()).to.include({ dropped: 0, written: 27 });
    await provider.shutdown();
  });

  it('bounds what waits for an unreachable database: drops are counted and reported, flush says what is left', async () => {
    const { processor, provider, reports, emit } = harness({ db: 'postgres://postgres@127.0.0.1:1/none', maxQueue: 50, shutdownTimeoutMs: 1000 });
    emit(0, 80);
    const started = Date.now();
    let error: Error | undefined;
    await processor.forceFlush(800).catch((err: Error) => { error = err; });
    expect(Date.now() - started).to.be.below(5000);
    expect(error?.message).to.match(/50 audit rows not yet written after 800 ms/);
    expect(processor.stats()).to.include({ dropped: 30, written: 0, queued: 50 });
    expect(reports.join('\n')).to.match(/audit queue full \(50 rows\): dropped a row/);
    expect(reports.join('\n')).to.match(/cannot write audit rows .*ECONNREFUSED/);
    // Shutting down with the database still away is bounded too, says so, and stops the worker.
    const stopping = Date.now();
    const shutdown = await provider.shutdown().then(() => 'resolved', (err: Error) => err.message);
    expect(shutdown).to.match(/50 audit rows not yet written after 1000 ms/);
    expect(Date.now() - stopping).to.be.below(5000);
  });

  it('reports a worker that dies with the rows it held, and goes on in a new one', async () => {
    const db = await createTestStore('sqlite', 'better-sqlite3');
    try {
      const { processor, provider, reports, emit } = harness({ db: db.url });
      emit(0, 10);
      await processor.forceFlush();
      // Stands in for a worker killed from outside (out of memory, a native crash).
      await (processor as unknown as { worker: Worker }).worker.terminate();
      expect(reports.join('\n')).to.match(/the audit pipeline worker stopped \(exit code 1\); 0 rows it held are lost; restarting/);
      emit(10, 10);
      await processor.forceFlush();
      expect(processor.stats()).to.deep.equal({ accepted: 20, written: 20, dropped: 0, failedWrites: 0, queued: 0 });
      expect(await rowsOf(db.url)).to.have.length(20);
      await provider.shutdown();
    } finally {
      await db.cleanup();
    }
  });

  it('writes everything at shutdown and records nothing after it', async () => {
    const db = await createTestStore('sqlite', 'better-sqlite3');
    try {
      const { processor, provider, emit } = harness({ db: db.url });
      emit(0, 40);
      await provider.shutdown();
      emit(40, 5);
      expect(await rowsOf(db.url)).to.have.length(40);
      expect(processor.stats()).to.include({ written: 40, queued: 0 });
    } finally {
      await db.cleanup();
    }
  });

  it('refuses to let this process open its SQLite file with the other SQLite library', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditspan-wsp-'));
    const file = join(dir, 'audit.db');
    try {
      const { processor, provider, emit } = harness({ db: file });
      emit(0, 1);
      await processor.forceFlush();
      let error: Error | undefined;
      await openStore({ url: file }).catch((err: Error) => { error = err; });
      expect(error?.message).to.match(/is open in this process with better-sqlite3.*could corrupt it/);
      await provider.shutdown();
      // Once the pipeline has shut down (its worker closed the file), sqlite3 may open it.
      const store = await openStore({ url: file });
      expect(await store.countLogs({})).to.equal(1);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a custom redaction function, which cannot cross threads', () => {
    expect(() => new WorkerSpanProcessor({ record: { redaction: { custom: (v) => v } } })).to.throw(/custom redaction function .*AuditSpanProcessor/);
  });
});
