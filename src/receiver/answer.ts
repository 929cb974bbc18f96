import { StoreUnavailableError } from '../store/errors';
import { DecodeError, type DecodedBatch } from './decode';
import { defaultReceiverLog, OverloadedError, type IngestResult } from './ingest';

/** What a sender is told about one export request, for OTLP/HTTP and OTLP/gRPC alike. */
export type Answer =
  | { kind: 'ok'; rejected: number; message?: string }
  | { kind: 'invalid'; message: string }
  | { kind: 'retry'; message: string };

/**
 * Success, partial success, or 400 / INVALID_ARGUMENT when not one span of the request could be
 * stored (every span invalid or refused by the database): never retryable either way.
 */
export function answerFor(batch: DecodedBatch, result: IngestResult): Answer {
  const rejected = batch.rejected + result.rejected;
  const message = [batch.rejectMessage, result.rejectMessage].filter(Boolean).join('; ') || undefined;
  if (rejected === 0) return { kind: 'ok', rejected: 0 };
  const stored = result.accepted + result.ignored;
  if (stored === 0) return { kind: 'invalid', message: `no span could be stored: ${message ?? 'invalid spans'}` };
  return { kind: 'ok', rejected, message: message ?? 'invalid spans' };
}

/**
 * A failure as the sender sees it. Only an outage or overload is retryable; the words never
 * carry SQL, driver messages or stack traces (the detail goes to the server log).
 */
export function answerForError(err: unknown, log: (entry: Record<string, unknown>) => void = defaultReceiverLog): Answer {
  if (err instanceof DecodeError) return { kind: 'invalid', message: err.message };
  if (err instanceof OverloadedError) return { kind: 'retry', message: `temporarily overloaded: ${err.message}` };
  if (err instanceof StoreUnavailableError) return { kind: 'retry', message: 'the audit store is temporarily unavailable; retry later' };
  log({ level: 'error', msg: 'unexpected receiver error', error: (err as Error)?.stack ?? String(err) });
  return { kind: 'retry', message: 'internal error; retry later' };
}
