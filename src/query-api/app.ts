import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Store } from '../store/types';
import { authenticate } from './auth';
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
  /** Failed key attempts per address within 10 minutes before 429. Default 10. */
  authFailureLimit?: number;
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

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
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
  app.use('/api', authenticate({ store, adminKey: options.adminKey, failureLimit: options.authFailureLimit }), apiRouter(routerOptions));

  if (existsSync(uiDir)) {
    app.use(express.static(uiDir, { index: 'index.html', maxAge: '1h', setHeaders: (res, path) => {
      if (path.endsWith('index.html')) res.setHeader('Cache-Control', 'no-cache');
    } }));
    // Permalinks (`/logs/<id>`, the X-Request-Log-Url header) and the UI's pages open the UI, which reads the path.
    app.get(['/', '/logs/:id', '/endpoints', '/views'], (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(join(uiDir, 'index.html'));
    });
  }
  app.use((_req, res) => sendError(res, 404, 'not_found', 'not found'));
  app.use(errorHandler);
  return app;
}
