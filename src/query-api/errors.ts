import type { NextFunction, Request, Response } from 'express';
import { InvalidCursorError, InvalidSearchError, NotFoundError, StoreUnavailableError } from '../store/errors';

/** An error the API answers with as `{ error: { code, message, param } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function sendError(res: Response, status: number, code: string, message: string, param?: string): void {
  res.status(status).json({ error: { code, message, ...(param ? { param } : {}) } });
}

/** The one place store and validation errors become HTTP answers. Never a stack trace. */
export function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof ApiError) return sendError(res, err.status, err.code, err.message, err.param);
  if (err instanceof NotFoundError) return sendError(res, 404, 'not_found', 'no such log');
  if (err instanceof InvalidCursorError) return sendError(res, 400, 'invalid_parameter', err.message, 'cursor');
  if (err instanceof InvalidSearchError) return sendError(res, 400, 'invalid_parameter', `q: ${err.message}`, 'q');
  if (err instanceof StoreUnavailableError) {
    res.setHeader('Retry-After', '5');
    return sendError(res, 503, 'unavailable', 'the database is unavailable, retry shortly');
  }
  const status = (err as { status?: number; statusCode?: number })?.status ?? (err as { statusCode?: number })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return sendError(res, status, 'bad_request', 'the request could not be read');
  }
  process.stderr.write(`auditspan: query API error: ${(err as Error)?.message?.split('\n')[0] ?? String(err)}\n`);
  sendError(res, 500, 'internal', 'internal error');
}
