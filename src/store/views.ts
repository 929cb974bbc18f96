/**
 * The audit of the audit log: who opened which log or exported which filters, and when
 * (table `log_views`, migrations 002 and 009). Newest first, keyset-paginated on
 * (viewed_at, id).
 */
import type { Knex } from 'knex';
import { decodeCursor, encodeCursor } from './cursor';
import type { ListOptions, LogView, ViewFilter, ViewKind, ViewPage, ViewRecord } from './types';

export function viewRow(view: LogView, nowMs: number): Record<string, unknown> {
  return {
    log_id: view.logId, key_name: view.keyName, company_id: view.companyId,
    kind: view.kind ?? 'view', filters: view.filters ?? null, viewed_at: nowMs,
  };
}

function fromViewRow(r: Record<string, unknown>): ViewRecord {
  return {
    id: Number(r.id),
    kind: (r.kind as ViewKind | null) ?? 'view',
    logId: (r.log_id as string | null) ?? null,
    keyName: String(r.key_name),
    companyId: (r.company_id as string | null) ?? null,
    filters: (r.filters as string | null) ?? null,
    viewedAt: new Date(Number(r.viewed_at)).toISOString(),
  };
}

export async function queryViews(knex: Knex, filter: ViewFilter, options: ListOptions): Promise<ViewPage> {
  const limit = Math.max(1, Math.min(500, Math.floor(options.limit)));
  const cursor = options.cursor ? decodeCursor(options.cursor) : undefined;
  const rows = (await knex('log_views')
    .modify((qb) => {
      if (filter.from !== undefined) qb.where('viewed_at', '>=', filter.from);
      if (filter.to !== undefined) qb.where('viewed_at', '<', filter.to);
      if (filter.keyNames?.length) qb.whereIn('key_name', filter.keyNames);
      if (filter.companyId !== undefined) qb.where('company_id', filter.companyId);
      if (filter.kinds?.length) qb.whereIn('kind', filter.kinds);
      if (filter.logId !== undefined) qb.where('log_id', filter.logId);
      if (cursor) qb.whereRaw('(viewed_at, id) < (?, ?)', [cursor.ts, cursor.id]);
    })
    .orderBy([{ column: 'viewed_at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(limit + 1)) as Array<Record<string, unknown>>;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(fromViewRow),
    nextCursor: rows.length > limit && last ? encodeCursor({ ts: Number(last.viewed_at), id: Number(last.id) }) : null,
  };
}
