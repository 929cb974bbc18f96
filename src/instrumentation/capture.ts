import { IncomingMessage, ServerResponse } from 'node:http';
import * as zlib from 'node:zlib';
import type { Span } from '@opentelemetry/api';
import { keepsResponseBody } from '../record/body';

/** What is copied of one request/response while it flows; bounded by `limit`. */
interface Capture {
  chunks: Buffer[];
  kept: number;
  size: number;
  limit: number;
  /** False once we know the bytes are not wanted (multipart). */
  enabled: boolean;
  /**
   * Response only: `Content-Encoding` / `Content-Type` passed to `res.writeHead(status, headers)`.
   * Node sends those straight to the socket when no header was set before, and `res.getHeader()`
   * never sees them (fastify always answers that way, and so do many `node:http` apps).
   */
  encoding: unknown;
  type: unknown;
}

/**
 * Per-request state, one symbol property each on the request and the response:
 * - a number: capture requested with this limit (never 0), nothing seen yet (no object
 *   allocated for a GET, nor for a 2xx response);
 * - a Capture: bytes are being copied;
 * - false (response only): the status said "not kept", later writes are passed straight on.
 */
const REQUEST = Symbol('auditspan.request.capture');
const RESPONSE = Symbol('auditspan.response.capture');

type State = number | Capture | false | undefined;
type WithCapture<T> = T & { [REQUEST]?: State; [RESPONSE]?: State };

interface BodyAttributes {
  body: string;
  size: string;
  truncated: string;
  /** A body that was not copied (multipart) still gets an empty `body`, so its size has a row field. */
  emptyWhenSkipped: boolean;
}

const REQUEST_ATTRS: BodyAttributes = {
  body: 'auditspan.request.body',
  size: 'auditspan.request.body.size',
  truncated: 'auditspan.request.body.truncated',
  emptyWhenSkipped: true,
};
const RESPONSE_ATTRS: BodyAttributes = {
  body: 'auditspan.response.body',
  size: 'auditspan.response.body.size',
  truncated: 'auditspan.response.body.truncated',
  emptyWhenSkipped: false,
};
const RESPONSE_TYPE = 'auditspan.response.content_type';

function newCapture(limit: number, enabled: boolean): Capture {
  return { chunks: [], kept: 0, size: 0, limit, enabled, encoding: undefined, type: undefined };
}

function toBuffer(chunk: unknown, encoding?: unknown): Buffer | undefined {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return undefined;
}

function copy(c: Capture, chunk: unknown, encoding?: unknown): void {
  const buf = toBuffer(chunk, encoding);
  if (!buf) return;
  c.size += buf.length;
  if (!c.enabled || c.kept >= c.limit) return;
  const part = buf.length <= c.limit - c.kept ? Buffer.from(buf) : Buffer.from(buf.subarray(0, c.limit - c.kept));
  c.chunks.push(part);
  c.kept += part.length;
}

function onRequestData(req: WithCapture<IncomingMessage>, state: number | Capture, chunk: unknown): void {
  let capture = state;
  if (typeof capture === 'number') {
    capture = newCapture(capture, !/^multipart\//i.test(String(req.headers['content-type'] ?? '')));
    req[REQUEST] = capture;
  }
  copy(capture, chunk);
}

/** Decides at the first write, when the status is known, whether the response is kept. */
function onResponseBytes(res: WithCapture<ServerResponse>, chunk: unknown, encoding: unknown): void {
  let capture = res[RESPONSE];
  if (!capture) return;
  if (typeof capture === 'number') {
    capture = decideResponse(res, capture);
    if (!capture) return;
  }
  copy(capture, chunk, encoding);
}

/** Once the status is known: a failure gets its Capture, anything else is passed straight on from now on. */
function decideResponse(res: WithCapture<ServerResponse>, limit: number): Capture | false {
  const capture = keepsResponseBody(res.statusCode) && newCapture(limit, true);
  res[RESPONSE] = capture;
  return capture;
}

/** The value of one header in any form `writeHead` takes: an object, `[k, v, k, v]` or `[[k, v], …]`. */
function headerIn(headers: unknown, name: string): unknown {
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as unknown[][]) if (String(pair[0]).toLowerCase() === name) return pair[1];
      return undefined;
    }
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return headers[i + 1];
    return undefined;
  }
  if (headers === null || typeof headers !== 'object') return undefined;
  for (const key in headers) if (key.toLowerCase() === name) return (headers as Record<string, unknown>)[key];
  return undefined;
}

/**
 * `writeHead(status[, reason][, headers])` ran (called by the app, or by Node itself before the
 * first byte): the status is final, and the headers it was given are read here because
 * `getHeader()` may never see them. Only a kept (failing) response looks at them.
 */
function onWriteHead(res: WithCapture<ServerResponse>, state: number | Capture, reason: unknown, headers: unknown): void {
  const capture = typeof state === 'number' ? decideResponse(res, state) : state;
  if (!capture) return;
  const given = typeof reason === 'string' ? headers : reason;
  if (given === undefined) return;
  const encoding = headerIn(given, 'content-encoding');
  if (encoding !== undefined) capture.encoding = encoding;
  const type = headerIn(given, 'content-type');
  if (type !== undefined) capture.type = type;
}

function watchResponse(res: WithCapture<ServerResponse>, chunk: unknown, encoding: unknown): void {
  try {
    onResponseBytes(res, chunk, encoding);
  } catch {
    // never break the response
  }
}

let installed = false;

/**
 * Patches, once per process, the four methods body capture needs: `IncomingMessage#emit`
 * (request 'data' chunks are copied as they pass, so the stream's flowing state is never
 * touched: NOTES.md, a 'data' listener lost bodies behind async middleware) and
 * `ServerResponse#write`/`#end` (every argument passed through and the original's return value
 * kept, for backpressure), and `ServerResponse#writeHead` (the status is final there, and
 * headers passed to it are invisible to `getHeader()`). Objects that carry no capture state, such
 * as the responses of the app's outgoing requests, cost one property read. Patching the prototypes instead of wrapping
 * each request's methods keeps every request and response object in its usual shape and
 * allocates nothing for a request without a body or a 2xx response.
 */
export function installBodyCapture(): void {
  if (installed) return;
  installed = true;
  const emit = IncomingMessage.prototype.emit;
  IncomingMessage.prototype.emit = function auditspanEmit(this: WithCapture<IncomingMessage>, event: string | symbol): boolean {
    if (event === 'data') {
      const state = this[REQUEST];
      if (state !== undefined && state !== false) {
        try {
          onRequestData(this, state, arguments[1]);
        } catch {
          // never break the stream
        }
      }
    }
    // `arguments` passed through as is: no array built for every event a message emits.
    return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
  } as typeof emit;

  const write = ServerResponse.prototype.write;
  ServerResponse.prototype.write = function auditspanWrite(this: WithCapture<ServerResponse>, chunk: unknown, encoding?: unknown): boolean {
    if (this[RESPONSE]) watchResponse(this, chunk, encoding);
    return write.apply(this, arguments as unknown as Parameters<typeof write>);
  } as typeof write;

  const writeHead = ServerResponse.prototype.writeHead;
  ServerResponse.prototype.writeHead = function auditspanWriteHead(this: WithCapture<ServerResponse>, _status: number, reason?: unknown, headers?: unknown): ServerResponse {
    const result = writeHead.apply(this, arguments as unknown as Parameters<typeof writeHead>);
    const state = this[RESPONSE];
    if (state) {
      try {
        onWriteHead(this, state, reason, headers);
      } catch {
        // never break the response
      }
    }
    return result;
  } as typeof writeHead;

  const end = ServerResponse.prototype.end;
  ServerResponse.prototype.end = function auditspanEnd(this: WithCapture<ServerResponse>, chunk?: unknown, encoding?: unknown): ServerResponse {
    // end(callback) carries no bytes.
    if (this[RESPONSE]) watchResponse(this, typeof chunk === 'function' ? undefined : chunk, encoding);
    return end.apply(this, arguments as unknown as Parameters<typeof end>);
  } as typeof end;
}

/** Starts copying this request's body chunks (up to `limit` bytes) as the app reads them. */
export function captureRequest(req: IncomingMessage, limit: number): void {
  (req as WithCapture<IncomingMessage>)[REQUEST] = limit;
}

/** Starts watching this response: its bytes are copied (up to `limit`) only for a failure status. */
export function captureResponse(res: ServerResponse, limit: number): void {
  (res as WithCapture<ServerResponse>)[RESPONSE] = limit;
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
  } catch {
    // Output over the limit, or not what the header says: keep nothing rather than a wrong prefix.
    return null;
  }
  return null;
}

function setBody(span: Span, c: Capture, encoding: unknown, attrs: BodyAttributes): void {
  span.setAttribute(attrs.size, c.size);
  if (!c.enabled) {
    if (attrs.emptyWhenSkipped) span.setAttribute(attrs.body, '');
    return;
  }
  const raw = c.chunks.length === 1 ? c.chunks[0] : Buffer.concat(c.chunks);
  const enc = encoding === undefined ? '' : String(encoding);
  const decoded = decode(raw, enc, c.limit);
  if (decoded === null) {
    span.setAttribute(attrs.body, `[${enc} body, ${c.size} bytes]`);
    return;
  }
  span.setAttribute(attrs.body, decoded.toString('utf8'));
  if (c.kept < c.size || decoded.length >= c.limit) span.setAttribute(attrs.truncated, true);
}

/** Puts what was captured on the SERVER span; runs before the span ends. */
export function applyCapturedBodies(span: Span, req: IncomingMessage, res: ServerResponse): void {
  const reqState = (req as WithCapture<IncomingMessage>)[REQUEST];
  if (typeof reqState === 'object' && reqState.size > 0) {
    setBody(span, reqState, req.headers['content-encoding'], REQUEST_ATTRS);
  }
  if (!keepsResponseBody(res.statusCode)) return;
  const resState = (res as WithCapture<ServerResponse>)[RESPONSE];
  const captured = typeof resState === 'object' ? resState : undefined;
  if (captured && captured.size > 0) {
    setBody(span, captured, captured.encoding ?? res.getHeader('content-encoding'), RESPONSE_ATTRS);
  }
  const type = captured?.type ?? res.getHeader('content-type');
  if (type !== undefined) span.setAttribute(RESPONSE_TYPE, String(type));
}

/** Bytes of the request body the app read so far (0 when none was copied). */
export function requestBytesSeen(req: IncomingMessage): number {
  const state = (req as WithCapture<IncomingMessage>)[REQUEST];
  return typeof state === 'object' && state ? state.size : 0;
}
