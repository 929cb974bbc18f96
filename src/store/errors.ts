/** Named store errors; the query API maps each to one HTTP answer. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The entity does not exist, or is outside the caller's company. */
export class NotFoundError extends StoreError {}

/** The database cannot be reached or refused the write; retrying later may work. */
export class StoreUnavailableError extends StoreError {}

/** A cursor that this store did not issue. */
export class InvalidCursorError extends StoreError {}

/** A unique name is already taken (e.g. an API key name). */
export class ConflictError extends StoreError {}

/**
 * The database refused these values and always will (PostgreSQL SQLSTATE classes 22 "data
 * exception" and 23 "integrity constraint violation", SQLite's constraint/mismatch/too-big
 * codes): retrying the same rows cannot succeed, so they are isolated and rejected, never
 * answered as "retry later".
 */
export class StoreRejectedError extends StoreError {}

/** Connection-level failures: the database is down, restarting or out of connections. */
const OUTAGE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN',
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY',
  '53300', '3D000', '28P01', '28000',
]);
const OUTAGE_MESSAGE = /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/i;
/** SQLite's permanent per-row failures (the extended codes start with these). */
const SQLITE_REJECTED = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/;

export type DriverErrorKind = 'outage' | 'rejected' | 'other';

/**
 * Classifies a driver error: an outage (PostgreSQL classes 08 and 57P, connection errors, a
 * busy or unwritable SQLite file), values the database will never accept (classes 22, 23),
 * or anything else (kept retryable: nothing was committed, and nothing says it cannot work).
 */
export function classifyDriverError(err: unknown): DriverErrorKind {
  const e = err as { code?: unknown; name?: string; message?: string; errors?: Array<{ code?: unknown }> } | null;
  const raw = e?.code ?? e?.errors?.[0]?.code;
  const code = typeof raw === 'string' ? raw : '';
  if (/^[0-9A-Z]{5}$/.test(code) && !code.startsWith('SQLIT')) {
    if (code.startsWith('22') || code.startsWith('23')) return 'rejected';
    if (code.startsWith('08') || code.startsWith('57P') || OUTAGE_CODES.has(code)) return 'outage';
  }
  if (SQLITE_REJECTED.test(code)) return 'rejected';
  if (OUTAGE_CODES.has(code) || e?.name === 'KnexTimeoutError' || OUTAGE_MESSAGE.test(e?.message ?? '')) return 'outage';
  return 'other';
}
