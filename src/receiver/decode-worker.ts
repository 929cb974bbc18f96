/**
 * The receiver's decode thread: large OTLP bodies are decoded here, so that a 16 MiB request
 * cannot hold the server's event loop (JSON.parse and protobufjs cannot be sliced). Spans go back
 * in chunks, each one small task for the main thread to take in.
 */
import { parentPort } from 'node:worker_threads';
import { decodeJson, decodeProtobuf, DecodeError, type DecodeLimits } from './decode';

export interface DecodeJob {
  id: number;
  body: Uint8Array;
  json: boolean;
  limits?: DecodeLimits;
}

export const SPANS_PER_MESSAGE = 64;

const port = parentPort;
if (!port) throw new Error('auditspan: decode-worker runs only as a worker thread');

port.on('message', (job: DecodeJob) => {
  try {
    const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
    const batch = job.json ? decodeJson(body.toString('utf8'), job.limits) : decodeProtobuf(body, job.limits);
    for (let i = 0; i < batch.spans.length; i += SPANS_PER_MESSAGE) {
      port.postMessage({ id: job.id, t: 'spans', spans: batch.spans.slice(i, i + SPANS_PER_MESSAGE) });
    }
    port.postMessage({ id: job.id, t: 'done', rejected: batch.rejected, rejectMessage: batch.rejectMessage, limited: batch.limited });
  } catch (err) {
    port.postMessage({ id: job.id, t: 'error', invalid: err instanceof DecodeError, message: err instanceof DecodeError ? err.message : 'the request could not be decoded' });
  }
});
