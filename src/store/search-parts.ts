/**
 * SQLite's search indexes in parts (migration 012, docs/storage.md#search-indexes-in-parts-sqlite).
 *
 * The two FTS5 search indexes (the trigram table of search.ts and the id tokens of
 * sqlite-indexes.ts) are split by row id into parts of about a million rows each. New rows are
 * indexed into the newest part only, so the segment merges FTS5 does as it writes never reach
 * segments larger than one part's, however many rows the database holds (with one index they
 * grew to the whole index: 1.3 GB of pages at 10 M rows). Readers go through two views, each the
 * UNION ALL of its parts, that also carry each closed part's time range as constants: a search
 * over a window reads only the parts whose rows can lie in it.
 *
 * Rows are never taken out of a part: FTS5 re-tokenizes a row to delete it (half the cost of a
 * purge). A search reads candidate ids from its part tables and keeps those that are still rows
 * and whose own values match (search.ts), so the entries of purged rows are harmless, and
 * retention drops a part's tables whole once none of its rows is left.
 *
 * Part 0 is the pair of tables migrations 007 and 010 made (`logs_search`, `logs_ids`); part n
 * is `logs_search_p<n>` and `logs_ids_p<n>`, contentless. `logs_search_parts` holds each part's
 * first row id, the rows indexed into it, and the range of their timestamps.
 *
 * The write path runs inside the write's transaction, on both SQLite drivers: its steps are
 * written once, as a generator of statements (`indexSteps`), and run synchronously on
 * better-sqlite3 (the pipeline worker) or awaited on knex (`serve`, the CLI).
 */
import type { Knex } from 'knex';
import type BetterSqlite3 from 'better-sqlite3';
import { createTrigramTable, FTS_TABLE, IDS_TABLE, IDS_VIEW, TEXT_COLUMNS, TEXT_VIEW } from './search';
import { createIdsTable, idTokens } from './sqlite-indexes';

export const PARTS_TABLE = 'logs_search_parts';
/** A part is closed, and the next one begun, once this many rows were indexed into it. */
export const DEFAULT_PART_ROWS = 1_000_000;
/** The `auditspan_meta` row that overrides DEFAULT_PART_ROWS (tests use small parts). */
export const PART_ROWS_META = 'search_part_rows';

export const textTable = (part: number): string => (part === 0 ? FTS_TABLE : `${FTS_TABLE}_p${part}`);
export const idsTable = (part: number): string => (part === 0 ? IDS_TABLE : `${IDS_TABLE}_p${part}`);

const ftsColumns = TEXT_COLUMNS.join(', ');

/** A statement of a step: `read` statements give their rows back to the generator. */
export interface Step {
  sql: string;
  params?: unknown[];
  read?: boolean;
}
export type Steps<T = void> = Generator<Step, T, unknown[]>;

interface PartRow {
  part: number;
  first_id: number;
  rows: number;
  min_ts_us: number | null;
  max_ts_us: number | null;
}

const integerOrNull = (v: number | null): string => (v === null || !Number.isSafeInteger(Number(v)) ? 'NULL' : String(Number(v)));

/** Recreates both views from the parts table: the newest part open, the others with their time range. */
function* rebuildViews(): Steps {
  const parts = (yield { sql: `SELECT part, min_ts_us, max_ts_us FROM ${PARTS_TABLE} ORDER BY part`, read: true }) as PartRow[];
  const newest = parts.length > 0 ? Number(parts[parts.length - 1].part) : -1;
  for (const [view, table] of [[TEXT_VIEW, textTable], [IDS_VIEW, idsTable]] as const) {
    yield { sql: `DROP VIEW IF EXISTS ${view}` };
    const branches = parts.map((p) => {
      const part = Number(p.part);
      const [lo, hi] = part === newest ? ['NULL', 'NULL'] : [integerOrNull(p.min_ts_us), integerOrNull(p.max_ts_us)];
      return `SELECT rowid, ${table(part)}, ${lo}, ${hi} FROM ${table(part)}`;
    });
    // With no part (never after migration 012), a view of no rows keeps readers working.
    const body = branches.length > 0 ? branches.join(' UNION ALL ') : 'SELECT NULL, NULL, NULL, NULL WHERE 0';
    yield { sql: `CREATE VIEW ${view}(id, m, lo, hi) AS ${body}` };
  }
}

function* createPartTables(part: number): Steps {
  yield { sql: `CREATE VIRTUAL TABLE ${textTable(part)} USING fts5(${ftsColumns}, content='', tokenize='trigram', detail='none', columnsize=0)` };
  yield { sql: `CREATE VIRTUAL TABLE ${idsTable(part)} USING fts5(k, content='', detail='none', columnsize=0)` };
}

const CURRENT_PART =
  `SELECT part, rows, coalesce((SELECT CAST(value AS INTEGER) FROM auditspan_meta WHERE name = '${PART_ROWS_META}'), ${DEFAULT_PART_ROWS}) AS cap ` +
  `FROM ${PARTS_TABLE} ORDER BY part DESC LIMIT 1`;
const HAS_PARTS = `SELECT name FROM sqlite_master WHERE type = 'table' AND name = '${PARTS_TABLE}'`;
const SEARCH_TABLES = `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('${PARTS_TABLE}', '${FTS_TABLE}', '${IDS_TABLE}')`;

const indexText = (table: string): string => `INSERT INTO ${table}(rowid, ${ftsColumns}) SELECT id, ${ftsColumns} FROM logs WHERE id > ?`;
const indexIds = (table: string): string => `INSERT INTO ${table}(rowid, k) SELECT id, ${idTokens('l')} FROM logs AS l WHERE id > ?`;

/**
 * Indexes the rows a write transaction added, those with an id above `bound` (SQLite gives each
 * new row one more than the largest id, and has one writer), into the newest part — begun anew
 * first when the newest holds its share of rows. Without the parts table (a database migrated
 * down, benchmarks that drop tables) the single tables that exist are written as before 012.
 */
export function* indexSteps(bound: number): Steps {
  const tables = ((yield { sql: SEARCH_TABLES, read: true }) as Array<{ name: string }>).map((t) => t.name);
  if (!tables.includes(PARTS_TABLE)) {
    if (tables.includes(FTS_TABLE)) yield { sql: indexText(FTS_TABLE), params: [bound] };
    if (tables.includes(IDS_TABLE)) yield { sql: indexIds(IDS_TABLE), params: [bound] };
    return;
  }
  const [current] = (yield { sql: CURRENT_PART, read: true }) as Array<{ part: number; rows: number; cap: number }>;
  let part = Number(current.part);
  if (Number(current.rows) >= Math.max(1, Number(current.cap))) {
    part += 1;
    yield { sql: `INSERT INTO ${PARTS_TABLE} (part, first_id, rows) VALUES (?, ?, 0)`, params: [part, bound + 1] };
    yield* createPartTables(part);
    yield* rebuildViews();
  }
  yield { sql: indexText(textTable(part)), params: [bound] };
  yield { sql: indexIds(idsTable(part)), params: [bound] };
  // The batch's rows and time range added to the part's (their min and max are NULL for none).
  yield {
    sql: `UPDATE ${PARTS_TABLE} AS p SET (rows, min_ts_us, max_ts_us) = (SELECT p.rows + count(*), ` +
      'coalesce(min(p.min_ts_us, min(ts_us)), min(ts_us), p.min_ts_us), coalesce(max(p.max_ts_us, max(ts_us)), max(ts_us), p.max_ts_us) ' +
      'FROM logs WHERE id > ?) WHERE part = ?',
    params: [bound, part],
  };
}

/** `indexSteps` in a knex transaction. */
export const indexNewRows = (trx: Knex.Transaction, bound: number): Promise<void> => runSteps(trx, indexSteps(bound));
/** `indexSteps` in a better-sqlite3 transaction. */
export const indexNewRowsSync = (db: BetterSqlite3.Database, bound: number): void => runStepsSync(db, indexSteps(bound));

/**
 * Drops the parts none of whose rows is left (retention took them), the newest excepted.
 * Each part goes in a transaction of its own, which begins with its write (the DELETE of its
 * row, conditional), so that it takes the write lock before anything else.
 */
export async function dropEmptyParts(knex: Knex): Promise<number> {
  if (((await knex.raw(HAS_PARTS)) as unknown[]).length === 0) return 0;
  const parts = (await knex.raw(`SELECT part, first_id FROM ${PARTS_TABLE} ORDER BY part`)) as PartRow[];
  let dropped = 0;
  for (let i = 0; i < parts.length - 1; i++) {
    const [part, from, to] = [Number(parts[i].part), Number(parts[i].first_id), Number(parts[i + 1].first_id)];
    const gone = await knex.transaction(async (trx) => {
      await trx.raw(`DELETE FROM ${PARTS_TABLE} WHERE part = ? AND NOT EXISTS (SELECT 1 FROM logs WHERE id >= ? AND id < ?)`, [part, from, to]);
      const [{ n }] = (await trx.raw('SELECT changes() AS n')) as Array<{ n: number }>;
      if (Number(n) === 0) return false;
      for (const table of [textTable(part), idsTable(part)]) await trx.raw(`DROP TABLE IF EXISTS ${table}`);
      await runSteps(trx, rebuildViews());
      return true;
    });
    if (gone) dropped += 1;
  }
  return dropped;
}

/** Runs steps on a knex connection or transaction. */
export async function runSteps<T>(knex: Knex | Knex.Transaction, steps: Steps<T>): Promise<T> {
  let next = steps.next([]);
  while (!next.done) {
    const { sql, params = [] } = next.value;
    const rows = (await knex.raw(sql, params as Knex.RawBinding[])) as unknown;
    next = steps.next(Array.isArray(rows) ? rows : []);
  }
  return next.value;
}

const statementsByConnection = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

/** Runs steps synchronously on better-sqlite3, each statement prepared once per connection. */
export function runStepsSync<T>(db: BetterSqlite3.Database, steps: Steps<T>): T {
  let cache = statementsByConnection.get(db);
  if (!cache) statementsByConnection.set(db, (cache = new Map()));
  let next = steps.next([]);
  while (!next.done) {
    const { sql, params = [], read } = next.value;
    let statement = cache.get(sql);
    // DDL is run once and not kept: a dropped table's statement must not be reused.
    if (!statement) {
      statement = db.prepare(sql);
      if (statement.reader || /^(INSERT|UPDATE)/.test(sql)) cache.set(sql, statement);
    }
    if (read) {
      next = steps.next(statement.all(...params));
    } else {
      statement.run(...params);
      next = steps.next([]);
    }
  }
  return next.value;
}

/**
 * Migration 012: part 0 is made of the tables that exist, with the time range of every row
 * stored; their delete and update triggers go (rows are no longer taken out of the indexes).
 */
export async function createSearchParts(knex: Knex): Promise<void> {
  await knex.raw(`CREATE TABLE ${PARTS_TABLE} (part INTEGER PRIMARY KEY, first_id INTEGER NOT NULL, rows INTEGER NOT NULL, min_ts_us INTEGER, max_ts_us INTEGER)`);
  await knex.raw(`INSERT INTO ${PARTS_TABLE} (part, first_id, rows, min_ts_us, max_ts_us) SELECT 0, 0, count(*), min(ts_us), max(ts_us) FROM logs`);
  for (const table of [FTS_TABLE, IDS_TABLE]) {
    for (const suffix of ['delete', 'update']) await knex.raw(`DROP TRIGGER IF EXISTS ${table}_${suffix}`);
  }
  await runSteps(knex, rebuildViews());
}

/**
 * Back to one pair of tables kept by triggers (migrations 007 and 010): every part goes, and
 * both tables are made anew from the rows.
 */
export async function dropSearchParts(knex: Knex): Promise<void> {
  for (const view of [TEXT_VIEW, IDS_VIEW]) await knex.raw(`DROP VIEW IF EXISTS ${view}`);
  const parts = (await knex.raw(`SELECT part FROM ${PARTS_TABLE}`)) as PartRow[];
  for (const { part } of parts) for (const table of [textTable(Number(part)), idsTable(Number(part))]) await knex.raw(`DROP TABLE IF EXISTS ${table}`);
  await knex.raw(`DROP TABLE ${PARTS_TABLE}`);
  await createTrigramTable(knex);
  await createIdsTable(knex);
}

/**
 * Indexes every row of `logs` again, in parts (after bulk loads that bypassed the write paths):
 * the parts are dropped and made anew, `partRows` rows each. With SQLite's default page cache a
 * rebuild over 10 M rows re-reads its own pages from the OS for hours; with 1 GB it took 10
 * minutes (docs/benchmarks.md), so the connection gets that for the rebuild.
 */
export async function rebuildSearchParts(knex: Knex, partRows = DEFAULT_PART_ROWS): Promise<void> {
  await knex.transaction(async (trx) => {
    const [{ cache_size: cache }] = (await trx.raw('PRAGMA cache_size')) as Array<{ cache_size: number }>;
    await trx.raw('PRAGMA cache_size = -1000000');
    try {
      const parts = (await trx.raw(`SELECT part FROM ${PARTS_TABLE}`)) as PartRow[];
      for (const { part } of parts) for (const table of [textTable(Number(part)), idsTable(Number(part))]) await trx.raw(`DROP TABLE IF EXISTS ${table}`);
      await trx.raw(`DELETE FROM ${PARTS_TABLE}`);
      const ids = (await trx.raw('SELECT min(id) AS lo, max(id) AS hi FROM logs')) as Array<{ lo: number | null; hi: number | null }>;
      const [lo, hi] = [Number(ids[0].lo ?? 1), Number(ids[0].hi ?? 0)];
      let part = 0;
      for (let first = 0; part === 0 || first <= hi; part++) {
        const end = part === 0 ? lo + partRows : first + partRows;
        await trx.raw(`INSERT INTO ${PARTS_TABLE} (part, first_id, rows) VALUES (?, ?, 0)`, [part, first]);
        await runSteps(trx, createPartTables(part));
        await trx.raw(`INSERT INTO ${textTable(part)}(rowid, ${ftsColumns}) SELECT id, ${ftsColumns} FROM logs WHERE id >= ? AND id < ?`, [first, end]);
        await trx.raw(`INSERT INTO ${idsTable(part)}(rowid, k) SELECT id, ${idTokens('l')} FROM logs AS l WHERE id >= ? AND id < ?`, [first, end]);
        await trx.raw(
          `UPDATE ${PARTS_TABLE} SET (rows, min_ts_us, max_ts_us) = (SELECT count(*), min(ts_us), max(ts_us) FROM logs WHERE id >= ? AND id < ?) WHERE part = ?`,
          [first, end, part],
        );
        first = end;
      }
      await runSteps(trx, rebuildViews());
    } finally {
      await trx.raw(`PRAGMA cache_size = ${Number(cache)}`);
    }
  });
}
