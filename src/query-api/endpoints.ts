/**
 * `GET /api/endpoints`: the store's per-endpoint figures for the asked window, each with the
 * same endpoint's figures over the previous window of the same length.
 */
import type { EndpointFigures, EndpointSummaryOptions, LogFilter, Store } from '../store/types';

export interface EndpointRow extends EndpointFigures {
  /** The previous window of the same length; null without `from` (no window to shift). */
  previous: { count: number; errorRate: number | null; p95: number | null } | null;
}

export interface EndpointList {
  data: EndpointRow[];
  /** The window compared; null without `from`. */
  window: { from: string; to: string; previousFrom: string } | null;
}

export async function summarizeEndpoints(store: Store, filter: LogFilter, options: EndpointSummaryOptions): Promise<EndpointList> {
  if (filter.from === undefined) {
    const data = await store.endpointSummary(filter, {});
    return { data: data.map((r) => ({ ...r, previous: null })), window: null };
  }
  const to = filter.to ?? Date.now();
  const from = filter.from;
  const length = to - from;
  const current = { ...filter, from, to };
  const before = { ...filter, from: from - length, to: from };
  const [now, then] = await Promise.all([store.endpointSummary(current, options), store.endpointSummary(before, {})]);
  const previous = new Map(then.map((r) => [`${r.method} ${r.endpoint}`, r]));
  return {
    data: now.map((r) => {
      const p = previous.get(`${r.method} ${r.endpoint}`);
      return { ...r, previous: { count: p?.count ?? 0, errorRate: p ? p.errorRate : null, p95: p?.p95 ?? null } };
    }),
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), previousFrom: new Date(from - length).toISOString() },
  };
}
