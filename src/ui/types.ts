/** Response shapes of the query API, as the UI reads them (see DESIGN.md). */
export type { Stats, Facets, StatusClassCounts, ViewPage, ViewRecord } from '../store/types';
export type { EndpointList, EndpointRow } from '../query-api/endpoints';

export type { LogSummary, LogDetail } from '../query-api/serialize';
import type { LogSummary } from '../query-api/serialize';

export interface LogList {
  data: LogSummary[];
  nextCursor: string | null;
}

export type { Principal as WhoAmI } from '../query-api/auth';

export interface UiConfig {
  traceUrlTemplate: string | null;
  version: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; param?: string | null };
}
