import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { answerFor, answerForError, type Answer } from './answer';
import { decodeJson, decodeProtobuf, type DecodedBatch } from './decode';
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
}

export interface RunningReceiver {
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
const RETRY_AFTER_S = 5;
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

/** Reads the body, decompressing with a hard cap: a gzip bomb is stopped at the limit, not inflated. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) return reject(new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${maxBytes}`));
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
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      inflater?.destroy();
      req.unpipe();
      req.resume();
      reject(err);
    };
    source.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) return fail(new HttpError(413, `request body exceeds the limit of ${maxBytes} bytes${inflater ? ' after decompression' : ''}`));
      chunks.push(chunk);
    });
    source.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => fail(err));
    req.on('aborted', () => fail(new HttpError(400, 'request aborted')));
  });
}

function decode(body: Buffer, encoding: Encoding): DecodedBatch {
  if (body.length === 0) return { spans: [], rejected: 0 };
  return encoding === 'json' ? decodeJson(body.toString('utf8')) : decodeProtobuf(body);
}

/** OTLP/HTTP `POST /v1/traces`: protobuf or JSON, optionally gzip; acknowledged after commit. */
export function createOtlpHttpHandler(options: OtlpReceiverOptions, pipeline: IngestPipeline) {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
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
      const body = await readBody(req, maxBody);
      const batch = decode(body, encoding);
      const result = await pipeline.ingest(batch.spans);
      replyAnswer(res, encoding, answerFor(batch, result));
    } catch (err) {
      if (err instanceof HttpError) {
        // After an early refusal the rest of the upload is discarded, not parsed.
        if (!req.complete) req.resume();
        return reply(res, encoding, err.status, { message: err.message }, err.headers);
      }
      replyAnswer(res, encoding, answerForError(err, options.log ?? defaultReceiverLog));
    }
  };
}

export async function startOtlpHttpReceiver(options: OtlpReceiverOptions): Promise<RunningReceiver & { server: Server; pipeline: IngestPipeline }> {
  const pipeline = new IngestPipeline(options);
  const handler = createOtlpHttpHandler(options, pipeline);
  const server = createServer((req, res) => {
    void handler(req, res);
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;
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
    },
  };
}
