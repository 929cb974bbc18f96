/** Messages between WorkerSpanProcessor (the app's thread) and pipeline-worker. */
import type { RecordOptions } from '../record';
import type { Attributes } from '../record/types';
import type { WireSpan } from './convert';
import type { WriterStats } from './queue';

/** `workerData` of the pipeline worker: everything must survive a structured clone. */
export interface PipelineConfig {
  /** SQLite path or postgres:// URL (undefined: the default ./auditspan.db). */
  db?: string;
  /** Without a `custom` redaction function (functions cannot cross threads). */
  record?: RecordOptions;
  maxQueue: number;
}

export type ToWorker =
  | { t: 'spans'; spans: WireSpan[]; resource?: Attributes }
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
