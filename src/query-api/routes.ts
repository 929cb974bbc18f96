import { Router, type Request, type Response } from 'express';
import type { LogFilter, Store, ViewRecord } from '../store/types';
import { ApiError } from './errors';
import { openApiDocument } from './openapi';
import { parseQuery, toFilter, toViewFilter } from './params';
import { csvCell, csvHeader, csvRow, ndjsonRow, toDetail, toSummary } from './serialize';
import { summarizeEndpoints } from './endpoints';

/** Default number of sparkline slices per endpoint row. */
const SPARKLINE_SLICES = 24;
const VIEW_CSV_COLUMNS: ReadonlyArray<keyof ViewRecord> = ['viewedAt', 'kind', 'keyName', 'companyId', 'logId', 'filters', 'id'];

/** The query string as the client sent it (directly or through a download link), for the audit of exports (capped). */
function rawQuery(req: Request): string {
  const i = req.url.indexOf('?');
  return i < 0 ? '' : req.url.slice(i + 1, i + 1 + 2000);
}

function requireAdmin(req: Request): void {
  if (!req.principal?.admin) throw new ApiError(403, 'forbidden', 'this route needs an admin key: viewer keys cannot read who viewed what');
}

/** Streams `rows` to `res` (constant memory; a slow client pauses, a client that leaves ends it). */
async function streamRows<T>(res: Response, rows: AsyncIterable<T>, write: (row: T) => string, head = ''): Promise<void> {
  let gone = false;
  res.on('close', () => {
    gone = true;
  });
  if (head) res.write(head);
  for await (const row of rows) {
    if (gone) break;
    if (!res.write(write(row))) await drained(res);
  }
  if (!gone) res.end();
}

function startDownload(res: Response, name: string, csv: boolean): void {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  res.setHeader('Content-Type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${name}-${stamp}.${csv ? 'csv' : 'ndjson'}"`);
  res.setHeader('Cache-Control', 'no-store');
}

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
    const p = req.principal;
    // Exports are audited like views: who took which filters out, and when.
    await store.recordView({ logId: null, kind: 'export', filters: rawQuery(req), keyName: p?.name ?? 'unknown', companyId: p?.companyId ?? null });
    startDownload(res, 'auditspan', csv);
    await streamRows(res, store.exportLogs(filter), csv ? csvRow : ndjsonRow, csv ? csvHeader() : '');
  });

  router.get('/endpoints', async (req, res) => {
    const q = parseQuery('endpoints', req.query);
    res.json(await summarizeEndpoints(store, scoped(req, toFilter(q), q.company), { sparkBuckets: q.sparkline ?? SPARKLINE_SLICES }));
  });

  router.get('/views', async (req, res) => {
    requireAdmin(req);
    const q = parseQuery('views', req.query);
    res.json(await store.queryViews(toViewFilter(q), { limit: q.limit ?? 50, cursor: q.cursor }));
  });

  router.get('/views/export', async (req, res) => {
    requireAdmin(req);
    const q = parseQuery('viewsExport', req.query);
    const filter = toViewFilter(q);
    const csv = q.format === 'csv';
    async function* all(): AsyncIterable<ViewRecord> {
      let cursor: string | undefined;
      do {
        const page = await store.queryViews(filter, { limit: 500, cursor });
        yield* page.data;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    startDownload(res, 'auditspan-views', csv);
    await streamRows(res, all(),
      csv ? (v) => `${VIEW_CSV_COLUMNS.map((c) => csvCell(v[c])).join(',')}\r\n` : (v) => `${JSON.stringify(v)}\n`,
      csv ? `${VIEW_CSV_COLUMNS.join(',')}\r\n` : '');
  });

  router.use((_req, _res) => {
    throw new ApiError(404, 'not_found', 'no such API route');
  });
  return router;
}
