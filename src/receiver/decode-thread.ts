import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SpanInput } from '../record/types';
import { DecodeError, type DecodedBatch, type DecodeLimits, type LimitCounts } from './decode';
import type { DecodeJob } from './decode-worker';

/**
 * Bodies from this size up (about 50 spans) are decoded on the decode thread; smaller ones
 * inline, where decoding takes under a few milliseconds. A collector's batch of 512 spans takes
 * 20 ms or more to decode: inline, it held up the write transaction in progress, whose every
 * statement waits for the event loop, and the receiver ingested 0.8× as many spans a second.
 */
export const OFF_THREAD_BYTES = 32 * 1024;
/** Heap of the decode thread: a body that needs more is refused (400), the server lives on. */
const WORKER_HEAP_MB = 1024;

type FromWorker =
  | { id: number; t: 'spans'; spans: SpanInput[] }
  | { id: number; t: 'done'; rejected: number; rejectMessage?: string; limited?: LimitCounts }
  | { id: number; t: 'error'; invalid: boolean; message: string };

interface Pending {
  spans: SpanInput[];
  resolve(batch: DecodedBatch): void;
  reject(err: Error): void;
}

/** The compiled worker next to this file; from TypeScript sources (tests, tsx) it is loaded through tsx. */
function workerScript(): { file: string; eval: boolean } {
  const js = join(__dirname, 'decode-worker.js');
  if (existsSync(js)) return { file: js, eval: false };
  const ts = join(__dirname, 'decode-worker.ts');
  return { file: `require('tsx/cjs/api').register(); require(${JSON.stringify(ts)});`, eval: true };
}

/** One decode thread per receiver, started on the first large body, ended by `close()`. */
export class DecodeThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  decode(body: Buffer, json: boolean, limits?: DecodeLimits): Promise<DecodedBatch> {
    const worker = this.ensure();
    const id = this.nextId++;
    // Transfer the bytes when the buffer owns its memory (bodies this large always do).
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const bytes = own ? new Uint8Array(body.buffer, 0, body.byteLength) : new Uint8Array(body);
    return new Promise<DecodedBatch>((resolve, reject) => {
      this.pending.set(id, { spans: [], resolve, reject });
      const job: DecodeJob = { id, body: bytes, json, limits };
      worker.postMessage(job, [bytes.buffer as ArrayBuffer]);
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const script = workerScript();
    const worker = new Worker(script.file, { eval: script.eval, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    worker.unref();
    worker.on('message', (m: FromWorker) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.t === 'spans') {
        for (const s of m.spans) p.spans.push(s);
        return;
      }
      this.pending.delete(m.id);
      if (m.t === 'done') p.resolve({ spans: p.spans, rejected: m.rejected, rejectMessage: m.rejectMessage, limited: m.limited });
      else p.reject(m.invalid ? new DecodeError(m.message) : new Error(m.message));
    });
    const fail = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      // A body that ran the decode thread out of memory is refused; the next body gets a new thread.
      for (const p of this.pending.values()) p.reject(new DecodeError(`the request could not be decoded (${why})`));
      this.pending.clear();
    };
    worker.on('error', (err) => fail((err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'too large to decode' : 'decoder failure'));
    worker.on('exit', () => fail('decoder stopped'));
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error('the receiver is closing'));
    this.pending.clear();
  }
}
