import type { Redactor } from './redaction/redactor';
import { cutUtf8, wellFormed } from './limits';
import type { AttributeValue } from './types';

/** Content types whose bytes are never stored, only their size. */
const BINARY_TYPE = /^(image|audio|video|font)\/|^application\/(octet-stream|pdf|zip|gzip|x-tar|x-7z|x-rar|vnd\.|protobuf|x-protobuf|grpc|msgpack|cbor|wasm)/i;
/** Vendor types with a text suffix (`application/vnd.api+json`, `…+xml`) are text. */
const TEXT_SUFFIX = /^[^;]*\+(json|xml|yaml)\s*(;|$)/i;
const isBinaryType = (contentType: string): boolean => BINARY_TYPE.test(contentType) && !TEXT_SUFFIX.test(contentType);

export interface BodyResult {
  text: string | null;
  truncated: boolean;
}

/**
 * Which responses keep their body: failures only, status >= 400 (a 302, 304 or 399 keeps none).
 * The one rule for both entry points: the mapper applies it to every span, and the in-process
 * capture uses it to copy no byte of any other response.
 */
export const keepsResponseBody = (status: number): boolean => status >= 400;

/**
 * What stands in for bytes that are not stored as text: `[binary, 334 bytes]`, `[multipart, …]`
 * (here) and `[gzip body, 334 bytes]` (a body the in-process capture could not decode). Never an
 * error message.
 */
const PLACEHOLDER = /^\[(?:binary|multipart|[\w.+-]+ body), \d+ bytes\]$/;
export const isPlaceholder = (text: string): boolean => PLACEHOLDER.test(text);

function placeholder(kind: string, bytes: number): BodyResult {
  return { text: `[${kind}, ${bytes} bytes]`, truncated: false };
}

function looksBinary(text: string): boolean {
  // NULs and replacement characters come from bytes that are not UTF-8 text.
  const sample = text.length > 4096 ? text.slice(0, 4096) : text;
  let bad = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0 || c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13)) bad++;
  }
  return bad > 0 && bad / sample.length > 0.01;
}

/**
 * The body policy: binary and multipart bodies become a placeholder; text is
 * redacted, then cut at `maxBytes` (on a character boundary) and marked.
 * Redaction runs before the cut so that a secret straddling the cut is still found;
 * hostile sizes are pre-cut to a bounded multiple first.
 */
export function processBody(
  value: AttributeValue,
  contentType: string,
  declaredSize: number | null,
  alreadyTruncated: boolean,
  maxBytes: number,
  redactor: Redactor,
): BodyResult {
  // A capturer that skipped the bytes (multipart, binary) still reports their size.
  const skipped = (value === undefined || value === '') && declaredSize !== null && declaredSize > 0;
  if (skipped && /^multipart\//i.test(contentType)) return placeholder('multipart', declaredSize);
  if (skipped && isBinaryType(contentType)) return placeholder('binary', declaredSize);
  if (value === undefined || value === null || value === '') return { text: null, truncated: false };
  if (value instanceof Uint8Array) return placeholder('binary', declaredSize ?? value.byteLength);
  if (typeof value !== 'string') return { text: null, truncated: false };
  const size = declaredSize ?? Buffer.byteLength(value);
  if (/^multipart\//i.test(contentType)) return placeholder('multipart', size);
  if (isBinaryType(contentType) || looksBinary(value)) return placeholder('binary', size);

  const pre = cutUtf8(value, maxBytes * 4);
  const redacted = redactor.payload(pre.text, contentType);
  const cut = cutUtf8(redacted, maxBytes);
  return { text: wellFormed(cut.text), truncated: alreadyTruncated || pre.cut || cut.cut };
}
