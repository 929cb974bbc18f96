import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { answerFor, answerForError, type Answer } from './answer';
import { RequestBudget, type Reservation } from './budget';
import { decodeJson, decodeProtobuf, type DecodedBatch, type DecodeLimits } from './decode';
import { DecodeThread, OFF_THREAD_BYTES } from './decode-thread';
import { defaultReceiverLog, IngestPipeline, type IngestOptions } from './ingest';
import { ExportTraceServiceResponse, RpcStatus } from './otlp-schema';
import { bearerMatches } from './token';

export interface OtlpReceiverOptions extends IngestOptions {
  /** Largest request body, after decompression. Default 16 MiB (413 above). */
  maxBodyBytes?: number;
  /** When set, requests need `Authorization: Bearer <token>`. */
  ingestToken?: string;
  host?: string;
  port?: number;
  /** Request bytes in flight before new uploads get 429 + Retry-After. Default 64 MiB (ignored when `budget` is given). */
  maxInFlightBytes?: number;
  /** A budget shared between receivers (`serve` shares one between OTLP/HTTP and OTLP/gRPC). */
  budget?: RequestBudget;
  /** Per-span limits applied while decoding (attribute count, value length, events). */
  limits?: DecodeLimits;
}

export interface RunningReceiver {
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const RETRY_AFTER_S = 5;
/** An upload that sends nothing for this long is cut off: a stalled body frees its budget share. */
export const BODY_IDLE_MS = 10_000;
/** Whole request (headers and body) at most this long; checked every second, not Node's 30 s. */
export const REQUEST_TIMEOUT_MS = 60_000;
/** google.rpc.Code for each HTTP status the receiver answers with; anything else is UNAVAILABLE (14). */
const RPC_CODES: Record<number, number> = { 400: 3, 401: 16, 404: 5, 405: 12, 413: 8, 415: 3, 429: 8 };

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

type Encoding = 'protobuf' | 'json';

function reply(res: ServerResponse, encoding: Encoding, status: number, body: Record<string, unknown> | null, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  let payload: Buffer;
  if (status === 200) {
    payload = encoding === 'json'
      ? Buffer.from(JSON.stringify(body ?? {}))
      : Buffer.from(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create(body ?? {})).finish());
  } else {
    // Errors carry a google.rpc.Status in the request's encoding (OTLP/HTTP spec).
    const rpc = { code: RPC_CODES[status] ?? 14, message: String(body?.message ?? '') };
    payload = encoding === 'json' ? Buffer.from(JSON.stringify(rpc)) : Buffer.from(RpcStatus.encode(RpcStatus.create(rpc)).finish());
  }
  res.writeHead(status, {
    'Content-Type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
    'Content-Length': String(payload.length),
    ...headers,
  });
  res.end(payload);
}

function replyAnswer(res: ServerResponse, encoding: Encoding, answer: Answer): void {
  if (answer.kind === 'invalid') return reply(res, encoding, 400, { message: answer.message });
  if (answer.kind === 'retry') return reply(res, encoding, 503, { message: answer.message }, { 'Retry-After': String(RETRY_AFTER_S) });
  const partial = answer.rejected > 0
    ? { partialSuccess: { rejectedSpans: encoding === 'json' ? String(answer.rejected) : answer.rejected, errorMessage: answer.message } }
    : {};
  reply(res, encoding, 200, partial);
}

const tooBusy = (budget: RequestBudget): HttpError =>
  new HttpError(429, `too many request bytes in flight (limit ${budget.maxBytes}); retry later`, { 'Retry-After': String(RETRY_AFTER_S) });

/**
 * Reads the body, decompressing with a hard cap: a gzip bomb is stopped at the limit, not
 * inflated. The bytes held count against the request's budget share; a body that stalls for
 * BODY_IDLE_MS is cut off.
 */
function readBody(req: IncomingMessage, maxBytes: number, share: Reservation, budget: RequestBudget): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    let source: NodeJS.ReadableStream = req;
    let inflater: Transform | undefined;
    if (encoding === 'gzip' || encoding === 'x-gzip') inflater = zlib.createGunzip();
    else if (encoding === 'deflate') inflater = zlib.createInflate();
    else if (encoding !== 'identity' && encoding !== '') return reject(new HttpError(415, `unsupported Content-Encoding "${encoding.slice(0, 40)}" (use gzip, deflate or none)`));
    if (inflater) {
      inflater.on('error', () => fail(new HttpError(400, 'invalid compressed body')));
      source = req.pipe(inflater);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const idle = setTimeout(() => {
      fail(new HttpError(408, 'request body stalled'));
      req.destroy();
    }, BODY_IDLE_MS);
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      inflater?.destroy();
      req.unpipe();
      req.resume();
      reject(err);
    };
    req.on('data', () => idle.refresh());
    source.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) return fail(new HttpError(413, `request body exceeds the limit of ${maxBytes} bytes${inflater ? ' after decompression' : ''}`));
      if (!share.grow(size)) return fail(tooBusy(budget));
      chunks.push(chunk);
    });
    source.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => fail(err));
    req.on('aborted', () => fail(new HttpError(400, 'request aborted')));
  });
}

/** Decodes inline, or on the decode thread from OFF_THREAD_BYTES up (the event loop stays free). */
export async function decodeBody(body: Buffer, json: boolean, limits: DecodeLimits | undefined, thread: DecodeThread): Promise<DecodedBatch> {
  if (body.length === 0) return { spans: [], rejected: 0 };
  if (body.length >= OFF_THREAD_BYTES) return thread.decode(body, json, limits);
  return json ? decodeJson(body.toString('utf8'), limits) : decodeProtobuf(body, limits);
}

/** OTLP/HTTP `POST /v1/traces`: protobuf or JSON, optionally gzip; acknowledged after commit. */
export function createOtlpHttpHandler(options: OtlpReceiverOptions, pipeline: IngestPipeline, thread = new DecodeThread()) {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const budget = options.budget ?? new RequestBudget(options.maxInFlightBytes);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let share: Reservation | null = null;
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const encoding: Encoding = type === 'application/json' ? 'json' : 'protobuf';
    try {
      const path = (req.url ?? '').split('?')[0].replace(/\/+$/, '');
      if (path !== '/v1/traces') throw new HttpError(404, 'not found: OTLP traces are received at POST /v1/traces');
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        throw new HttpError(405, 'use POST /v1/traces');
      }
      if (options.ingestToken && !bearerMatches(req.headers.authorization, options.ingestToken)) {
        throw new HttpError(401, 'missing or wrong ingest token: send Authorization: Bearer <AUDITSPAN_INGEST_TOKEN>');
      }
      if (type !== 'application/json' && type !== 'application/x-protobuf') {
        throw new HttpError(415, `unsupported Content-Type "${type.slice(0, 60)}" (use application/x-protobuf or application/json)`);
      }
      // Refused before a byte is read: too large as declared, or no room in the budget.
      const declared = Number(req.headers['content-length'] ?? 0) || 0;
      if (declared > maxBody) throw new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${maxBody}`);
      share = budget.reserve(declared);
      if (!share) throw tooBusy(budget);
      const body = await readBody(req, maxBody, share, budget);
      const batch = await decodeBody(body, encoding === 'json', options.limits, thread);
      pipeline.countLimited(batch.limited);
      const result = await pipeline.ingest(batch.spans);
      replyAnswer(res, encoding, answerFor(batch, result));
    } catch (err) {
      if (err instanceof HttpError) {
        // After an early refusal the rest of the upload is discarded, not parsed.
        if (!req.complete) req.resume();
        return reply(res, encoding, err.status, { message: err.message }, err.headers);
      }
      replyAnswer(res, encoding, answerForError(err, options.log ?? defaultReceiverLog));
    } finally {
      share?.release();
    }
  };
}

export async function startOtlpHttpReceiver(options: OtlpReceiverOptions): Promise<RunningReceiver & { server: Server; pipeline: IngestPipeline }> {
  const pipeline = new IngestPipeline(options);
  const thread = new DecodeThread();
  const handler = createOtlpHttpHandler(options, pipeline, thread);
  // Node checks these timeouts only every connectionsCheckingInterval (30 s by default): a
  // stalled request could hold its socket that much longer (NOTES.md).
  const server = createServer({ connectionsCheckingInterval: 1_000, requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: 30_000 }, (req, res) => {
    void handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4318, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    pipeline,
    close: async () => {
      // Stop accepting, let in-flight batches commit, then close idle connections.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 10_000).unref();
      });
      await pipeline.drain();
      await thread.close();
    },
  };
}
