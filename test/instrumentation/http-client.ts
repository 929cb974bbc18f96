import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';

/** An answer as it crossed the wire: the body's bytes as they were sent (compressed or not). */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

export interface RawRequest {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

const VARYING = new Set(['date', 'keep-alive', 'connection']);

/** One request over node:http, without decoding: compressed bodies are compared byte for byte. */
export async function rawCall(base: string, r: RawRequest): Promise<RawAnswer> {
  const req = request(base + r.path, { method: r.method ?? 'GET', headers: { connection: 'close', ...r.headers } });
  req.end(r.body);
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(res.headers)) if (!VARYING.has(k) && v !== undefined) headers[k] = v;
  return { status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('base64') };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Declares a 5 MiB JSON upload, sends 1 MiB of it, then drops the connection. */
export async function abortedUpload(base: string, path = '/upload'): Promise<void> {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  socket.write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n`);
  socket.write(`{"data":"${'x'.repeat(1024 * 1024)}`);
  await sleep(300);
  socket.destroy();
  await sleep(300);
}

/** Starts a large download, reads its first bytes, then stops reading and drops the connection. */
export async function abandonedDownload(base: string, path = '/download'): Promise<void> {
  const req = request(base + path);
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  await once(res, 'data');
  res.pause();
  await sleep(200);
  req.destroy();
  await sleep(300);
}
