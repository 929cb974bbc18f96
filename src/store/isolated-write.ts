import type { AuditRecord } from '../record/types';
import { StoreRejectedError } from './errors';
import type { InsertResult, Store } from './types';

export interface RejectedRow {
  /** Index into the records passed. */
  index: number;
  /** The store's own description (may name SQL and driver details: log it, never send it). */
  detail: string;
}

export interface IsolatedInsertResult extends InsertResult {
  /** Rows the database refused for good (a value it can never hold); every other row is committed. */
  rejected: RejectedRow[];
}

/**
 * Writes a batch so that one row the database refuses cannot take the others down with it.
 * The whole batch is tried first (the common case: one transaction); when the database refuses
 * it for good (StoreRejectedError: SQLSTATE classes 22/23, SQLite constraint errors), the batch
 * is split in halves and each half written on its own, down to the single rows that fail. Each
 * half is its own transaction: rows are unique on (start, span id, trace id), so a sender's retry
 * after an outage half-way skips what was already committed. k bad rows out of n cost about
 * 2·k·log2(n) extra statements. Outages and other errors are thrown unchanged (nothing is
 * acknowledged, the sender retries).
 */
export async function insertIsolating(store: Pick<Store, 'insertBatch'>, records: readonly AuditRecord[]): Promise<IsolatedInsertResult> {
  const rejected: RejectedRow[] = [];
  let inserted = 0;
  let duplicates = 0;
  const write = async (from: number, to: number): Promise<void> => {
    try {
      const result = await store.insertBatch(from === 0 && to === records.length ? records : records.slice(from, to));
      inserted += result.inserted;
      duplicates += result.duplicates;
    } catch (err) {
      if (!(err instanceof StoreRejectedError)) throw err;
      if (to - from === 1) {
        rejected.push({ index: from, detail: err.message });
        return;
      }
      const mid = from + Math.ceil((to - from) / 2);
      await write(from, mid);
      await write(mid, to);
    }
  };
  if (records.length > 0) await write(0, records.length);
  return { inserted, duplicates, rejected };
}
