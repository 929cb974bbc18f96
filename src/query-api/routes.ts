import { Router, type Request, type Response } from 'express';
import type { LogFilter, Store } from '../store/types';
import { ApiError } from './errors';
import { openApiDocument } from './openapi';
import { parseQuery, toFilter } from './params';
import { csvHeader, csvRow, ndjsonRow, toDetail, toSummary } from './serialize';

/** Resolves when the response can take more, or is gone. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The caller's company always wins over a `company` parameter; an admin may narrow with it. */
function scoped(req: Request, filter: LogFilter, company: string | undefined): LogFilter {
  const p = req.principal;
  if (!p) throw new ApiError(401, 'unauthorized', 'missing API key');
  if (p.companyId !== null) return { ...filter, companyId: p.companyId };
  return company !== undefined ? { ...filter, companyId: company } : filter;
}

export interface ApiRouterOptions {
  store: Store;
  version: string;
  traceUrlTemplate?: string;
}

/** Routes that need no key: the API description and the UI's settings (no secrets). */
export function publicApiRouter(options: ApiRouterOptions): Router {
  const router = Router();
  const doc = openApiDocument(options.version);
  router.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  router.get('/config', (_req, res) => {
    res.json({ traceUrlTemplate: options.traceUrlTemplate ?? null, version: options.version });
  });
  return router;
}

export function apiRouter(options: ApiRouterOptions): Router {
  const { store } = options;
  const router = Router();

  router.get('/whoami', (req, res) => {
    const p = req.principal;
    res.json({ name: p?.name, companyId: p?.companyId ?? null, admin: p?.admin ?? false });
  });

  router.get('/logs', async (req, res) => {
    const q = parseQuery('logs', req.query);
    const page = await store.listLogs(scoped(req, toFilter(q), q.company), { limit: q.limit ?? 50, cursor: q.cursor });
    res.json({ data: page.data.map(toSummary), nextCursor: page.nextCursor });
  });

  router.get('/logs/:id', async (req, res) => {
    const p = req.principal;
    const id = String(req.params.id);
    const log = await store.getLog(id, p?.companyId ?? undefined);
    // The audit log is itself audited: who looked at which entry.
    await store.recordView({ logId: log.id, keyName: p?.name ?? 'unknown', companyId: p?.companyId ?? null });
    res.json(toDetail(log));
  });

  router.get('/stats', async (req, res) => {
    const q = parseQuery('stats', req.query);
    res.json(await store.stats(scoped(req, toFilter(q), q.company), { bucketMs: q.bucket }));
  });

  router.get('/facets', async (req, res) => {
    const q = parseQuery('facets', req.query);
    res.json(await store.facets(scoped(req, toFilter(q), q.company)));
  });

  router.get('/export', async (req: Request, res: Response) => {
    const q = parseQuery('export', req.query);
    const filter = scoped(req, toFilter(q), q.company);
    const csv = q.format === 'csv';
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    res.setHeader('Content-Type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="auditspan-${stamp}.${csv ? 'csv' : 'ndjson'}"`);
    res.setHeader('Cache-Control', 'no-store');
    let gone = false;
    res.on('close', () => {
      gone = true;
    });
    if (csv) res.write(csvHeader());
    // Constant memory: pages come from the store as they are needed; a slow
    // client pauses the loop (drain) and a client that leaves ends it.
    for await (const log of store.exportLogs(filter)) {
      if (gone) break;
      if (!res.write(csv ? csvRow(log) : ndjsonRow(log))) await drained(res);
    }
    if (!gone) res.end();
  });

  router.use((_req, _res) => {
    throw new ApiError(404, 'not_found', 'no such API route');
  });
  return router;
}
