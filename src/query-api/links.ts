/**
 * Customer view links: a signed, expiring, company-scoped credential that the provider's
 * backend mints (`POST /api/links`, admin only) and hands to a customer as a URL. The token
 * travels in the URL's fragment (`/view#link=…`), which browsers never send to a server nor
 * put in a Referer; the UI moves it to sessionStorage, drops it from the address bar and
 * sends it as `Authorization: Bearer` like a viewer key. The signature is an HMAC-SHA256
 * with a server secret (AUDITSPAN_LINK_SECRET, or one generated once and kept in the
 * database), so links survive restarts; changing the secret revokes every link at once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { Router } from 'express';
import type { Store } from '../store/types';
import type { Principal } from './auth';
import { ApiError, sendError } from './errors';

export const LINK_PREFIX = 'asl1.';
/** The name of the database-kept secret (store.serverSecret). */
export const LINK_SECRET_NAME = 'view-links';
export const MAX_LINK_TTL_SECONDS = 366 * 86_400;
export const MIN_LINK_TTL_SECONDS = 60;
const SECRET_REFRESH_MS = 30_000;

export interface LinkClaims {
  companyId: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

/**
 * A signed token: `<prefix><base64url JSON>.<base64url HMAC-SHA256>`, the MAC keyed by the link
 * secret over a label, so that tokens of one kind (view links, download links) are never taken
 * for the other.
 */
export function signToken(secret: string, label: string, prefix: string, claims: object): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${prefix}${payload}.${createHmac('sha256', secret).update(`${label}\n${payload}`).digest('base64url')}`;
}

/** The claims of a token whose signature holds (checked in constant time), or null. */
export function openToken(secret: string, label: string, prefix: string, token: string): Record<string, unknown> | null {
  if (!token.startsWith(prefix) || token.length > 8192) return null;
  const [payload, signature, extra] = token.slice(prefix.length).split('.');
  if (!payload || !signature || extra !== undefined || !/^[\w-]+$/.test(payload) || !/^[\w-]+$/.test(signature)) return null;
  const expected = createHmac('sha256', secret).update(`${label}\n${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const VIEW_LINK_LABEL = 'auditspan view link';

export function signViewLink(secret: string, claims: LinkClaims): string {
  return signToken(secret, VIEW_LINK_LABEL, LINK_PREFIX, { c: claims.companyId, e: claims.exp });
}

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: 'invalid' | 'expired'; claims?: LinkClaims };

/** Checks the signature (constant time) first, then the expiry. */
export function verifyViewLink(secret: string, token: string, nowMs = Date.now()): LinkCheck {
  const raw = openToken(secret, VIEW_LINK_LABEL, LINK_PREFIX, token);
  if (!raw || typeof raw.c !== 'string' || typeof raw.e !== 'number') return { ok: false, reason: 'invalid' };
  const claims: LinkClaims = { companyId: raw.c, exp: raw.e };
  if (claims.exp * 1000 <= nowMs) return { ok: false, reason: 'expired', claims };
  return { ok: true, claims };
}

/** The link secret: the configured one, else the database's (created on first use). */
export async function linkSecret(store: Store, configured?: string): Promise<string> {
  return configured ?? store.serverSecret(LINK_SECRET_NAME);
}

export function validateLinkRequest(body: unknown): { companyId: string; ttlSeconds: number } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'invalid_body', 'send a JSON object { "companyId", "ttlSeconds" } with Content-Type: application/json');
  }
  const { companyId, ttlSeconds } = body as Record<string, unknown>;
  if (typeof companyId !== 'string' || companyId.trim() === '' || companyId.length > 256) {
    throw new ApiError(400, 'invalid_parameter', 'companyId must be a non-empty string of at most 256 characters', 'companyId');
  }
  if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds < MIN_LINK_TTL_SECONDS || ttlSeconds > MAX_LINK_TTL_SECONDS) {
    throw new ApiError(400, 'invalid_parameter', `ttlSeconds must be a whole number from ${MIN_LINK_TTL_SECONDS} to ${MAX_LINK_TTL_SECONDS} (366 days)`, 'ttlSeconds');
  }
  return { companyId, ttlSeconds };
}

/** The URL a customer opens: the token in the fragment only. */
export function viewLinkUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/view#link=${token}`;
}

export function createViewLink(secret: string, baseUrl: string, companyId: string, ttlSeconds: number, nowMs = Date.now()) {
  const exp = Math.floor(nowMs / 1000) + ttlSeconds;
  return { url: viewLinkUrl(baseUrl, signViewLink(secret, { companyId, exp })), expiresAt: new Date(exp * 1000).toISOString() };
}

export interface LinkOptions {
  store: Store;
  secret?: string;
  /** Base of the URLs handed out; default: the request's own scheme and host. */
  publicUrl?: string;
}

/**
 * Resolves a bearer token that is a view link into a viewer-like principal, or says why not.
 * The secret is read lazily and again every 30 s.
 */
export function linkAuthenticator(options: LinkOptions) {
  // Re-read now and then, so that `auditspan links rotate-secret` takes effect without a restart.
  let secret: { value: Promise<string>; at: number } | undefined;
  const getSecret = (): Promise<string> => {
    if (!secret || Date.now() - secret.at > SECRET_REFRESH_MS) {
      const value = linkSecret(options.store, options.secret);
      secret = { value, at: Date.now() };
      value.catch(() => {
        secret = undefined;
      });
    }
    return secret.value;
  };
  return {
    getSecret,
    async check(token: string): Promise<Principal | { refuse: { code: string; message: string } } | null> {
      const result = verifyViewLink(await getSecret(), token);
      if (result.ok) return { name: `link:${result.claims.companyId}`, companyId: result.claims.companyId, admin: false };
      if (result.reason === 'expired') {
        return { refuse: { code: 'link_expired', message: `this view link expired at ${new Date(result.claims!.exp * 1000).toISOString()}; ask for a new one` } };
      }
      return null;
    },
  };
}

/** `POST /api/links` (mounted after authentication). */
export function linksRouter(options: LinkOptions & { getSecret: () => Promise<string> }): Router {
  const router = Router();
  router.post('/links', express.json({ limit: '4kb' }), async (req, res) => {
    if (!req.principal?.admin || req.principal.name.startsWith('link:')) {
      return sendError(res, 403, 'forbidden', 'only the admin key may create view links');
    }
    const { companyId, ttlSeconds } = validateLinkRequest(req.body);
    const base = options.publicUrl ?? `${req.protocol}://${req.get('host')}`;
    res.status(201).json(createViewLink(await options.getSecret(), base, companyId, ttlSeconds));
  });
  return router;
}
