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

/**
 * Lone UTF-16 surrogates (a broken client or SDK) become U+FFFD, as UTF-8 encoders write them:
 * without this, SQLite stored them as invalid UTF-8 that read back as three U+FFFD, while
 * PostgreSQL stored one. Every stored string passes here, so both give back the record.
 */
export function wellFormed(value: string): string {
  const s = value as unknown as WellFormed;
  return s.isWellFormed() ? value : s.toWellFormed();
}

/** At most `max` bytes of UTF-8, well-formed. */
export function capString(value: string | null, max: number): string | null {
  if (value === null) return null;
  return wellFormed(value.length > max ? cutUtf8(value, max).text : value);
}
