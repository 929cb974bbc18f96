import { formatLogId } from '../record/log-id';
import type { AuditRecord } from '../record/types';
import type { ApiKeyInfo, StoredLog } from './types';

export interface LogRow {
  id: number | string;
  trace_id: string;
  span_id: string;
  ts_us: number | string;
  method: string;
  url: string;
  endpoint: string;
  status: number;
  status_class: number;
  latency_ms: number;
  token_name: string | null;
  client_ip: string | null;
  user_agent: string | null;
  client_id: string | null;
  company_id: string | null;
  service: string | null;
  request_payload: string | null;
  response_payload: string | null;
  request_headers: string | null;
  truncated: boolean | number;
  error: string | null;
  created_at: number | string;
  updated_at: number | string;
}

export function toRow(r: AuditRecord, nowMs: number): Omit<LogRow, 'id'> {
  return {
    trace_id: r.traceId,
    span_id: r.spanId,
    ts_us: r.timestampUs,
    method: r.method,
    url: r.url,
    endpoint: r.endpoint,
    status: r.status,
    status_class: Math.floor(r.status / 100),
    latency_ms: r.latencyMs,
    token_name: r.tokenName,
    client_ip: r.clientIp,
    user_agent: r.userAgent,
    client_id: r.clientId,
    company_id: r.companyId,
    service: r.service,
    request_payload: r.requestPayload,
    response_payload: r.responsePayload,
    request_headers: r.requestHeaders ? JSON.stringify(r.requestHeaders) : null,
    truncated: r.truncated,
    error: r.error,
    created_at: nowMs,
    updated_at: nowMs,
  };
}

/** A column value as better-sqlite3 binds it. */
export type SqlValue = string | number | null;

/**
 * The values of `toRow(r, nowMs)`, in the order of its keys, passed as arguments (the order is
 * tested against toRow): better-sqlite3's prepared insert binds them by position, with no object
 * per row and no lookup by name — 2.5–4.6 µs less CPU per row than binding toRow's object by
 * name (medians of 4, 100k rows). SQLite has no boolean: `truncated` is 0 or 1.
 */
export function withRowValues<T>(r: AuditRecord, nowMs: number, run: (...values: SqlValue[]) => T): T {
  return run(
    r.traceId, r.spanId, r.timestampUs, r.method, r.url, r.endpoint, r.status, Math.floor(r.status / 100), r.latencyMs,
    r.tokenName, r.clientIp, r.userAgent, r.clientId, r.companyId, r.service, r.requestPayload, r.responsePayload,
    r.requestHeaders ? JSON.stringify(r.requestHeaders) : null, r.truncated ? 1 : 0, r.error, nowMs, nowMs,
  );
}

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

export function fromRow(row: LogRow): StoredLog {
  let headers: Record<string, string> | null = null;
  if (row.request_headers) {
    try {
      headers = JSON.parse(row.request_headers) as Record<string, string>;
    } catch {
      headers = null;
    }
  }
  return {
    id: formatLogId(row.ts_us, row.span_id),
    traceId: row.trace_id,
    spanId: row.span_id,
    // PostgreSQL returns int8 as a string; µs since 1970 fit a double exactly.
    timestampUs: Number(row.ts_us),
    method: row.method,
    url: row.url,
    endpoint: row.endpoint,
    status: Number(row.status),
    latencyMs: Number(row.latency_ms),
    tokenName: row.token_name,
    clientIp: row.client_ip,
    userAgent: row.user_agent,
    clientId: row.client_id,
    companyId: row.company_id,
    service: row.service,
    requestPayload: row.request_payload,
    responsePayload: row.response_payload,
    requestHeaders: headers,
    truncated: Boolean(row.truncated),
    error: row.error,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export interface KeyRow {
  id: number;
  name: string;
  company_id: string | null;
  created_at: number | string;
  last_used_at: number | string | null;
  revoked_at: number | string | null;
}

export function keyFromRow(row: KeyRow): ApiKeyInfo {
  return {
    id: Number(row.id),
    name: row.name,
    companyId: row.company_id,
    createdAt: iso(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : iso(row.last_used_at),
    revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
  };
}
