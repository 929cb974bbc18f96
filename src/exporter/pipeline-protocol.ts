/** Messages between WorkerSpanProcessor (the app's thread) and pipeline-worker. */
import type { RecordOptions } from '../record';
import type { Attributes } from '../record/types';
import type { WriterStats } from './queue';

/** `workerData` of the pipeline worker: everything must survive a structured clone. */
export interface PipelineConfig {
  /** SQLite path or postgres:// URL (undefined: the default ./auditspan.db). */
  db?: string;
  /** SQLite `synchronous` mode (default normal). */
  sqliteSynchronous?: 'normal' | 'full';
  /** Without a `custom` redaction function (functions cannot cross threads). */
  record?: RecordOptions;
  maxQueue: number;
  /**
   * Shared with the app's thread (Int32 slots, see EXIT_SEQ / EXIT_SETTLED): the worker counts
   * here every span it has settled (written, unmapped or dropped), so that an app's thread
   * blocked in `Atomics.wait` inside a process 'exit' listener sees the backlog drain.
   */
  exitState?: SharedArrayBuffer;
}

/** Slot of `exitState` bumped (and notified) whenever the settled count changes. */
export const EXIT_SEQ = 0;
/** Slot of `exitState` holding the spans settled so far, modulo 2^32. */
export const EXIT_SETTLED = 1;
export const EXIT_SLOTS = 2;

export type ToWorker =
  /**
   * `spans`: a JSON array of `count` WireSpans. JSON rather than structured clone: on the
   * worker JSON.parse costs about half of what deserializing the same objects does (3.8–4.4
   * against 6.8–8.4 µs per span), for about 0.5 µs more on the app's thread.
   */
  | { t: 'spans'; spans: string; count: number; resource?: Attributes }
  | { t: 'flush'; id: number; timeoutMs?: number }
  | { t: 'close'; id: number; timeoutMs?: number }
  | { t: 'release' };

export interface WorkerCounts extends WriterStats {
  /** Spans taken off the port. */
  received: number;
  /** Received spans that are not audit rows (not an HTTP server span, or unmappable). */
  unmapped: number;
}

export type FromWorker =
  | ({ t: 'stats' } & WorkerCounts)
  | { t: 'report'; message: string }
  | { t: 'done'; id: number; error?: string };
