import type { NextFunction, Request, Response } from 'express';
import type { Store } from '../store/types';
import { sendError } from './errors';
import { hashApiKey, secretsEqual } from './keys';
import { FailureThrottle } from './throttle';

export interface Principal {
  name: string;
  /** Null: every company (admin). */
  companyId: string | null;
  admin: boolean;
}

export interface AuthOptions {
  store: Store;
  adminKey?: string;
  /** Failed attempts from one address (IPv6: one /64) within 10 minutes before it gets 429. Default 10. */
  failureLimit?: number;
  /** View links (links.ts): a bearer token with the link prefix is checked here instead of as a key. */
  links?: { prefix: string; check(token: string): Promise<Principal | { refuse: { code: string; message: string } } | null> };
}

const CACHE_MS = 2000;
const TOUCH_EVERY_MS = 60_000;

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/**
 * Bearer-key authentication for /api. With no key configured anywhere the API
 * is open (the server then only listens on loopback). Keys created or revoked
 * with the CLI take effect within two seconds.
 *
 * The active keys' hashes are held in memory (refreshed every 2 s), so checking a key is one
 * SHA-256 and a map lookup, done in the same synchronous step as counting a failure. A key
 * not in memory is counted as a failure first and only then looked up in the database (it
 * may be newer than the cache; its failure is taken back if so): parallel guesses cannot
 * slip past the limit while a lookup is pending, and a blocked address is not looked up. Only failures are counted (per address,
 * IPv6 /64, /48 and overall, see throttle.ts) and nothing but time resets them; a valid key
 * is always accepted, so guessers cannot lock anyone else out. What makes guessing
 * infeasible is the keys themselves: 190 random bits, or an admin key checked for ≥ 128 bits.
 */
export function authenticate(options: AuthOptions) {
  const throttle = new FailureThrottle({ limit: options.failureLimit });
  let keys: { byHash: Map<string, { principal: Principal; id: number }>; at: number } | undefined;
  let refreshing: Promise<void> | undefined;
  const touched = new Map<number, number>();

  const refresh = (): Promise<void> => {
    refreshing ??= options.store
      .listActiveApiKeyHashes()
      .then((list) => {
        const byHash = new Map<string, { principal: Principal; id: number }>();
        for (const k of list) byHash.set(k.hash, { id: k.id, principal: { name: k.name, companyId: k.companyId, admin: k.companyId === null } });
        keys = { byHash, at: Date.now() };
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };

  const check = (key: string): Principal | null => {
    if (options.adminKey && secretsEqual(key, options.adminKey)) return { name: 'admin', companyId: null, admin: true };
    const found = keys?.byHash.get(hashApiKey(key));
    if (!found) return null;
    if (Date.now() - (touched.get(found.id) ?? 0) > TOUCH_EVERY_MS) {
      touched.set(found.id, Date.now());
      options.store.touchApiKey(found.id).catch(() => undefined);
    }
    return found.principal;
  };

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    // Already authenticated by a signed download link (downloads.ts).
    if (req.principal) return next();
    try {
      if (!keys || Date.now() - keys.at >= CACHE_MS) await refresh();
      const header = req.get('authorization');
      const m = /^Bearer\s+(\S{1,512})$/i.exec(header ?? '');
      let link: Principal | null = null;
      if (m && options.links && m[1].startsWith(options.links.prefix)) {
        const result = await options.links.check(m[1]);
        // An expired link carries a valid signature: not a guess, and the viewer is told plainly.
        if (result && 'refuse' in result) return sendError(res, 401, result.refuse.code, result.refuse.message);
        link = result;
      }
      if (link) {
        req.principal = link;
        return next();
      }
      if (!options.adminKey && keys!.byHash.size === 0) {
        req.principal = { name: 'local', companyId: null, admin: true };
        return next();
      }
      const ip = req.ip ?? req.socket.remoteAddress ?? 'unknown';
      // Nothing awaits between the in-memory check and counting the failure: one step.
      const blocked = throttle.blockedFor(ip);
      const principal = m ? check(m[1]) : null;
      if (principal) {
        req.principal = principal;
        return next();
      }
      const count = throttle.fail(ip);
      if (m && blocked === 0) {
        // A key created since the cache was filled: look it up, its failure already counted,
        // so parallel attempts cannot overrun the limit while this waits on the database.
        const fresh = await options.store.findApiKeyByHash(hashApiKey(m[1]));
        if (fresh) {
          throttle.refund(ip);
          req.principal = { name: fresh.name, companyId: fresh.companyId, admin: fresh.companyId === null };
          return next();
        }
      }
      if (blocked > 0) {
        res.setHeader('Retry-After', String(blocked));
        return sendError(res, 429, 'too_many_failures', 'too many failed authentication attempts from this address; retry later');
      }
      // Each failure answers a little later than the one before (up to 1 s).
      await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** Math.min(count - 1, 10))));
      res.setHeader('WWW-Authenticate', 'Bearer realm="auditspan"');
      return sendError(res, 401, 'unauthorized', m ? 'unknown or revoked API key' : 'missing API key: send Authorization: Bearer <key>');
    } catch (err) {
      next(err);
    }
  };
}
