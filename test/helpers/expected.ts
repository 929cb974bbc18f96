import type { AuditRecord } from '../../src/record/types';
import type { LogFilter } from '../../src/store/types';

/** The filter semantics computed independently of SQL, for comparing results. */
export function matches(r: AuditRecord, f: LogFilter): boolean {
  if (f.companyId !== undefined && r.companyId !== f.companyId) return false;
  if (f.from !== undefined && r.timestampUs < f.from * 1000) return false;
  if (f.to !== undefined && r.timestampUs >= f.to * 1000) return false;
  if (f.endpoints?.length && !f.endpoints.includes(r.endpoint)) return false;
  if (f.methods?.length && !f.methods.includes(r.method)) return false;
  if (f.tokens?.length && (r.tokenName === null || !f.tokens.includes(r.tokenName))) return false;
  if (f.services?.length && (r.service === null || !f.services.includes(r.service))) return false;
  const classes = f.statusClasses ?? [];
  const codes = f.statusCodes ?? [];
  if ((classes.length || codes.length) && !classes.includes(Math.floor(r.status / 100)) && !codes.includes(r.status)) return false;
  if (f.minLatencyMs !== undefined && r.latencyMs < f.minLatencyMs) return false;
  if (f.maxLatencyMs !== undefined && r.latencyMs > f.maxLatencyMs) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    if (!r.url.toLowerCase().includes(q) && !(r.error ?? '').toLowerCase().includes(q)) return false;
  }
  return true;
}

export const logId = (r: AuditRecord): string => `${r.timestampUs}-${r.spanId}`;

/** Ids of the matching fixtures, newest first (ties: insertion order reversed, as the id column). */
export function expectedIds(records: AuditRecord[], f: LogFilter): string[] {
  return records
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => matches(r, f))
    .sort((a, b) => b.r.timestampUs - a.r.timestampUs || b.i - a.i)
    .map(({ r }) => logId(r));
}
