import type { NextFunction, Request, Response } from 'express';
import type { Store } from '../store/types';
import { sendError } from './errors';
import { hashApiKey, hasActiveKeys, secretsEqual } from './keys';

export interface Principal {
  name: string;
  /** Null: every company (admin). */
  companyId: string | null;
  admin: boolean;
}

export interface AuthOptions {
  store: Store;
  adminKey?: string;
  /** Failed attempts from one address within 10 minutes before it gets 429. Default 10. */
  failureLimit?: number;
}

const CACHE_MS = 2000;
const FAILURE_WINDOW_MS = 10 * 60_000;
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
 */
export function authenticate(options: AuthOptions) {
  const limit = options.failureLimit ?? 10;
  let keysExist: { value: boolean; at: number } | undefined;
  const lookups = new Map<string, { principal: Principal | null; id?: number; at: number }>();
  const touched = new Map<number, number>();
  const failures = new Map<string, { count: number; first: number }>();

  const anyKeys = async (): Promise<boolean> => {
    if (keysExist && Date.now() - keysExist.at < CACHE_MS) return keysExist.value;
    keysExist = { value: await hasActiveKeys(options.store, options.adminKey), at: Date.now() };
    return keysExist.value;
  };

  const lookup = async (key: string): Promise<Principal | null> => {
    if (options.adminKey && secretsEqual(key, options.adminKey)) return { name: 'admin', companyId: null, admin: true };
    const hash = hashApiKey(key);
    const cached = lookups.get(hash);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.principal;
    const info = await options.store.findApiKeyByHash(hash);
    const principal = info ? { name: info.name, companyId: info.companyId, admin: info.companyId === null } : null;
    if (lookups.size > 10_000) lookups.clear();
    lookups.set(hash, { principal, id: info?.id, at: Date.now() });
    if (info && Date.now() - (touched.get(info.id) ?? 0) > TOUCH_EVERY_MS) {
      touched.set(info.id, Date.now());
      options.store.touchApiKey(info.id).catch(() => undefined);
    }
    return principal;
  };

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      if (!(await anyKeys())) {
        req.principal = { name: 'local', companyId: null, admin: true };
        return next();
      }
      const ip = req.socket.remoteAddress ?? 'unknown';
      const record = failures.get(ip);
      if (record && Date.now() - record.first > FAILURE_WINDOW_MS) failures.delete(ip);
      const current = failures.get(ip);
      if (current && current.count >= limit) {
        res.setHeader('Retry-After', String(Math.ceil((current.first + FAILURE_WINDOW_MS - Date.now()) / 1000)));
        return sendError(res, 429, 'too_many_failures', 'too many failed authentication attempts from this address; retry later');
      }
      const header = req.get('authorization') ?? '';
      const m = /^Bearer\s+(\S{1,200})$/i.exec(header);
      const principal = m ? await lookup(m[1]) : null;
      if (!principal) {
        const f = failures.get(ip) ?? { count: 0, first: Date.now() };
        f.count += 1;
        failures.set(ip, f);
        if (failures.size > 100_000) failures.clear();
        // Each failure answers a little later than the one before (up to 1 s).
        await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** (f.count - 1))));
        res.setHeader('WWW-Authenticate', 'Bearer realm="auditspan"');
        return sendError(res, 401, 'unauthorized', m ? 'unknown or revoked API key' : 'missing API key: send Authorization: Bearer <key>');
      }
      failures.delete(ip);
      req.principal = principal;
      next();
    } catch (err) {
      next(err);
    }
  };
}
