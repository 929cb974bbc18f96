/**
 * Finding one request: the search language of `q` (pure), the SQL each kind of term becomes,
 * and the indexes that serve it (created by migration 007, which calls `createSearchIndexes`).
 *
 *   traceId:4bf92f3577b34da6a3ce929d0e0e4736   id:1796184367697000-c4fab98d35c80a11
 *   requestId:req-42   ip:203.0.113.7   clientId:client-3   company:acme   token:prod-billing
 *   declined "card expired"   text:"a:b"                       (plain words: text)
 *
 * Terms are AND-ed. Plain words match as case-insensitive substrings of the URL, the error
 * message and the (redacted) request and response payloads. A bare log id, or an
 * `X-Request-Log-Url` link (`…/logs/<id>`), finds that one log.
 *
 * On PostgreSQL the trigram GIN and the B-tree indexes are ordinary indexes of `logs` (and of
 * each of its partitions). On SQLite, trace and request ids are looked up in an FTS5 table of
 * id tokens instead of B-trees (sqlite-indexes.ts: random keys cost a page write per row), and
 * both FTS5 tables are filled by the write paths, a batch at a time (docs/storage.md#search).
 */
import type { Knex } from 'knex';
import { parseLogId } from '../record/log-id';
import { InvalidSearchError } from './errors';
import type { Dialect } from './url';

export type SearchField = 'id' | 'traceId' | 'requestId' | 'ip' | 'clientId' | 'company' | 'token' | 'text';

export interface SearchTerm {
  field: SearchField;
  value: string;
}


/** Prefixes, lowercased (they are matched case-insensitively). */
const PREFIXES: Record<string, SearchField> = {
  id: 'id', logid: 'id',
  traceid: 'traceId', trace: 'traceId',
  requestid: 'requestId', request: 'requestId',
  ip: 'ip', clientip: 'ip',
  clientid: 'clientId', client: 'clientId',
  company: 'company', companyid: 'company',
  token: 'token',
  text: 'text',
};

/** The prefixes as documented (one name per field). */
export const SEARCH_PREFIXES = ['id', 'traceId', 'requestId', 'ip', 'clientId', 'company', 'token', 'text'] as const;

/** Kept request headers that carry a request id, first present wins (src/record keeps both by default). */
export const REQUEST_ID_HEADERS = ['x-request-id', 'x-correlation-id'] as const;

const MAX_TERMS = 12;
const LOG_LINK = /\/logs\/([^/?#\s]+)/;

/** The log id in an `X-Request-Log-Url` link or a UI permalink, or null. */
export function logIdFromLink(text: string): string | null {
  const m = LOG_LINK.exec(text);
  if (!m) return null;
  let id: string;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return null;
  }
  return parseLogId(id) ? id : null;
}

/** Splits on whitespace; `"…"` keeps spaces (as a whole term or as a prefix's value). */
function lex(q: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < q.length) {
    if (/\s/.test(q[i])) {
      i++;
      continue;
    }
    let token = '';
    while (i < q.length && !/\s/.test(q[i])) {
      if (q[i] === '"') {
        const end = q.indexOf('"', i + 1);
        if (end < 0) throw new InvalidSearchError(`unterminated quote at character ${i + 1}: close it with another "`);
        token += q.slice(i, end + 1);
        i = end + 1;
      } else {
        token += q[i++];
      }
    }
    out.push(token);
  }
  return out;
}

const unquote = (s: string): string => s.replace(/"/g, '');

function term(field: SearchField, raw: string, name: string): SearchTerm {
  const value = unquote(raw).trim();
  if (value === '') throw new InvalidSearchError(`${name}: needs a value (${name}:…)`);
  switch (field) {
    case 'id': {
      const id = parseLogId(value) ? value : logIdFromLink(value);
      if (!id) throw new InvalidSearchError(`${name}: "${value.slice(0, 60)}" is not a log id (<start µs>-<span id>) or a link to one`);
      return { field, value: id };
    }
    case 'traceId':
      if (!/^[0-9a-f]{32}$/i.test(value)) throw new InvalidSearchError(`${name}: a trace id is 32 hexadecimal digits, not "${value.slice(0, 60)}"`);
      return { field, value: value.toLowerCase() };
    default:
      return { field, value };
  }
}

/**
 * Reads `q` into terms. Throws InvalidSearchError naming the problem: an unknown prefix, a
 * prefix without a value, a malformed trace or log id, an unterminated quote, a NUL character.
 */
export function parseSearch(q: string): SearchTerm[] {
  // Neither database can compare it: PostgreSQL text cannot hold it, SQLite ends a pattern at it.
  if (q.includes('\u0000')) throw new InvalidSearchError('search text cannot contain the NUL character (U+0000)');
  const terms: SearchTerm[] = [];
  for (const token of lex(q)) {
    if (token.startsWith('"')) {
      const value = unquote(token);
      if (value.trim() !== '') terms.push({ field: 'text', value });
      continue;
    }
    const prefixed = /^([A-Za-z][A-Za-z0-9_-]*):(.*)$/s.exec(token);
    if (prefixed && /^https?$/i.test(prefixed[1]) && prefixed[2].startsWith('//')) {
      // A pasted link: the log it names, else the URL as text.
      const id = logIdFromLink(token);
      terms.push(id ? { field: 'id', value: id } : { field: 'text', value: token });
    } else if (prefixed) {
      const field = PREFIXES[prefixed[1].toLowerCase()];
      if (!field) {
        throw new InvalidSearchError(
          `unknown search prefix "${prefixed[1].slice(0, 30)}:" (known: ${SEARCH_PREFIXES.map((p) => `${p}:`).join(' ')}); put text containing ":" in quotes`,
        );
      }
      terms.push(term(field, prefixed[2], prefixed[1]));
    } else if (parseLogId(token) || logIdFromLink(token)) {
      terms.push({ field: 'id', value: parseLogId(token) ? token : (logIdFromLink(token) as string) });
    } else {
      terms.push({ field: 'text', value: token });
    }
    if (terms.length > MAX_TERMS) throw new InvalidSearchError(`at most ${MAX_TERMS} search terms`);
  }
  return terms;
}

// ---------------------------------------------------------------------------------------------
// SQL

/** The columns plain words are searched in. */
export const TEXT_COLUMNS = ['url', 'error', 'request_payload', 'response_payload'] as const;
/** SQLite: the FTS5 table (trigram tokenizer, external content = logs, rowid = logs.id). */
export const FTS_TABLE = 'logs_search';
/** PostgreSQL: the text the trigram index covers (the expression must match the index's). */
const PG_TEXT = `(${TEXT_COLUMNS.map((c) => `coalesce(${c}, '')`).join(` || E'\\n' || `)})`;

/** The request id of a row, from its kept headers (an index of this very expression serves `requestId:`). */
export function requestIdSql(dialect: Dialect): string {
  if (dialect === 'postgres') return `coalesce(${REQUEST_ID_HEADERS.map((h) => `(request_headers::json ->> '${h}')`).join(', ')})`;
  // json_valid guards the insert: a malformed value (never written by auditspan) must not fail it.
  return `(CASE WHEN json_valid(request_headers) THEN coalesce(${REQUEST_ID_HEADERS.map((h) => `json_extract(request_headers, '$."${h}"')`).join(', ')}) END)`;
}

/** B-tree indexes for the id-like prefixes (both databases; on the parent table when partitioned). */
const ID_INDEXES: Array<[string, string[]]> = [
  ['logs_trace_id', ['trace_id']],
  ['logs_client_ip_ts', ['client_ip', 'ts_us', 'id']],
  ['logs_client_id_ts', ['client_id', 'ts_us', 'id']],
];
const REQUEST_ID_INDEX = 'logs_request_id';
const TRGM_INDEX = 'logs_search_trgm';

/** Escapes LIKE wildcards so user text matches literally (ESCAPE '\\'). */
export const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Substring condition without an index (scanned rows; also SQLite's check of wildcard characters). */
function scanText(dialect: Dialect, value: string) {
  const pattern = likePattern(value);
  return (w: Knex.QueryBuilder): void => {
    if (dialect === 'postgres') {
      w.whereRaw(`${PG_TEXT} ILIKE ? ESCAPE '\\'`, [pattern]);
      return;
    }
    // SQLite's LIKE is case-insensitive for ASCII.
    w.where((o) => {
      for (const c of TEXT_COLUMNS) o.orWhereRaw(`${c} LIKE ? ESCAPE '\\'`, [pattern]);
    });
  };
}

/** The time window of a query, in microseconds ([fromUs, toUs)), that SQLite's search parts are pruned by. */
export interface SearchWindow {
  fromUs?: number;
  toUs?: number;
}

/**
 * SQLite: the candidate row ids of a MATCH through one of the search views (search-parts.ts),
 * reading only the parts whose time range meets the window. Candidates are a superset: entries
 * of purged rows, and rows with every trigram of a word but not the word; the caller checks
 * the row's own values.
 */
function partCandidates(view: string, match: string, window: SearchWindow) {
  return (sub: Knex.QueryBuilder): void => {
    sub.select('id').from(view).whereRaw('m MATCH ?', [match]);
    if (window.fromUs !== undefined) sub.whereRaw('(hi IS NULL OR hi >= ?)', [window.fromUs]);
    if (window.toUs !== undefined) sub.whereRaw('(lo IS NULL OR lo < ?)', [window.toUs]);
  };
}

/** Trigrams a word's candidates are looked up by: this many spread over the word, and its last. */
const MAX_TRIGRAMS = 6;

/**
 * The FTS5 query of a word's trigrams, each a quoted string (`"` doubled), AND-ed: the rows
 * holding all of them. (FTS5's own LIKE needs the row's text, which a contentless part lacks.)
 */
export function trigramQuery(value: string): string | undefined {
  const chars = [...value];
  const all = [...new Set(chars.slice(0, -2).map((_, i) => chars.slice(i, i + 3).join('')))];
  if (all.length === 0) return undefined;
  const step = Math.max(1, all.length / MAX_TRIGRAMS);
  const picked = new Set<string>();
  for (let i = 0; i < all.length && picked.size < MAX_TRIGRAMS; i += step) picked.add(all[Math.floor(i)]);
  picked.add(all[all.length - 1]);
  return [...picked].map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
}

/** Substring condition through the index made for it. */
function indexedText(dialect: Dialect, value: string, window: SearchWindow) {
  return (w: Knex.QueryBuilder): void => {
    if (dialect === 'postgres') {
      w.whereRaw(`${PG_TEXT} ILIKE ? ESCAPE '\\'`, [likePattern(value)]);
      return;
    }
    // The trigram index cannot look up fewer than three characters: such words are scanned.
    const trigrams = trigramQuery(value);
    if (trigrams !== undefined) w.whereIn('id', partCandidates(TEXT_VIEW, trigrams, window));
    scanText(dialect, value)(w);
  };
}

/** SQLite: the FTS5 table of id tokens (sqlite-indexes.ts). */
export const IDS_TABLE = 'logs_ids';
/** SQLite: the unions of the search indexes' parts, (id, m, lo, hi) each (search-parts.ts). */
export const TEXT_VIEW = 'logs_search_all';
export const IDS_VIEW = 'logs_ids_all';
/** Its token for a trace id (lowercase hex). */
const traceIdToken = (traceId: string): string => `"t${traceId}"`;
/** Its token for a request id: the id's UTF-8 bytes in hex, as SQLite's hex() writes them. */
const requestIdToken = (requestId: string): string => `"r${Buffer.from(requestId, 'utf8').toString('hex').toUpperCase()}"`;

/** SQLite: the rows whose id tokens hold this one; the row's own value is compared as well. */
function idLookup(qb: Knex.QueryBuilder, token: string, window: SearchWindow): void {
  qb.whereIn('id', partCandidates(IDS_VIEW, token, window));
}

/** How plain words are matched: through their index, by scanning, or not at all (a probe adds them). */
export type TextMode = 'index' | 'scan' | 'none';

/** Applies search terms to a query on `logs` (use with `.modify()`); bound parameters only. */
export function applySearch(dialect: Dialect, terms: readonly SearchTerm[], text: TextMode = 'index', window: SearchWindow = {}) {
  return (qb: Knex.QueryBuilder): void => {
    for (const t of terms) {
      switch (t.field) {
        case 'id': {
          const parts = parseLogId(t.value);
          if (parts?.kind === 'time') qb.where({ ts_us: parts.timestampUs, span_id: parts.spanId });
          else if (parts) qb.where({ trace_id: parts.traceId, span_id: parts.spanId });
          break;
        }
        case 'traceId':
          qb.where('trace_id', t.value);
          if (dialect === 'sqlite') idLookup(qb, traceIdToken(t.value), window);
          break;
        case 'requestId':
          qb.whereRaw(`${requestIdSql(dialect)} = ?`, [t.value]);
          if (dialect === 'sqlite') idLookup(qb, requestIdToken(t.value), window);
          break;
        case 'ip': qb.where('client_ip', t.value); break;
        case 'clientId': qb.where('client_id', t.value); break;
        // AND-ed with the key's own scope: a viewer naming another company finds nothing.
        case 'company': qb.where('company_id', t.value); break;
        case 'token': qb.where('token_name', t.value); break;
        case 'text':
          if (text === 'index') indexedText(dialect, t.value, window)(qb);
          else if (text === 'scan') scanText(dialect, t.value)(qb);
          break;
      }
    }
  };
}

export const hasText = (terms: readonly SearchTerm[]): boolean => terms.some((t) => t.field === 'text');

/**
 * A first page with plain words: the newest this-many rows matching the other filters are
 * scanned first, then (only when the word was seen there but not a page of it) this many more.
 * A common word fills its page from them at once; its index entries would be counted in the
 * millions (9–11 s for a word in 1 row of 40 at 1 M rows on SQLite, loaded machine). A word
 * absent from the newest rows is rare: the index answers it.
 */
export const PROBE_ROWS = [2000, 50_000] as const;

// ---------------------------------------------------------------------------------------------
// DDL (migration 007)

/** Why the trigram index could not be made, when it could not (PostgreSQL without pg_trgm). */
export type SearchIndexOutcome = { trigram: true } | { trigram: false; reason: string };

const textValues = (row: string): string => TEXT_COLUMNS.map((c) => `${row}.${c}`).join(', ');

/**
 * SQLite: the trigram table over every row stored, kept by triggers on delete and update
 * (migration 007; migration 012 splits it into parts and drops the triggers: search-parts.ts).
 * detail=none keeps only row ids per trigram (the smallest index; a search checks the row's
 * own text). No insert trigger: the write paths index their new rows themselves.
 */
export async function createTrigramTable(knex: Knex): Promise<void> {
  const columns = TEXT_COLUMNS.join(', ');
  await knex.raw(`CREATE VIRTUAL TABLE ${FTS_TABLE} USING fts5(${columns}, content='logs', content_rowid='id', tokenize='trigram', detail='none')`);
  await knex.raw(`CREATE TRIGGER ${FTS_TABLE}_delete AFTER DELETE ON logs BEGIN
    INSERT INTO ${FTS_TABLE}(${FTS_TABLE}, rowid, ${columns}) VALUES ('delete', old.id, ${textValues('old')}); END`);
  await knex.raw(`CREATE TRIGGER ${FTS_TABLE}_update AFTER UPDATE OF ${columns} ON logs BEGIN
    INSERT INTO ${FTS_TABLE}(${FTS_TABLE}, rowid, ${columns}) VALUES ('delete', old.id, ${textValues('old')});
    INSERT INTO ${FTS_TABLE}(rowid, ${columns}) VALUES (new.id, ${textValues('new')}); END`);
  // The backfill: every row already stored.
  await knex.raw(`INSERT INTO ${FTS_TABLE}(${FTS_TABLE}) VALUES ('rebuild')`);
}

/** The insert trigger of the trigram table, as migration 007 made it before 010 (whose down restores it). */
export async function createTrigramInsertTrigger(knex: Knex): Promise<void> {
  await knex.raw(`CREATE TRIGGER IF NOT EXISTS ${FTS_TABLE}_insert AFTER INSERT ON logs BEGIN
    INSERT INTO ${FTS_TABLE}(rowid, ${TEXT_COLUMNS.join(', ')}) VALUES (new.id, ${textValues('new')}); END`);
}

export async function createSearchIndexes(knex: Knex, dialect: Dialect): Promise<SearchIndexOutcome> {
  for (const [name, columns] of ID_INDEXES) await knex.schema.alterTable('logs', (t) => t.index(columns, name));
  await knex.raw(`CREATE INDEX ${REQUEST_ID_INDEX} ON logs ((${requestIdSql(dialect)}))`);
  if (dialect === 'sqlite') {
    await createTrigramTable(knex);
    return { trigram: true };
  }
  try {
    // In a savepoint: a server without the contrib package must not abort the migration.
    await knex.transaction((trx) => trx.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm'));
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    process.emitWarning(
      `auditspan: PostgreSQL extension pg_trgm is not available (${reason}); text search works but scans rows. ` +
        'Install the contrib package (postgresql-contrib) and run `auditspan migrate` again after `CREATE EXTENSION pg_trgm`.',
    );
    return { trigram: false, reason };
  }
  await knex.raw(`CREATE INDEX ${TRGM_INDEX} ON logs USING gin (${PG_TEXT} gin_trgm_ops)`);
  return { trigram: true };
}

export async function dropSearchIndexes(knex: Knex, dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') {
    for (const suffix of ['insert', 'delete', 'update']) await knex.raw(`DROP TRIGGER IF EXISTS ${FTS_TABLE}_${suffix}`);
    await knex.raw(`DROP TABLE IF EXISTS ${FTS_TABLE}`);
  } else {
    await knex.raw(`DROP INDEX IF EXISTS ${TRGM_INDEX}`);
  }
  await knex.raw(`DROP INDEX IF EXISTS ${REQUEST_ID_INDEX}`);
  for (const [name] of ID_INDEXES) await knex.raw(`DROP INDEX IF EXISTS ${name}`);
}
