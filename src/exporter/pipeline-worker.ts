/**
 * The audit pipeline's worker thread: receives spans copied off the app's thread, maps and
 * redacts them, and writes the rows through the bounded, retrying RecordWriter. Started by
 * WorkerSpanProcessor; never loaded on the app's own thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRecordMapper, nameByRoute, RouteTemplates, type AuditRecord } from '../record';
import type { Attributes } from '../record/types';
import { openStore } from '../store';
import { fromWireSpan, type WireSpan } from './convert';
import { EXIT_SEQ, EXIT_SETTLED, type FromWorker, type PipelineConfig, type ToWorker } from './pipeline-protocol';
import { RecordWriter } from './queue';

const port = parentPort;
if (!port) throw new Error('auditspan: pipeline-worker runs only as a worker thread');

const config = workerData as PipelineConfig;
const post = (message: FromWorker): void => port.postMessage(message);
/** Rows read back at start for the route templates they name. */
const SEED_ROWS = 20_000;

let received = 0;
let unmapped = 0;
let resource: Attributes = {};

const map = createRecordMapper(config.record);
/** Templates of the routes seen, so that a request rejected before routing gets its route's name. */
const routes = new RouteTemplates();
const writer = new RecordWriter({
  // Blocking is harmless on this thread, so SQLite takes its fastest driver (docs/architecture.md).
  store: async () => {
    const store = await openStore({ url: config.db, sqliteDriver: 'better-sqlite3', sqliteSynchronous: config.sqliteSynchronous });
    // Templates already in the database name unrouted requests from the start (best effort).
    routes.seed(await store.recentEndpoints(SEED_ROWS).catch(() => []));
    return store;
  },
  maxQueue: config.maxQueue,
  report: (message) => post({ t: 'report', message }),
  onProgress: () => {
    publishSettled();
    scheduleStats();
  },
});

const exitState = config.exitState ? new Int32Array(config.exitState) : undefined;

/**
 * Tells the app's thread how many spans are settled (written, unmapped or dropped): at process
 * exit it blocks in Atomics.wait on this until its backlog is settled or its bound is reached.
 */
function publishSettled(): void {
  if (!exitState) return;
  const counts = writer.stats();
  Atomics.store(exitState, EXIT_SETTLED, (unmapped + counts.written + counts.dropped) | 0);
  Atomics.add(exitState, EXIT_SEQ, 1);
  Atomics.notify(exitState, EXIT_SEQ);
}

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

/**
 * Messages wait until the store is open and the route templates it holds are learned (bounded
 * by SEED_WAIT_MS, and ended at once by a flush or close: a database that is down or slow holds
 * nothing up for long), so that the first unrouted requests after a restart are named like the
 * rest; order is kept.
 */
const SEED_WAIT_MS = 2000;
let held: ToWorker[] | undefined = [];
function releaseHeld(): void {
  const messages = held ?? [];
  held = undefined;
  for (const message of messages) handle(message);
}
const seedWait = new Promise<void>((resolve) => setTimeout(resolve, SEED_WAIT_MS).unref());
void Promise.race([writer.open().then(() => undefined, () => undefined), seedWait]).then(releaseHeld);

port.on('message', (message: ToWorker) => {
  if (!held) return handle(message);
  held.push(message);
  // A flush or close is waited for: it does not wait for the templates as well.
  if (message.t === 'flush' || message.t === 'close') releaseHeld();
});

function handle(message: ToWorker): void {
  switch (message.t) {
    case 'spans': {
      if (message.resource) resource = message.resource;
      const records: AuditRecord[] = [];
      const routed: boolean[] = [];
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
          if (record) {
            records.push(record);
            routed.push(typeof wire.attributes['http.route'] === 'string');
          } else unmapped += 1;
        } catch {
          // A span that cannot be mapped is not a row (as in AuditSpanProcessor).
          unmapped += 1;
        }
      }
      received += message.count;
      nameByRoute(routes, records, routed);
      writer.add(records);
      publishSettled();
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
}
