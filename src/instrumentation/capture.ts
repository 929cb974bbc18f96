import type { IncomingMessage, ServerResponse } from 'node:http';
import * as zlib from 'node:zlib';
import type { Span } from '@opentelemetry/api';

/** What is copied of one request/response while it flows; bounded by `limit`. */
interface Capture {
  chunks: Buffer[];
  kept: number;
  size: number;
  /** False once we know the bytes are not wanted (multipart, 2xx response). */
  enabled: boolean;
}

const REQUEST = Symbol('auditspan.request.capture');
const RESPONSE = Symbol('auditspan.response.capture');

type WithCapture<T> = T & { [REQUEST]?: Capture; [RESPONSE]?: Capture };

function newCapture(enabled: boolean): Capture {
  return { chunks: [], kept: 0, size: 0, enabled };
}

function toBuffer(chunk: unknown, encoding?: unknown): Buffer | undefined {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return undefined;
}

function copy(c: Capture, limit: number, chunk: unknown, encoding?: unknown): void {
  const buf = toBuffer(chunk, encoding);
  if (!buf) return;
  c.size += buf.length;
  if (!c.enabled || c.kept >= limit) return;
  const part = buf.length <= limit - c.kept ? Buffer.from(buf) : Buffer.from(buf.subarray(0, limit - c.kept));
  c.chunks.push(part);
  c.kept += part.length;
}

/**
 * Copies request body chunks as they are emitted. Wrapping `emit` (instead of
 * adding a 'data' listener) leaves the stream's flowing state alone, so the app
 * reads the body exactly as without auditspan (NOTES.md: a 'data' listener lost
 * bodies behind async middleware).
 */
export function captureRequest(req: IncomingMessage, limit: number): void {
  const contentType = String(req.headers['content-type'] ?? '');
  const capture = newCapture(!/^multipart\//i.test(contentType));
  (req as WithCapture<IncomingMessage>)[REQUEST] = capture;
  const originalEmit = req.emit;
  // `arguments` passed through as is: no array built for every event the request emits.
  req.emit = function emit(this: IncomingMessage, event: string | symbol): boolean {
    if (event === 'data') {
      try {
        copy(capture, limit, arguments[1]);
      } catch {
        // never break the stream
      }
    }
    return originalEmit.apply(this, arguments as unknown as Parameters<typeof originalEmit>);
  } as typeof req.emit;
}

/**
 * Copies response bytes for failures only. `write`/`end` are wrapped with every
 * argument passed through and the original return value kept (backpressure);
 * the decision is taken at the first write, when the status is known.
 */
export function captureResponse(res: ServerResponse, limit: number): void {
  const capture = newCapture(true);
  let decided = false;
  (res as WithCapture<ServerResponse>)[RESPONSE] = capture;
  const decide = (): void => {
    if (decided) return;
    decided = true;
    capture.enabled = res.statusCode >= 400;
  };
  const originalWrite = res.write;
  const originalEnd = res.end;
  res.write = function write(this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
    try {
      decide();
      copy(capture, limit, chunk, rest[0]);
    } catch {
      // never break the response
    }
    return (originalWrite as (...a: unknown[]) => boolean).apply(this, [chunk, ...rest]);
  } as typeof res.write;
  res.end = function end(this: ServerResponse, ...args: unknown[]): ServerResponse {
    try {
      decide();
      if (typeof args[0] !== 'function') copy(capture, limit, args[0], args[1]);
    } catch {
      // never break the response
    }
    return (originalEnd as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.end;
}

/** Decodes gzip/deflate/br bytes, bounded; a cut stream yields what was decodable. */
function decode(bytes: Buffer, encoding: string, limit: number): Buffer | null {
  const enc = encoding.trim().toLowerCase();
  if (enc === '' || enc === 'identity') return bytes;
  const opts = { maxOutputLength: limit, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return zlib.gunzipSync(bytes, opts);
    if (enc === 'deflate') return zlib.inflateSync(bytes, opts);
    if (enc === 'br') return zlib.brotliDecompressSync(bytes, { maxOutputLength: limit, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
  } catch (err) {
    // Output over the limit: keep nothing rather than a wrong prefix.
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return null;
    return null;
  }
  return null;
}

function toAttributes(
  capture: Capture | undefined,
  encoding: string,
  limit: number,
  prefix: 'auditspan.request' | 'auditspan.response',
): Record<string, string | number | boolean> {
  if (!capture || capture.size === 0) return {};
  const out: Record<string, string | number | boolean> = { [`${prefix}.body.size`]: capture.size };
  if (!capture.enabled) {
    if (prefix === 'auditspan.request') out[`${prefix}.body`] = '';
    return out;
  }
  const raw = Buffer.concat(capture.chunks);
  const decoded = decode(raw, encoding, limit);
  if (decoded === null) {
    out[`${prefix}.body`] = `[${encoding} body, ${capture.size} bytes]`;
    return out;
  }
  out[`${prefix}.body`] = decoded.toString('utf8');
  if (capture.kept < capture.size || decoded.length >= limit) out[`${prefix}.body.truncated`] = true;
  return out;
}

/** Puts what was captured on the SERVER span; runs before the span ends. */
export function applyCapturedBodies(span: Span, req: IncomingMessage, res: ServerResponse, limit: number): void {
  const reqCapture = (req as WithCapture<IncomingMessage>)[REQUEST];
  const resCapture = (res as WithCapture<ServerResponse>)[RESPONSE];
  span.setAttributes(toAttributes(reqCapture, String(req.headers['content-encoding'] ?? ''), limit, 'auditspan.request'));
  if (res.statusCode >= 400) {
    span.setAttributes(toAttributes(resCapture, String(res.getHeader('content-encoding') ?? ''), limit, 'auditspan.response'));
    const type = res.getHeader('content-type');
    if (type !== undefined) span.setAttribute('auditspan.response.content_type', String(type));
  }
}
