/** Response shapes of the query API, as the UI reads them (see DESIGN.md). */
export type { Stats, Facets, StatusClassCounts } from '../store/types';

export interface LogSummary {
  id: string;
  /** ISO 8601 UTC. */
  timestamp: string;
  method: string;
  endpoint: string;
  url: string;
  status: number;
  latencyMs: number;
  tokenName: string | null;
  error: string | null;
}

export interface LogDetail extends LogSummary {
  requestPayload: string | null;
  responsePayload: string | null;
  clientIp: string | null;
  userAgent: string | null;
  clientId: string | null;
  companyId: string | null;
  service: string | null;
  traceId: string;
  spanId: string;
  requestHeaders: Record<string, string> | null;
  truncated: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface LogList {
  data: LogSummary[];
  nextCursor: string | null;
}

export interface WhoAmI {
  name: string;
  companyId: string | null;
  admin: boolean;
}

export interface UiConfig {
  traceUrlTemplate: string | null;
  version: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; param?: string | null };
}
