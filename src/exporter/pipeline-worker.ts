/**
 * The audit pipeline's worker thread: receives spans copied off the app's thread, maps and
 * redacts them, and writes the rows through the bounded, retrying RecordWriter. Started by
 * WorkerSpanProcessor; never loaded on the app's own thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRecordMapper, type AuditRecord } from '../record';
import type { Attributes } from '../record/types';
import { openStore } from '../store';
import { fromWireSpan, type WireSpan } from './convert';
import type { FromWorker, PipelineConfig, ToWorker } from './pipeline-protocol';
import { RecordWriter } from './queue';

const port = parentPort;
if (!port) throw new Error('auditspan: pipeline-worker runs only as a worker thread');

const config = workerData as PipelineConfig;
const post = (message: FromWorker): void => port.postMessage(message);

let received = 0;
let unmapped = 0;
let resource: Attributes = {};

const map = createRecordMapper(config.record);
const writer = new RecordWriter({
  // Blocking is harmless on this thread, so SQLite takes its fastest driver (docs/architecture.md).
  store: () => openStore({ url: config.db, sqliteDriver: 'better-sqlite3', sqliteSynchronous: config.sqliteSynchronous }),
  maxQueue: config.maxQueue,
  report: (message) => post({ t: 'report', message }),
  onProgress: () => scheduleStats(),
});

/**
 * Counts go back to the app's thread at most every STATS_MS (each message costs that thread
 * an event), and always just before a flush or close is answered, so that the answer and the
 * counts agree.
 */
const STATS_MS = 50;
let statsTimer: NodeJS.Timeout | undefined;

function postStats(): void {
  if (statsTimer) clearTimeout(statsTimer);
  statsTimer = undefined;
  post({ t: 'stats', received, unmapped, ...writer.stats() });
}

function scheduleStats(): void {
  statsTimer ??= setTimeout(postStats, STATS_MS);
}

function answer(id: number, work: Promise<void>): void {
  work.then(
    () => undefined,
    (err: unknown) => (err as Error).message,
  ).then((error) => {
    postStats();
    post(error === undefined ? { t: 'done', id } : { t: 'done', id, error });
  });
}

port.on('message', (message: ToWorker) => {
  switch (message.t) {
    case 'spans': {
      if (message.resource) resource = message.resource;
      const records: AuditRecord[] = [];
      let spans: WireSpan[] = [];
      try {
        spans = JSON.parse(message.spans) as WireSpan[];
      } catch {
        // Our own JSON.stringify's output: cannot happen; counted as unmapped if it ever did.
      }
      unmapped += message.count - spans.length;
      for (const wire of spans) {
        try {
          const record = map(fromWireSpan(wire, resource));
          if (record) records.push(record);
          else unmapped += 1;
        } catch {
          // A span that cannot be mapped is not a row (as in AuditSpanProcessor).
          unmapped += 1;
        }
      }
      received += message.count;
      writer.add(records);
      scheduleStats();
      break;
    }
    case 'flush':
      answer(message.id, writer.flush(message.timeoutMs));
      break;
    case 'close':
      answer(message.id, writer.close(message.timeoutMs));
      break;
    case 'release':
      writer.releaseWhenIdle();
      break;
  }
});
