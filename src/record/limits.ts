/** Caps on every stored string: bounded rows whatever a span carries. */
export const LIMITS = {
  url: 8 * 1024,
  endpoint: 1024,
  userAgent: 1024,
  id: 256,
  method: 32,
  error: 2 * 1024,
  header: 1024,
} as const;

export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024;

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function cutUtf8(value: string, maxBytes: number): { text: string; cut: boolean } {
  // Fast path: each UTF-16 unit is at most 3 UTF-8 bytes.
  if (value.length * 3 <= maxBytes) return { text: value, cut: false };
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length <= maxBytes) return { text: value, cut: false };
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to a character start.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString('utf8'), cut: true };
}

/** ES2024 string methods, present in Node 20 (V8 11.3) but not in this project's ES2023 lib. */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** U+0000 anywhere in a string (PostgreSQL `text` cannot hold it). */
const NUL = /\0/g;

/**
 * Every stored string passes here, so that both databases store and give back the same value:
 * - lone UTF-16 surrogates (a broken client or SDK) become U+FFFD, as UTF-8 encoders write them:
 *   without this, SQLite stored them as invalid UTF-8 that read back as three U+FFFD, while
 *   PostgreSQL stored one;
 * - U+0000 becomes U+FFFD too: PostgreSQL refuses it in `text` (SQLSTATE 22P05 / 22021), and one
 *   such value used to fail a whole batch there while SQLite stored it.
 */
export function wellFormed(value: string): string {
  const s = value as unknown as WellFormed;
  const text = s.isWellFormed() ? value : s.toWellFormed();
  return text.includes('\0') ? text.replace(NUL, '\uFFFD') : text;
}

/**
 * HTTP status codes are three digits (RFC 9110 §15). Anything else (negative, 2^31 and more, a
 * fraction) cannot be one, and PostgreSQL's `integer` column would refuse values above 2^31−1:
 * the row is kept (it is still a request) with status 0, "unknown", and the error field says why.
 */
export const MAX_STATUS = 999;
export function storableStatus(status: number): { status: number; invalid: boolean } {
  return Number.isInteger(status) && status >= 0 && status <= MAX_STATUS ? { status, invalid: false } : { status: 0, invalid: true };
}

/** At most `max` bytes of UTF-8, well-formed. */
export function capString(value: string | null, max: number): string | null {
  if (value === null) return null;
  return wellFormed(value.length > max ? cutUtf8(value, max).text : value);
}
