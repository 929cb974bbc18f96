/**
 * Download links for exports. A browser saves a file to disk as it arrives only when it follows
 * a plain link, and a plain link cannot carry the `Authorization` header the API needs. So the
 * UI first asks, with its key, for a one-time link to the export it wants
 * (`POST /api/downloads`), then lets the browser follow that link: the export streams straight
 * to disk, whatever its size, instead of being held in the page's memory.
 *
 * A download token is HMAC-signed with the view-link secret (links.ts) under its own label, so
 * it cannot be mistaken for a view link. It names the export's path and query, the key's name
 * and scope (company, admin), and expires after 60 seconds; it is used once (remembered by
 * this process until it expires). The export is audited under the key's name as if the key had
 * asked for it directly.
 */
import { randomBytes } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Principal } from './auth';
import { ApiError, sendError } from './errors';
import { openToken, signToken } from './links';
import { parseQuery } from './params';

export const DOWNLOAD_PREFIX = 'asd1.';
export const DOWNLOAD_TTL_SECONDS = 60;
/** The exports a download link may name (paths under /api), and the query schema of each. */
const EXPORTS = { '/export': 'export', '/views/export': 'viewsExport' } as const;

interface DownloadClaims {
  /** Path and query under /api, e.g. `/export?format=csv&status=5xx`. */
  path: string;
  principal: Principal;
  /** Expiry, epoch seconds. */
  exp: number;
  /** Random: makes every token distinct, and is what "used once" remembers. */
  nonce: string;
}

const DOWNLOAD_LABEL = 'auditspan download';

export function signDownload(secret: string, claims: DownloadClaims): string {
  const p = claims.principal;
  return signToken(secret, DOWNLOAD_LABEL, DOWNLOAD_PREFIX, { p: claims.path, n: p.name, c: p.companyId, a: p.admin, e: claims.exp, j: claims.nonce });
}

/** The claims of a token whose signature holds, expired or not. */
export function verifyDownload(secret: string, token: string): DownloadClaims | null {
  const raw = openToken(secret, DOWNLOAD_LABEL, DOWNLOAD_PREFIX, token);
  if (!raw || typeof raw.p !== 'string' || typeof raw.n !== 'string' || (raw.c !== null && typeof raw.c !== 'string')) return null;
  if (typeof raw.a !== 'boolean' || typeof raw.e !== 'number' || typeof raw.j !== 'string') return null;
  return { path: raw.p, principal: { name: raw.n, companyId: raw.c as string | null, admin: raw.a }, exp: raw.e, nonce: raw.j };
}

/** The export a `POST /api/downloads` body names, validated as its route would validate it. */
function exportPath(body: unknown): string {
  const path = (body as { path?: unknown } | null)?.path;
  if (typeof path !== 'string' || path.length > 4000) {
    throw new ApiError(400, 'invalid_body', 'send a JSON object { "path": "/api/export?format=csv&…" } with Content-Type: application/json');
  }
  const url = new URL(path, 'http://x');
  const route = url.pathname.replace(/^\/api(?=\/)/, '');
  const schema = EXPORTS[route as keyof typeof EXPORTS];
  if (!path.startsWith('/api/') || !schema) {
    throw new ApiError(400, 'invalid_parameter', 'path must be /api/export?… or /api/views/export?…', 'path');
  }
  // A bad filter is reported now, as JSON the UI can show, not as a failed download.
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const prev = query[key];
    query[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  parseQuery(schema, query);
  return `${route}${url.search}`;
}

/** `POST /api/downloads` (mounted after authentication): a one-time link to an export. */
export function downloadsRouter(getSecret: () => Promise<string>): Router {
  const router = Router();
  router.post('/downloads', express.json({ limit: '8kb' }), async (req, res) => {
    const path = exportPath(req.body);
    if (path.startsWith('/views/') && !req.principal?.admin) {
      throw new ApiError(403, 'forbidden', 'this route needs an admin key: viewer keys cannot read who viewed what');
    }
    const exp = Math.floor(Date.now() / 1000) + DOWNLOAD_TTL_SECONDS;
    const token = signDownload(await getSecret(), { path, principal: req.principal!, exp, nonce: randomBytes(12).toString('base64url') });
    res.status(201).json({ url: `/api/downloads/${token}`, expiresAt: new Date(exp * 1000).toISOString() });
  });
  return router;
}

/**
 * `GET /api/downloads/<token>` (mounted before authentication): a valid, unexpired, unused
 * token becomes its key's principal and its export's URL; the export route then answers.
 */
export function downloadRedeemer(getSecret: () => Promise<string>) {
  const used = new Map<string, number>();
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const m = /^\/downloads\/([^/?]+)$/.exec(req.path);
    if (!m || req.method !== 'GET') return next();
    try {
      const claims = verifyDownload(await getSecret(), m[1]);
      if (!claims) return sendError(res, 404, 'not_found', 'no such download link');
      const now = Date.now();
      for (const [nonce, exp] of used) if (exp * 1000 <= now) used.delete(nonce);
      if (claims.exp * 1000 <= now || used.has(claims.nonce)) {
        return sendError(res, 410, 'download_expired', 'this download link has expired or was already used; start the export again');
      }
      used.set(claims.nonce, claims.exp);
      req.principal = claims.principal;
      req.url = claims.path;
      next();
    } catch (err) {
      next(err);
    }
  };
}
