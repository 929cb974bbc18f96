import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/types';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** SHA-256 of a key: all the store ever holds. Keys are 190 random bits, so no slow hash is needed. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new viewer/admin key (`as_…`, 32 base62 characters) and its hash. */
export function generateApiKey(): { key: string; hash: string } {
  const bytes = randomBytes(48);
  let body = '';
  for (const b of bytes) {
    // Rejection sampling keeps every character equally likely.
    if (b < 248 && body.length < 32) body += ALPHABET[b % 62];
  }
  while (body.length < 32) body += ALPHABET[randomBytes(1)[0] % 62];
  const key = `as_${body}`;
  return { key, hash: hashApiKey(key) };
}

/** Constant-time comparison of two secrets (through their digests, so lengths do not leak). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** True when the API must ask for a key: an admin key is set, or a viewer key exists. */
export async function hasActiveKeys(store: Store, adminKey?: string): Promise<boolean> {
  if (adminKey) return true;
  return (await store.listApiKeys()).some((k) => k.revokedAt === null);
}
