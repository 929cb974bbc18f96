import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time check of `Authorization: Bearer <token>` (HTTP header or gRPC metadata). */
export function bearerMatches(header: unknown, token: string): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return false;
  const m = /^Bearer\s+(.+)$/i.exec(value.trim());
  if (!m) return false;
  const a = createHash('sha256').update(m[1]).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
