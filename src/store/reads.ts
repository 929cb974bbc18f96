/** Pages of logs, newest first, by keyset cursor; and their query plans (docs/storage.md#indexes). */
import type { Knex } from 'knex';
import type { Dialect } from './connect';
import { decodeCursor, encodeCursor } from './cursor';
import { applyFilter } from './filter';
import { fromRow, type LogRow } from './rows';
import type { ListOptions, LogFilter, LogPage } from './types';

function pageQuery(knex: Knex, dialect: Dialect, filter: LogFilter, limit: number, cursor?: { ts: number; id: number }): Knex.QueryBuilder {
  return knex('logs')
    .modify(applyFilter(dialect, filter))
    .modify((qb) => {
      if (cursor) qb.whereRaw('(ts_us, id) < (?, ?)', [cursor.ts, cursor.id]);
    })
    .orderBy([{ column: 'ts_us', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(limit + 1);
}

export async function listLogs(knex: Knex, dialect: Dialect, filter: LogFilter, options: ListOptions): Promise<LogPage> {
  const limit = Math.max(1, Math.min(500, Math.floor(options.limit)));
  const cursor = options.cursor ? decodeCursor(options.cursor) : undefined;
  const rows = (await pageQuery(knex, dialect, filter, limit, cursor)) as LogRow[];
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(fromRow),
    nextCursor: rows.length > limit && last ? encodeCursor({ ts: Number(last.ts_us), id: Number(last.id) }) : null,
  };
}

/** EXPLAIN of a page's query (the first page, or the page after `cursor`). */
export async function explainListLogs(knex: Knex, dialect: Dialect, filter: LogFilter, limit = 50, cursor?: string): Promise<string> {
  const q = pageQuery(knex, dialect, filter, limit, cursor ? decodeCursor(cursor) : undefined).toSQL();
  if (dialect === 'postgres') {
    const res = await knex.raw(`EXPLAIN ${q.sql}`, q.bindings as readonly Knex.Value[]);
    return (res.rows as Array<Record<string, string>>).map((r) => r['QUERY PLAN']).join('\n');
  }
  const rows = (await knex.raw(`EXPLAIN QUERY PLAN ${q.sql}`, q.bindings as readonly Knex.Value[])) as Array<{ detail: string }>;
  return rows.map((r) => r.detail).join('\n');
}
