import { isPlaceholder } from './body';
import type { SpanInput } from './types';

/**
 * A readable error message from a JSON error body (`error.message`, `message`, `detail`, …),
 * or a short text body; never a placeholder that stands in for bytes (`[binary, 334 bytes]`).
 */
export function messageFromBody(body: string | null): string | null {
  if (!body) return null;
  const trimmed = body.trimStart();
  if (isPlaceholder(trimmed)) return null;
  if (!trimmed.startsWith('{')) return trimmed.length <= 300 && !trimmed.startsWith('<') ? trimmed : null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object') return null;
  const o = parsed as Record<string, unknown>;
  const err = o.error;
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    if (typeof e.message === 'string') return e.message;
    if (typeof e.description === 'string') return e.description;
  }
  for (const key of ['message', 'error_description', 'detail', 'title', 'error']) {
    if (typeof o[key] === 'string') return o[key] as string;
  }
  return null;
}

export function messageFromSpan(span: SpanInput): string | null {
  if (span.status.code === 'error' && span.status.message) return span.status.message;
  const exception = span.events.find((e) => e.name === 'exception');
  const msg = exception?.attributes['exception.message'];
  if (typeof msg === 'string' && msg !== '') {
    const type = exception?.attributes['exception.type'];
    return typeof type === 'string' && type !== '' && !msg.startsWith(type) ? `${type}: ${msg}` : msg;
  }
  return null;
}
