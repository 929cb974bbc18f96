import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Store } from '../store/types';
import { authenticate } from './auth';
import { downloadRedeemer, downloadsRouter } from './downloads';
import { LINK_PREFIX, linkAuthenticator, linksRouter } from './links';
import { errorHandler, sendError } from './errors';
import { apiRouter, publicApiRouter } from './routes';

export interface HttpAppOptions {
  store: Store;
  /** Key that sees every company. */
  adminKey?: string;
  /** Link from a log to its trace, e.g. http://localhost:16686/trace/{traceId}. */
  traceUrlTemplate?: string;
  /** Built UI; default dist/ui next to this file. */
  uiDir?: string;
  version?: string;
  /** Failed key attempts per address (IPv6: per /64) within 10 minutes before 429. Default 10. */
  authFailureLimit?: number;
  /** Behind a proxy you run: the client address is the one the nearest proxy saw (last X-Forwarded-For entry). */
  trustProxy?: boolean;
  /** HMAC secret of view links; default: one generated once and kept in the database. */
  linkSecret?: string;
  /** Base of view-link URLs (e.g. https://logs.example.com); default: the request's scheme and host. */
  publicUrl?: string;
  /** Origins that may frame the UI (CSP frame-ancestors); default none. */
  frameAncestors?: string[];
  /** The provider's branding of customer views. */
  branding?: { title?: string; logoUrl?: string; accentColor?: string };
}

/** The HTTP app on port 8080: health, the query API and the UI, with security headers on every response. */
export function createHttpApp(options: HttpAppOptions): Express {
  const { store } = options;
  const version = options.version ?? '0.0.0';
  const uiDir = options.uiDir ?? join(__dirname, '..', 'ui');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // One hop: a client can prepend X-Forwarded-For entries, but not the one our proxy appends.
  if (options.trustProxy) app.set('trust proxy', 1);

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', ...(options.branding?.logoUrl ? [new URL(options.branding.logoUrl).origin] : [])],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: options.frameAncestors?.length ? options.frameAncestors : ["'none'"],
        },
      },
      // Framing is governed by frame-ancestors; X-Frame-Options (SAMEORIGIN) would forbid the allowed origins.
      xFrameOptions: options.frameAncestors?.length ? false : { action: 'sameorigin' },
      // Plain-HTTP deployments on a LAN must keep working: no forced upgrade, no HSTS.
      strictTransportSecurity: false,
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ready' });
    } catch {
      res.setHeader('Retry-After', '5');
      res.status(503).json({ status: 'unavailable', error: { code: 'unavailable', message: 'the database is unavailable' } });
    }
  });

  const routerOptions = { store, version, traceUrlTemplate: options.traceUrlTemplate };
  app.use('/api', publicApiRouter(routerOptions));
  const branding = options.branding ?? {};
  app.get('/api/branding', (_req, res) => {
    res.json({ title: branding.title ?? null, logoUrl: branding.logoUrl ?? null, accentColor: branding.accentColor ?? null });
  });
  const links = linkAuthenticator({ store, secret: options.linkSecret });
  app.use('/api', downloadRedeemer(links.getSecret));
  app.use(
    '/api',
    authenticate({
      store, adminKey: options.adminKey, failureLimit: options.authFailureLimit,
      links: { prefix: LINK_PREFIX, check: links.check },
    }),
    linksRouter({ store, publicUrl: options.publicUrl, getSecret: links.getSecret }),
    downloadsRouter(links.getSecret),
    apiRouter(routerOptions),
  );

  if (existsSync(uiDir)) {
    app.use(express.static(uiDir, { index: 'index.html', maxAge: '1h', setHeaders: (res, path) => {
      if (path.endsWith('index.html')) res.setHeader('Cache-Control', 'no-cache');
    } }));
    // Permalinks (`/logs/<id>`, the X-Request-Log-Url header), customer view links (`/view`) and the UI's pages open the UI, which reads the path.
    app.get(['/', '/logs/:id', '/view', '/endpoints', '/views'], (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(join(uiDir, 'index.html'));
    });
  }
  app.use((_req, res) => sendError(res, 404, 'not_found', 'not found'));
  app.use(errorHandler);
  return app;
}
