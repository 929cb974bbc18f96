/** Pages of logs, newest first, by keyset cursor; and their query plans (docs/storage.md#indexes). */
import type { Knex } from 'knex';
import type { Dialect } from './connect';
import { decodeCursor, encodeCursor } from './cursor';
import { applyFilter } from './filter';
import { fromRow, type LogRow } from './rows';
import { applySearch, hasText, parseSearch, PROBE_ROWS } from './search';
import { COARSE, DAY_US, HOUR_US } from './rollups';
import { LATENCY_BIN_INDEX, LATENCY_BIN_OF_PARAM, LATENCY_BIN_SQL } from './sqlite-indexes';
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

/** How many of the newest rows a latency-bounded page checks in time order before it reads by latency instead. */
export const LATENCY_WALK_ROWS = 500;

const hasLatencyBound = (f: LogFilter): boolean => f.minLatencyMs !== undefined || f.maxLatencyMs !== undefined;

/**
 * A page with latency bounds, without scanning the window: the newest LATENCY_WALK_ROWS rows
 * of the other filters are checked in time order (cheap when matches are common); when they
 * hold fewer than a page of matches, the rest comes from the latency index (a range of
 * latencies, sorted by time: cheap because matches are rare).
 */
async function latencyPage(knex: Knex, dialect: Dialect, filter: LogFilter, limit: number, cursor?: { ts: number; id: number }): Promise<LogRow[]> {
  const { minLatencyMs: _min, maxLatencyMs: _max, ...others } = filter;
  // PostgreSQL: the walk stays within an hour of the newest rows it can reach, so that every
  // query names its time range and the planner skips the other partitions (planning a query
  // over every partition costs more than running it: docs/storage.md).
  const walkFromUs = dialect === 'postgres' ? await walkStartUs(knex, filter, cursor) : undefined;
  // The time range of a query, stated beside the keyset bound that implies it.
  const since = (fromUs: number | undefined) => (qb: Knex.QueryBuilder): void => {
    if (fromUs !== undefined) qb.where('ts_us', '>=', fromUs);
    if (cursor) qb.where('ts_us', '<=', cursor.ts);
  };
  const edge = (await pageQuery(knex, dialect, others, 0, cursor).clearSelect().clearOrder()
    .modify(since(walkFromUs))
    .select('ts_us', 'id')
    .orderBy([{ column: 'ts_us', order: 'desc' }, { column: 'id', order: 'desc' }])
    .offset(LATENCY_WALK_ROWS - 1)
    .limit(1)
    .first()) as { ts_us: unknown; id: unknown } | undefined;
  if (!edge && walkFromUs === undefined) return (await pageQuery(knex, dialect, filter, limit, cursor)) as LogRow[];
  // Fewer rows than the walk's since walkFromUs: the walk takes them all.
  const boundary = edge ? [Number(edge.ts_us), Number(edge.id)] : [walkFromUs as number, 0];
  const recent = (await pageQuery(knex, dialect, filter, limit, cursor).whereRaw('(ts_us, id) >= (?, ?)', boundary)
    .modify(since(boundary[0]))) as LogRow[];
  if (recent.length > limit) return recent;
  const rest = limit + 1 - recent.length;
  const older = dialect === 'sqlite' ? await olderByLatencyBins(knex, filter, boundary, rest) : await olderByLatencyWindows(knex, filter, boundary, rest);
  return [...recent, ...older];
}

/**
 * PostgreSQL: where a latency page's walk starts: an hour before the newest rows it can reach
 * (the cursor, `to`, or the newest hour of the rollups, which are written with the rows).
 */
async function walkStartUs(knex: Knex, filter: LogFilter, cursor?: { ts: number; id: number }): Promise<number | undefined> {
  const newest = (await knex(COARSE.table).max({ b: 'bucket_us' }).where('grain', HOUR_US).first()) as { b: unknown } | undefined;
  if (newest?.b === null || newest?.b === undefined) return undefined;
  const ends = [Number(newest.b) + HOUR_US];
  if (cursor) ends.push(cursor.ts);
  if (filter.to !== undefined) ends.push(filter.to * 1000);
  return Math.min(...ends) - HOUR_US;
}

/** PostgreSQL: a time at or before the oldest row: the rollups' oldest day, else the rows' own minimum. */
async function oldestUs(knex: Knex): Promise<number | null> {
  const day = (await knex(COARSE.table).min({ b: 'bucket_us' }).where('grain', DAY_US).first()) as { b: unknown } | undefined;
  if (day?.b !== null && day?.b !== undefined) return Number(day.b);
  const first = (await knex('logs').min({ ts: 'ts_us' }).first()) as { ts: unknown } | undefined;
  return first?.ts === null || first?.ts === undefined ? null : Number(first.ts);
}

/**
 * PostgreSQL: the newest `n` matches older than `boundary`, read a time window at a time going
 * back: the hour of the boundary, then longer windows of whole hours (sized by the matches found
 * so far), until `n` are found or the oldest row (or `from`) is passed. Each window's matches
 * come from the latency index and are sorted alone, so a bound that matches thousands of rows a
 * day costs about a page's worth of them, not the whole retention's, and a window reads only its
 * own partitions. A bound matching nothing costs about log4(hours kept) index reads.
 */
async function olderByLatencyWindows(knex: Knex, filter: LogFilter, boundary: number[], n: number): Promise<LogRow[]> {
  const oldest = await oldestUs(knex);
  if (oldest === null) return [];
  const stopUs = Math.max(oldest, filter.from !== undefined ? filter.from * 1000 : -Infinity);
  const out: LogRow[] = [];
  let hi = boundary;
  let hours = 1;
  while (out.length < n && hi[0] > stopUs) {
    // The first window starts at the hour boundary below `hi`; later ones are whole hours too.
    const lo = Math.max(stopUs, (Math.ceil(hi[0] / HOUR_US) - hours) * HOUR_US);
    // `ts_us <= hi` is implied by the keyset bound but stated, so that PostgreSQL prunes partitions.
    const rows = (await byLatency(knex, 'postgres', filter, hi, n - out.length).where('ts_us', '>=', lo).where('ts_us', '<=', hi[0])) as LogRow[];
    out.push(...rows);
    hi = [lo, 0];
    // The next window is sized by the matches seen so far: 4× after none, else what should hold the rest (2× to 8×).
    const need = n - out.length;
    hours = rows.length === 0 ? hours * 4 : Math.min(hours * 8, Math.max(hours * 2, Math.ceil((hours * need) / rows.length)));
  }
  return out;
}

/**
 * SQLite: the newest `n` matches older than `boundary` of each latency bin the bounds touch, read
 * from the bin index in time order (so each bin stops after `n` matches, however many rows it
 * holds), merged by time. The bins of the bounds are computed by SQLite itself, as the index is;
 * without an upper bound the last bin is the highest one stored (read from the end of the index).
 */
async function olderByLatencyBins(knex: Knex, filter: LogFilter, boundary: number[], n: number): Promise<LogRow[]> {
  const [bins] = (await knex.raw(
    `SELECT ${LATENCY_BIN_OF_PARAM} AS lo, ${LATENCY_BIN_OF_PARAM} AS hi,
       (SELECT ${LATENCY_BIN_SQL} AS b FROM logs INDEXED BY ${LATENCY_BIN_INDEX} ORDER BY b DESC LIMIT 1) AS top`,
    [filter.minLatencyMs ?? 0, filter.maxLatencyMs ?? 0],
  )) as Array<{ lo: number; hi: number; top: number | null }>;
  if (bins.top === null) return [];
  const hi = filter.maxLatencyMs === undefined ? Number(bins.top) : Math.min(Number(bins.hi), Number(bins.top));
  // A lower bound above every latency stored: no bin to read.
  if (Number(bins.lo) > hi) return [];
  const parts: Array<{ sql: string; bindings: readonly Knex.Value[] }> = [];
  for (let bin = Number(bins.lo); bin <= hi; bin++) parts.push(binMatches(knex, filter, boundary, n).whereRaw(`${LATENCY_BIN_SQL} = ?`, [bin]).toSQL());
  // Each bin yields the (time, id) of its newest matches; only the page's own rows are read whole.
  const newest = `${parts.map((p) => `SELECT * FROM (${p.sql})`).join(' UNION ALL ')} ORDER BY ts_us DESC, id DESC LIMIT ?`;
  const sql = `SELECT * FROM logs WHERE id IN (SELECT id FROM (${newest})) ORDER BY ts_us DESC, id DESC`;
  return (await knex.raw(sql, [...parts.flatMap((p) => p.bindings), n])) as LogRow[];
}

/** SQLite: the (time, id) of a bin's newest matches older than `boundary`; the caller names the bin. */
function binMatches(knex: Knex, filter: LogFilter, boundary: number[], n: number): Knex.QueryBuilder {
  return byLatency(knex, 'sqlite', filter, boundary, n).clearSelect().select('ts_us', 'id');
}

/**
 * Matches older than `boundary`, read from the latency index and sorted by time. SQLite's index
 * is by latency bin (sqlite-indexes.ts): the bins of the bounds are read, the bounds checked.
 */
function byLatency(knex: Knex, dialect: Dialect, filter: LogFilter, boundary: number[], n: number): Knex.QueryBuilder {
  return knex
    .from(knex.raw(dialect === 'sqlite' ? `logs INDEXED BY ${LATENCY_BIN_INDEX}` : 'logs'))
    .modify(applyFilter(dialect, filter))
    .modify((qb) => {
      if (dialect !== 'sqlite') return;
      if (filter.minLatencyMs !== undefined) qb.whereRaw(`${LATENCY_BIN_SQL} >= ${LATENCY_BIN_OF_PARAM}`, [filter.minLatencyMs]);
      if (filter.maxLatencyMs !== undefined) qb.whereRaw(`${LATENCY_BIN_SQL} <= ${LATENCY_BIN_OF_PARAM}`, [filter.maxLatencyMs]);
    })
    .whereRaw('(ts_us, id) < (?, ?)', boundary)
    // `+ 0` keeps PostgreSQL from walking the time index for the order (the walk before did that).
    .orderByRaw(dialect === 'sqlite' ? 'ts_us DESC, id DESC' : 'ts_us + 0 DESC, id DESC')
    .limit(n);
}

/**
 * Plain words of `q`: scan the newest rows of the other filters first (PROBE_ROWS, then more if
 * the word was seen there). A full page from them is the right page (rows are read in order), so
 * a common word never reaches its index, whose entries for it would be counted in the millions;
 * a word not seen among the newest rows (undefined) goes to the index.
 */
async function textProbe(knex: Knex, dialect: Dialect, filter: LogFilter, terms: ReturnType<typeof parseSearch>, limit: number, cursor?: { ts: number; id: number }): Promise<LogRow[] | undefined> {
  const newestFirst = [{ column: 'ts_us', order: 'desc' }, { column: 'id', order: 'desc' }];
  for (const probeRows of PROBE_ROWS) {
    const recent = knex('logs').modify(applyFilter(dialect, filter, 'none'))
      .modify((qb) => {
        if (cursor) qb.whereRaw('(ts_us, id) < (?, ?)', [cursor.ts, cursor.id]);
      })
      .orderBy(newestFirst).limit(probeRows).as('recent');
    const probe = (await knex.from(recent).modify(applySearch(dialect, terms, 'scan'))
      .orderBy(newestFirst).limit(limit + 1)) as LogRow[];
    if (probe.length > limit) return probe;
    if (probe.length === 0) return undefined;
  }
  return undefined;
}

export async function listLogs(knex: Knex, dialect: Dialect, filter: LogFilter, options: ListOptions): Promise<LogPage> {
  const limit = Math.max(1, Math.min(500, Math.floor(options.limit)));
  const cursor = options.cursor ? decodeCursor(options.cursor) : undefined;
  const terms = filter.q ? parseSearch(filter.q) : [];
  const rows = (hasText(terms) ? await textProbe(knex, dialect, filter, terms, limit, cursor) : undefined) ??
    (hasLatencyBound(filter) ? await latencyPage(knex, dialect, filter, limit, cursor) : ((await pageQuery(knex, dialect, filter, limit, cursor)) as LogRow[]));
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(fromRow),
    nextCursor: rows.length > limit && last ? encodeCursor({ ts: Number(last.ts_us), id: Number(last.id) }) : null,
  };
}

/**
 * EXPLAIN of a page's queries (the first page, or the page after `cursor`); with latency
 * bounds, of the time-ordered walk and of the read by latency.
 */
export async function explainListLogs(knex: Knex, dialect: Dialect, filter: LogFilter, limit = 50, cursor?: string): Promise<string> {
  const decoded = cursor ? decodeCursor(cursor) : undefined;
  if (!hasLatencyBound(filter)) return explain(knex, dialect, pageQuery(knex, dialect, filter, limit, decoded));
  // PostgreSQL's walk starts an hour before the newest rows (latencyPage); shown from there.
  const walkFromUs = dialect === 'postgres' ? await walkStartUs(knex, filter, decoded) : undefined;
  const boundary = walkFromUs !== undefined ? [walkFromUs, 0] : [decoded?.ts ?? Number.MAX_SAFE_INTEGER, decoded?.id ?? 0];
  return [
    `(newest ${LATENCY_WALK_ROWS} rows in time order)`,
    await explain(knex, dialect, pageQuery(knex, dialect, filter, limit, decoded).whereRaw('(ts_us, id) >= (?, ?)', boundary).where('ts_us', '>=', boundary[0])),
    dialect === 'sqlite' ? '(then by latency: each bin of the bounds in time order, merged; the lowest bin shown)' : '(then by latency, the hour before the walk, then longer windows; the first shown)',
    await explain(knex, dialect, dialect === 'sqlite'
      ? binMatches(knex, filter, boundary, limit + 1).whereRaw(`${LATENCY_BIN_SQL} = ${LATENCY_BIN_OF_PARAM}`, [filter.minLatencyMs ?? 0])
      : byLatency(knex, dialect, filter, boundary, limit + 1).where('ts_us', '>=', boundary[0] - HOUR_US).where('ts_us', '<=', boundary[0])),
  ].join('\n');
}

async function explain(knex: Knex, dialect: Dialect, query: Knex.QueryBuilder): Promise<string> {
  const q = query.toSQL();
  if (dialect === 'postgres') {
    const res = await knex.raw(`EXPLAIN ${q.sql}`, q.bindings as readonly Knex.Value[]);
    return (res.rows as Array<Record<string, string>>).map((r) => r['QUERY PLAN']).join('\n');
  }
  const rows = (await knex.raw(`EXPLAIN QUERY PLAN ${q.sql}`, q.bindings as readonly Knex.Value[])) as Array<{ detail: string }>;
  return rows.map((r) => r.detail).join('\n');
}
