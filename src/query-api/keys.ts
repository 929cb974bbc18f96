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

/**
 * Why a configured secret (admin key, ingest token, link secret) is too weak to stand against
 * guessing, or null when it may be used. The rule is simple and documented: at least 32
 * characters (32 hex characters are 128 bits), at least 10 distinct ones, and no 8-character
 * run repeated. It catches short, repetitive and patterned secrets; it cannot tell a memorable
 * phrase from a random string, which is why the docs say to generate one
 * (`openssl rand -base64 32`).
 */
export function secretWeakness(secret: string): string | null {
  const advice = 'generate a random one (e.g. openssl rand -base64 32)';
  if (secret.length < 32) return `it has ${secret.length} characters; use at least 32 random ones (e.g. openssl rand -base64 32)`;
  if (new Set(secret).size < 10) return `it uses fewer than 10 distinct characters; ${advice}`;
  const seen = new Set<string>();
  for (let i = 0; i + 8 <= secret.length; i++) {
    const run = secret.slice(i, i + 8);
    if (seen.has(run)) return `it repeats a run of 8 characters; ${advice}`;
    seen.add(run);
  }
  return null;
}

/** True when the API must ask for a key: an admin key is set, or a viewer key exists. */
export async function hasActiveKeys(store: Store, adminKey?: string): Promise<boolean> {
  if (adminKey) return true;
  return (await store.listApiKeys()).some((k) => k.revokedAt === null);
}
