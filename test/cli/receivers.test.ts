import { expect } from 'chai';
import { makeServerSpans, postUntilStored, protobufBatches } from '../helpers/otlp-batches';
import { createTestStore, pgReachable, PG_URL, REQUIRE_ALL, type TestStore } from '../helpers/stores';
import { listPartitions } from '../../src/store/partitions';
import { startCli, type Running } from './run-cli';

const ZERO_PORTS = ['--port', '0', '--otlp-port', '0', '--otlp-grpc-port', '0'];
const DAY_MS = 86_400_000;

describe('several serve processes, one PostgreSQL', function () {
  this.timeout(120_000);
  let db: TestStore | undefined;
  const servers: Running[] = [];

  before(async function () {
    if (!(await pgReachable())) {
      if (REQUIRE_ALL) throw new Error(`PostgreSQL at ${PG_URL} is not reachable`);
      this.skip();
    }
    db = await createTestStore('postgres');
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await db?.cleanup();
  });

  it('stores every span once while three receivers take the same batches, retried and duplicated', async () => {
    const receivers = await Promise.all([0, 1, 2].map(async () => {
      const s = startCli(['serve', ...ZERO_PORTS, '--db', db!.url]);
      servers.push(s);
      return (JSON.parse(await s.waitForLine((l) => l.includes('auditspan listening'))) as { otlpHttp: string }).otlpHttp;
    }));
    // 24 batches of 100 spans; their start times spread over days no partition exists for yet
    // (2032), so the receivers also race to create the same partitions on demand.
    const base = Date.UTC(2032, 0, 1);
    const spans = await makeServerSpans(2400, (i) => base + (i % 6) * DAY_MS + i);
    const bodies = protobufBatches(spans, 100);
    // Every batch goes to two receivers at once (a collector retrying on another instance while the
    // first answer is lost), and every third batch a third time afterwards.
    await Promise.all(bodies.map(async (body, i) => {
      await Promise.all([postUntilStored(receivers[i % 3], body), postUntilStored(receivers[(i + 1) % 3], body)]);
      if (i % 3 === 0) await postUntilStored(receivers[(i + 2) % 3], body);
    }));
    const store = db!.store;
    const { rows } = (await store.raw.raw('SELECT count(*) AS n, count(DISTINCT (ts_us, span_id, trace_id)) AS distinct_keys FROM logs')) as { rows: Array<{ n: string; distinct_keys: string }> };
    expect(Number(rows[0].n)).to.equal(spans.length);
    expect(Number(rows[0].distinct_keys)).to.equal(spans.length);
    const stored = new Set(((await store.raw('logs').select('span_id')) as Array<{ span_id: string }>).map((r) => r.span_id));
    for (const s of spans) expect(stored.has(s.spanContext().spanId)).to.equal(true);
    const names = (await listPartitions(store.raw)).map((p) => p.name);
    for (let d = 1; d <= 6; d++) expect(names.filter((n) => n === `logs_p203201${String(d).padStart(2, '0')}`)).to.have.length(1);
  });
});
