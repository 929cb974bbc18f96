import { z } from 'zod';
import { InvalidSearchError } from '../store/errors';
import { parseSearch } from '../store/search';
import type { LogFilter, ViewFilter } from '../store/types';
import { ApiError } from './errors';

/** Query values as Express parses them: a string, or an array for repeated keys. */
type Raw = string | string[] | undefined;

const asList = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
const commaList = (v: unknown): string[] => asList(v).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);

const instant = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const text = (Array.isArray(v) ? v[v.length - 1] : v).trim();
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 date-time (2026-11-20T10:00:00Z) or epoch milliseconds' });
    return z.NEVER;
  }
  return ms;
});

const number = (min: number, max: number, integer = false) =>
  z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
    const text = (Array.isArray(v) ? v[v.length - 1] : v).trim();
    const n = Number(text);
    if (text === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      ctx.addIssue({ code: 'custom', message: `must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

const single = (max: number) =>
  z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
    const text = Array.isArray(v) ? v[v.length - 1] : v;
    if (text.length > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${max} characters` });
      return z.NEVER;
    }
    return text;
  });

const strings = (max: number) =>
  z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
    const list = asList(v);
    if (list.length > 50 || list.some((s) => s.length > max)) {
      ctx.addIssue({ code: 'custom', message: `at most 50 values of at most ${max} characters` });
      return z.NEVER;
    }
    return list;
  });

const methods = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const list = commaList(v).map((m) => m.toUpperCase());
  if (list.length === 0 || list.some((m) => !/^[A-Z]{1,16}$/.test(m))) {
    ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of HTTP methods (GET,POST)' });
    return z.NEVER;
  }
  return list;
});

const statuses = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const classes: number[] = [];
  const codes: number[] = [];
  const list = commaList(v);
  for (const item of list) {
    if (/^[1-5]xx$/i.test(item)) classes.push(Number(item[0]));
    else if (/^[1-5]\d\d$/.test(item)) codes.push(Number(item));
    else {
      ctx.addIssue({ code: 'custom', message: `"${item.slice(0, 20)}" is not a status class (2xx…5xx) or a status code (100-599)` });
      return z.NEVER;
    }
  }
  if (list.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must list status classes (2xx…5xx) or codes' });
    return z.NEVER;
  }
  return { classes, codes };
});

const BUCKETS: Record<string, number> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000, '1h': 3_600_000, '3h': 10_800_000, '6h': 21_600_000, '12h': 43_200_000, '1d': 86_400_000, '7d': 604_800_000 };
const bucket = z.string().transform((v, ctx) => {
  const ms = BUCKETS[v] ?? (/^\d{4,10}$/.test(v) ? Number(v) : NaN);
  if (!Number.isFinite(ms) || ms < 1000) {
    ctx.addIssue({ code: 'custom', message: `must be one of ${Object.keys(BUCKETS).join(', ')} or milliseconds >= 1000` });
    return z.NEVER;
  }
  return ms;
});

/** `q`: the search language of src/store/search.ts, checked here so that a bad one is a 400 before any answer starts. */
const search = single(200).superRefine((text, ctx) => {
  try {
    parseSearch(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof InvalidSearchError ? err.message : 'cannot be read' });
  }
});

const filterShape = {
  from: instant.optional(),
  to: instant.optional(),
  endpoint: strings(1024).optional(),
  method: methods.optional(),
  status: statuses.optional(),
  token: strings(256).optional(),
  service: strings(256).optional(),
  q: search.optional(),
  minLatencyMs: number(0, 1e9).optional(),
  maxLatencyMs: number(0, 1e9).optional(),
  company: single(256).optional(),
};

const kinds = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const list = commaList(v).map((k) => k.toLowerCase());
  if (list.length === 0 || list.some((k) => k !== 'view' && k !== 'export')) {
    ctx.addIssue({ code: 'custom', message: 'must be view, export or both (view,export)' });
    return z.NEVER;
  }
  return list as Array<'view' | 'export'>;
});

/** Filters of `GET /api/views` (the audit of the audit log). */
const viewShape = {
  from: instant.optional(),
  to: instant.optional(),
  key: strings(100).optional(),
  company: single(256).optional(),
  kind: kinds.optional(),
  log: single(64).optional(),
};

export const schemas = {
  logs: z.strictObject({ ...filterShape, limit: number(1, 500, true).optional(), cursor: single(100).optional() }),
  stats: z.strictObject({ ...filterShape, bucket: bucket.optional() }),
  facets: z.strictObject(filterShape),
  export: z.strictObject({ ...filterShape, format: z.enum(['csv', 'ndjson'], { message: 'must be csv or ndjson' }).optional() }),
  endpoints: z.strictObject({ ...filterShape, sparkline: number(0, 120, true).optional() }),
  views: z.strictObject({ ...viewShape, limit: number(1, 500, true).optional(), cursor: single(100).optional() }),
  viewsExport: z.strictObject({ ...viewShape, format: z.enum(['csv', 'ndjson'], { message: 'must be csv or ndjson' }).optional() }),
};

export const FILTER_PARAMS = Object.keys(filterShape);

type Parsed<K extends keyof typeof schemas> = z.output<(typeof schemas)[K]>;

/** Validates query parameters; throws ApiError 400 naming the first bad parameter. */
export function parseQuery<K extends keyof typeof schemas>(kind: K, query: Record<string, Raw | unknown>): Parsed<K> {
  const result = schemas[kind].safeParse(query);
  if (result.success) return result.data as Parsed<K>;
  const issue = result.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const key = String(issue.keys[0]);
    throw new ApiError(400, 'unknown_parameter', `unknown parameter "${key.slice(0, 50)}"`, key.slice(0, 50));
  }
  const param = String(issue.path[0] ?? '');
  throw new ApiError(400, 'invalid_parameter', `${param}: ${issue.message}`, param);
}

/** The store filter of validated parameters (scope is applied separately). */
export function toFilter(p: Partial<Parsed<'facets'>>): LogFilter {
  const f: LogFilter = {};
  if (p.from !== undefined) f.from = p.from;
  if (p.to !== undefined) f.to = p.to;
  if (p.from !== undefined && p.to !== undefined && p.from >= p.to) throw new ApiError(400, 'invalid_parameter', 'to: must be after from', 'to');
  if (p.minLatencyMs !== undefined && p.maxLatencyMs !== undefined && p.minLatencyMs > p.maxLatencyMs) {
    throw new ApiError(400, 'invalid_parameter', 'maxLatencyMs: must not be below minLatencyMs', 'maxLatencyMs');
  }
  if (p.endpoint?.length) f.endpoints = p.endpoint;
  if (p.method?.length) f.methods = p.method;
  if (p.status) {
    if (p.status.classes.length) f.statusClasses = p.status.classes;
    if (p.status.codes.length) f.statusCodes = p.status.codes;
  }
  if (p.token?.length) f.tokens = p.token;
  if (p.service?.length) f.services = p.service;
  if (p.q !== undefined && p.q !== '') f.q = p.q;
  if (p.minLatencyMs !== undefined) f.minLatencyMs = p.minLatencyMs;
  if (p.maxLatencyMs !== undefined) f.maxLatencyMs = p.maxLatencyMs;
  return f;
}

/** The store filter of validated `/api/views` parameters. */
export function toViewFilter(p: Partial<Parsed<'views'>>): ViewFilter {
  const f: ViewFilter = {};
  if (p.from !== undefined) f.from = p.from;
  if (p.to !== undefined) f.to = p.to;
  if (p.from !== undefined && p.to !== undefined && p.from >= p.to) throw new ApiError(400, 'invalid_parameter', 'to: must be after from', 'to');
  if (p.key?.length) f.keyNames = p.key;
  if (p.company !== undefined) f.companyId = p.company;
  if (p.kind?.length) f.kinds = p.kind;
  if (p.log !== undefined && p.log !== '') f.logId = p.log;
  return f;
}
