import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordWriter } from '../../src/exporter';
import { openStore } from '../../src/store';
import type { Store } from '../../src/store/types';
import { generateRecords } from '../helpers/fixtures';

const LINGER_MS = 150;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The writer's batching on a real SQLite store: a transaction costs about as much as a few
 * hundred rows below that size (docs/benchmarks.md), so rows left over after a full batch wait
 * out the linger for more instead of being written as a small batch of their own.
 */
describe('RecordWriter batches', () => {
  let dir: string;
  let store: Store;
  let batches: number[];
  let writer: RecordWriter;

  let failNext = 0;

  beforeEach(async () => {
    failNext = 0;
    dir = mkdtempSync(join(tmpdir(), 'auditspan-writer-'));
    const real = await openStore({ url: join(dir, 'a.db'), sqliteDriver: 'better-sqlite3' });
    batches = [];
    // The real store, with the size of every write noted.
    store = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'insertBatch') {
          return (records: Parameters<Store['insertBatch']>[0]) => {
            batches.push(records.length);
            if (failNext > 0) {
              failNext -= 1;
              return Promise.reject(new Error('injected: database busy'));
            }
            return target.insertBatch(records);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    writer = new RecordWriter({ store, batchSize: 500, lingerMs: LINGER_MS, report: () => {} });
  });

  afterEach(async () => {
    await writer.close(5000);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a full batch at once and lets the rest wait for the linger, joined by what comes next', async () => {
    const records = generateRecords(700, 7);
    writer.add(records.slice(0, 600));
    await sleep(LINGER_MS / 3);
    expect(batches).to.deep.equal([500]);
    writer.add(records.slice(600));
    await sleep(LINGER_MS / 3);
    expect(batches, 'the 100 left over are not written alone').to.deep.equal([500]);
    await sleep(LINGER_MS * 2);
    expect(batches).to.deep.equal([500, 200]);
    expect(writer.stats()).to.include({ accepted: 700, written: 700, queued: 0, dropped: 0 });
    const stats = await store.stats({});
    expect(stats.total).to.equal(700);
  });

  it('writes the remainder at once when a flush waits for it', async () => {
    writer.add(generateRecords(520, 8));
    await writer.flush(5000);
    expect(batches).to.deep.equal([500, 20]);
    expect(writer.stats()).to.include({ written: 520, queued: 0 });
  });

  it('writes rows that arrive slower than a batch after the linger, in one transaction', async () => {
    const records = generateRecords(90, 9);
    for (let i = 0; i < 90; i += 30) {
      writer.add(records.slice(i, i + 30));
      await sleep(10);
    }
    expect(batches).to.deep.equal([]);
    await sleep(LINGER_MS * 2);
    expect(batches).to.deep.equal([90]);
  });

  it('under a steady stream, with a failed write on the way, stores every row once in few transactions', async function () {
    this.timeout(20_000);
    const records = generateRecords(3000, 10);
    failNext = 1;
    for (let i = 0; i < records.length; i += 25) {
      writer.add(records.slice(i, i + 25));
      await sleep(2);
    }
    await writer.flush(10_000);
    expect(writer.stats()).to.include({ accepted: 3000, written: 3000, dropped: 0, queued: 0, failedWrites: 1 });
    expect((await store.stats({})).total).to.equal(3000);
    // 120 additions; the failed write and its retry aside, each transaction took many of them.
    expect(batches.length).to.be.lessThan(30);
  });
});
