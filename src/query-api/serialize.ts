import type { StoredLog } from '../store/types';

export interface LogSummary {
  id: string;
  timestamp: string;
  method: string;
  endpoint: string;
  url: string;
  status: number;
  latencyMs: number;
  tokenName: string | null;
  error: string | null;
}

export type LogDetail = LogSummary & Pick<StoredLog,
  'requestPayload' | 'responsePayload' | 'clientIp' | 'userAgent' | 'clientId' | 'companyId' | 'service' | 'traceId' |
  'spanId' | 'requestHeaders' | 'truncated' | 'createdAt' | 'updatedAt'>;

/** ISO 8601 UTC with microseconds (`2026-11-20T10:00:00.123456Z`). */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const micros = String(us % 1000).padStart(3, '0');
  return new Date(ms).toISOString().replace('Z', `${micros}Z`);
}

export function toSummary(l: StoredLog): LogSummary {
  return {
    id: l.id, timestamp: isoMicros(l.timestampUs), method: l.method, endpoint: l.endpoint, url: l.url,
    status: l.status, latencyMs: l.latencyMs, tokenName: l.tokenName, error: l.error,
  };
}

export function toDetail(l: StoredLog): LogDetail {
  return {
    ...toSummary(l),
    requestPayload: l.requestPayload, responsePayload: l.responsePayload, clientIp: l.clientIp, userAgent: l.userAgent,
    clientId: l.clientId, companyId: l.companyId, service: l.service, traceId: l.traceId, spanId: l.spanId,
    requestHeaders: l.requestHeaders, truncated: l.truncated, createdAt: l.createdAt, updatedAt: l.updatedAt,
  };
}

export const CSV_COLUMNS: ReadonlyArray<keyof LogDetail> = [
  'id', 'timestamp', 'method', 'endpoint', 'url', 'status', 'latencyMs', 'tokenName', 'clientIp', 'userAgent',
  'clientId', 'companyId', 'service', 'error', 'truncated', 'requestPayload', 'responsePayload', 'traceId', 'spanId',
];

/** One CSV cell: RFC 4180 quoting, and formula-looking text neutralised against spreadsheet injection. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvHeader = (): string => `${CSV_COLUMNS.join(',')}\r\n`;
export const csvRow = (l: StoredLog): string => {
  const d = toDetail(l);
  return `${CSV_COLUMNS.map((c) => csvCell(d[c])).join(',')}\r\n`;
};
export const ndjsonRow = (l: StoredLog): string => `${JSON.stringify(toDetail(l))}\n`;
