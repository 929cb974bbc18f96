import { expect } from 'chai';
import type { AuditRecord } from '../../src/record/types';
import { InvalidSearchError } from '../../src/store';
import { MIGRATION_CONFIG } from '../../src/store/migrations';
import { toRow } from '../../src/store/rows';
import { IDS_VIEW, parseSearch, TEXT_VIEW, trigramQuery } from '../../src/store/search';
import { idsTable, PART_ROWS_META, PARTS_TABLE, textTable } from '../../src/store/search-parts';
import { expectedIds, logId } from '../helpers/expected';
import { generateRecords } from '../helpers/fixtures';
import { forEachStore } from '../helpers/stores';
import { walk } from '../helpers/pages';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const DAY = 86_400_000;

/** A row that alone carries each searchable value. */
function needle(seed: number, overrides: Partial<AuditRecord>): AuditRecord {
  const [r] = generateRecords(1, seed, { endMs: NOW - DAY, spanMs: DAY });
  return { ...r, ...overrides };
}

const NEEDLE = needle(9001, {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  clientIp: '198.51.100.23',
  clientId: 'client-needle',
  companyId: 'globex',
  tokenName: 'globex-needle',
  requestHeaders: { 'content-type': 'application/json', 'x-request-id': 'req-needle-42' },
  requestPayload: '{"note":"gift for a Quokka on Zanzibar","amount":5}',
  responsePayload: '{"error":{"message":"card expired"}}',
  status: 402,
  error: 'payment required: card expired',
});
const CORRELATED = needle(9002, { requestHeaders: { 'x-correlation-id': 'corr-needle-7' }, companyId: 'acme' });
const WILDCARD = needle(9003, { requestPayload: '{"code":"100%_off"}', companyId: 'acme' });
const FIXTURES = [...generateRecords(900, 21, { endMs: NOW, spanMs: 3 * DAY }), NEEDLE, CORRELATED, WILDCARD];

const PREFIX_CASES: Array<[string, string, AuditRecord]> = [
  ['log id', `id:${logId(NEEDLE)}`, NEEDLE],
  ['bare log id', logId(NEEDLE), NEEDLE],
  ['X-Request-Log-Url link', `https://audit.example.com/logs/${logId(NEEDLE)}`, NEEDLE],
  ['trace id', `traceId:${NEEDLE.traceId.toUpperCase()}`, NEEDLE],
  ['request id (x-request-id)', 'requestId:req-needle-42', NEEDLE],
  ['request id (x-correlation-id)', 'requestId:corr-needle-7', CORRELATED],
  ['client IP', 'ip:198.51.100.23', NEEDLE],
  ['client id', 'clientId:client-needle', NEEDLE],
  ['token name', 'token:globex-needle', NEEDLE],
  ['a word in the request payload', 'zanzibar', NEEDLE],
  ['words in the payload and the error, any case', 'QUOKKA "card expired"', NEEDLE],
  ['text with LIKE wildcards', '100%_off', WILDCARD],
  ['prefix and words', 'company:globex zanzibar', NEEDLE],
];

forEachStore('search', ({ store, dialect }) => {
  before(async () => {
    await store().insertBatch(FIXTURES);
  });

  /**
   * SQLite: each part of the search indexes is sound, and every row is found through the views
   * by its trace id token and by the trigrams of its URL.
   */
  async function ftsConsistent(): Promise<void> {
    if (dialect !== 'sqlite') return;
    const parts = (await store().raw.raw(`SELECT part FROM ${PARTS_TABLE}`)) as Array<{ part: number }>;
    for (const { part } of parts) {
      for (const table of [textTable(part), idsTable(part)]) await store().raw.raw(`INSERT INTO ${table}(${table}) VALUES ('integrity-check')`);
    }
    const rows = (await store().raw('logs').select('id', 'trace_id', 'url')) as Array<{ id: number; trace_id: string; url: string }>;
    for (const r of rows) {
      const byId = (await store().raw.raw(`SELECT id FROM ${IDS_VIEW} WHERE m MATCH ?`, [`"t${r.trace_id}"`])) as Array<{ id: number }>;
      expect(byId.map((f) => Number(f.id)), r.trace_id).to.include(Number(r.id));
      const byText = (await store().raw.raw(`SELECT id FROM ${TEXT_VIEW} WHERE m MATCH ?`, [trigramQuery(r.url) as string])) as Array<{ id: number }>;
      expect(byText.map((f) => Number(f.id)), r.url).to.include(Number(r.id));
    }
  }

  /** SQLite: the names of the tables and views of one kind (`type`) whose name starts with `logs`. */
  const schema = async (type: string): Promise<string[]> =>
    ((await store().raw.raw(`SELECT name FROM sqlite_master WHERE type = ? AND name LIKE 'logs%' ORDER BY name`, [type])) as Array<{ name: string }>).map((t) => t.name);

  describe('finds one request by each prefix', () => {
    for (const [name, q, row] of PREFIX_CASES) {
      it(name, async () => {
        const page = await store().listLogs({ q }, { limit: 50 });
        expect(page.data.map((l) => l.id)).to.deep.equal([logId(row)]);
        expect(await store().countLogs({ q })).to.equal(1);
      });
    }
  });

  it('returns exactly the matching rows, newest first, for common and rare words, page by page', async () => {
    for (const q of ['timeout', 'failed 40', 'v1/customers', 'eur', 'ab', 'company:acme token:prod-billing', 'ip:203.0.113.7', 'clientId:client-2 declined']) {
      const expected = expectedIds(FIXTURES, { q });
      expect(await walk(store(), { q }, 7), q).to.deep.equal(expected);
      expect(await walk(store(), { q }, 500), q).to.deep.equal(expected);
    }
  });

  it('reads FTS5 syntax and quotes in words as text', async () => {
    const planted = needle(9500, { requestPayload: '{"expr":"NEAR(kea) AND *moa* OR ^takahe"}' });
    await store().insertBatch([planted]);
    for (const q of ['NEAR(kea)', '*moa*', 'OR ^takahe', '"AND *moa"']) {
      expect((await store().listLogs({ q }, { limit: 5 })).data.map((l) => l.id), q).to.deep.equal([logId(planted)]);
    }
    for (const q of ['NEAR(zz', '"^q"', '"kea AND"', '(moa']) expect(await store().countLogs({ q }), q).to.equal(0);
    await store().raw('logs').where({ span_id: planted.spanId }).del();
  });

  it('keeps a search inside the caller\'s company whatever the prefix', async () => {
    for (const [name, q] of PREFIX_CASES.filter(([, , row]) => row === NEEDLE)) {
      expect((await store().listLogs({ q, companyId: 'acme' }, { limit: 50 })).data, name).to.deep.equal([]);
      expect(await store().countLogs({ q, companyId: 'acme' }), name).to.equal(0);
    }
    expect((await store().listLogs({ q: 'company:globex', companyId: 'acme' }, { limit: 50 })).data).to.deep.equal([]);
    expect((await store().stats({ q: 'zanzibar', companyId: 'acme' })).total).to.equal(0);
    expect((await store().stats({ q: 'zanzibar', companyId: 'globex' })).total).to.equal(1);
  });

  it('keeps the text index in step with every write and with retention', async () => {
    const fresh = needle(9100, { timestampUs: (NOW - 40 * DAY) * 1000, requestPayload: '{"memo":"wombatsaurus"}', error: null, responsePayload: null });
    expect(await store().countLogs({ q: 'wombatsaurus' })).to.equal(0);
    await store().insertBatch([fresh]);
    // A replayed batch adds no second entry.
    await store().insertBatch([fresh]);
    expect((await store().listLogs({ q: 'wombatsaurus' }, { limit: 5 })).data.map((l) => l.id)).to.deep.equal([logId(fresh)]);
    await ftsConsistent();
    expect(await store().purgeOlderThan(NOW - 30 * DAY)).to.equal(1);
    expect(await store().countLogs({ q: 'wombatsaurus' })).to.equal(0);
    expect(await store().countLogs({ q: `traceId:${fresh.traceId}` })).to.equal(0);
    await ftsConsistent();
  });

  it('indexes exactly the new rows of a batch that mixes replayed and new spans', async () => {
    const a = needle(9300, { requestPayload: '{"memo":"quokkaquest"}' });
    const b = needle(9301, { requestPayload: '{"memo":"quokkaquest"}' });
    // Stored spans first, between and last: the batch's new rows are not its first ones.
    await store().insertBatch([FIXTURES[0], a, FIXTURES[1], b, FIXTURES[2]]);
    await ftsConsistent();
    expect((await store().listLogs({ q: 'quokkaquest' }, { limit: 5 })).data.map((l) => l.id).sort()).to.deep.equal([logId(a), logId(b)].sort());
    expect(await store().insertBatch([b, a])).to.deep.equal({ inserted: 0, duplicates: 2 });
    await ftsConsistent();
  });

  it('migration 010 moves a database made before it to the write-friendly indexes, ids and all', async function () {
    if (dialect !== 'sqlite') this.skip();
    expect(await schema('trigger')).to.deep.equal([]);
    await store().raw.migrate.down({ ...MIGRATION_CONFIG, name: '012_search_parts' });
    expect(await schema('trigger')).to.deep.equal(['logs_ids_delete', 'logs_ids_update', 'logs_search_delete', 'logs_search_update']);
    await store().raw.migrate.down({ ...MIGRATION_CONFIG, name: '010_sqlite_write_indexes' });
    expect(await schema('trigger')).to.deep.equal(['logs_search_delete', 'logs_search_insert', 'logs_search_update']);
    expect(await schema('index')).to.include.members(['logs_trace_id', 'logs_request_id', 'logs_latency_ts']);
    // Rows written the old way (by trigger), then migrated: found by every id, indexed once.
    const before = needle(9400, { requestPayload: '{"memo":"numbatnest"}', requestHeaders: { 'x-request-id': 'Req-Ünïcode/42 x' } });
    await store().raw('logs').insert(toRow(before, NOW));
    await store().migrate();
    expect(await schema('trigger')).to.deep.equal([]);
    expect(await schema('index')).to.not.include.members(['logs_trace_id']);
    expect(await schema('index')).to.not.include.members(['logs_request_id']);
    expect(await schema('index')).to.not.include.members(['logs_latency_ts']);
    await ftsConsistent();
    for (const q of ['numbatnest', 'requestId:"Req-Ünïcode/42 x"', `traceId:${before.traceId}`]) {
      expect((await store().listLogs({ q }, { limit: 5 })).data.map((l) => l.id), q).to.deep.equal([logId(before)]);
    }
    // A request id differing only in case is another id.
    expect(await store().countLogs({ q: 'requestId:"req-Ünïcode/42 x"' })).to.equal(0);
  });

  it('migration 007 indexes the rows already stored, and its down removes the indexes', async () => {
    if (dialect === 'sqlite') await store().raw.migrate.down({ ...MIGRATION_CONFIG, name: '012_search_parts' });
    await store().raw.migrate.down({ ...MIGRATION_CONFIG, name: '007_search' });
    const older = needle(9200, { requestPayload: '{"memo":"platypusparade"}', requestHeaders: { 'x-request-id': 'req-before-007' } });
    await store().insertBatch([older]);
    if (dialect === 'sqlite') {
      const tables = (await store().raw.raw(`SELECT name FROM sqlite_master WHERE name LIKE 'logs_search%'`)) as unknown[];
      expect(tables).to.deep.equal([]);
    } else {
      const res = await store().raw.raw(`SELECT indexname FROM pg_indexes WHERE tablename = 'logs' AND indexname IN ('logs_search_trgm', 'logs_request_id', 'logs_trace_id')`);
      expect(res.rows).to.deep.equal([]);
    }
    await store().migrate();
    await ftsConsistent();
    for (const q of ['platypusparade', 'requestId:req-before-007', `traceId:${older.traceId}`]) {
      expect((await store().listLogs({ q }, { limit: 5 })).data.map((l) => l.id), q).to.deep.equal([logId(older)]);
    }
    expect(await walk(store(), { q: 'eur' }, 50)).to.deep.equal(expectedIds([...FIXTURES, older], { q: 'eur' }));
  });

  it('uses the indexes made for it (no full scan)', async function () {
    const plans: Array<[string, RegExp]> = dialect === 'sqlite'
      ? [
          // Ids are tokens of an FTS5 table (sqlite-indexes.ts), then rows by their key.
          [`traceId:${NEEDLE.traceId}`, /SCAN logs_ids VIRTUAL TABLE INDEX/],
          ['requestId:req-needle-42', /SCAN logs_ids VIRTUAL TABLE INDEX/],
          ['ip:198.51.100.23', /USING INDEX logs_client_ip_ts/],
          ['clientId:client-needle', /USING INDEX logs_client_id_ts/],
          ['zanzibar', /VIRTUAL TABLE INDEX/],
        ]
      : [
          // Index names differ on a partitioned table (one index per partition): match the condition.
          [`traceId:${NEEDLE.traceId}`, /Index Cond: \(\(trace_id\)/],
          ['requestId:req-needle-42', /Index Cond: .*request_headers/],
          ['ip:198.51.100.23', /Index Cond: \(\(client_ip\)/],
          ['clientId:client-needle', /Index Cond: \(\(client_id\)/],
        ];
    if (dialect === 'postgres') {
      // A few hundred rows per partition: the planner rightly reads them whole, so the trigram
      // index is checked to be present on the table and on each partition (plans at scale: bench search).
      const res = await store().raw.raw(`SELECT count(*) AS n FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%' AND tablename LIKE 'logs%'`);
      const parts = await store().raw.raw(`SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'logs'::regclass`);
      expect(Number(res.rows[0].n)).to.equal(Number(parts.rows[0].n) + 1);
    }
    if (dialect === 'postgres') await store().raw.raw('ANALYZE logs');
    for (const [q, used] of plans) {
      const plan = await store().explainListLogs({ q });
      expect(plan, `${q}:\n${plan}`).to.match(used);
      if (dialect === 'sqlite') expect(plan, `${q}:\n${plan}`).to.not.match(/SCAN logs\b(?!_)/);
    }
  });
});

describe('search language', () => {
  it('reads prefixes case-insensitively, quoted values and phrases', () => {
    expect(parseSearch('TraceID:4BF92F3577B34DA6A3CE929D0E0E4736 ip:10.0.0.1 "card expired" company:"acme corp" words')).to.deep.equal([
      { field: 'traceId', value: '4bf92f3577b34da6a3ce929d0e0e4736' },
      { field: 'ip', value: '10.0.0.1' },
      { field: 'text', value: 'card expired' },
      { field: 'company', value: 'acme corp' },
      { field: 'text', value: 'words' },
    ]);
    expect(parseSearch('https://api.example.com/v1/charges')).to.deep.equal([{ field: 'text', value: 'https://api.example.com/v1/charges' }]);
    expect(parseSearch('http://localhost:8080/logs/1796184367697000-c4fab98d35c80a11?range=1h')).to.deep.equal([{ field: 'id', value: '1796184367697000-c4fab98d35c80a11' }]);
    expect(parseSearch('text:"a:b"')).to.deep.equal([{ field: 'text', value: 'a:b' }]);
  });

  for (const [q, message] of [
    ['colour:red', /unknown search prefix "colour:".*traceId:/],
    ['Error: timeout', /unknown search prefix "Error:".*quotes/],
    ['traceId:', /traceId: needs a value/],
    ['traceId:xyz', /32 hexadecimal digits/],
    ['id:nope', /not a log id/],
    ['"unterminated', /unterminated quote/],
    ['ab\u0000cd', /NUL character/],
    ['\u0000\u0000\u0000', /NUL character/],
    [Array(14).fill('w').join(' '), /at most 12 search terms/],
  ] as Array<[string, RegExp]>) {
    it(`rejects ${JSON.stringify(q.slice(0, 20))} naming the problem`, () => {
      expect(() => parseSearch(q)).to.throw(InvalidSearchError, message);
    });
  }
});

forEachStore('search indexes in parts', ({ store, dialect }) => {
  before(function () {
    if (dialect !== 'sqlite') this.skip();
  });

  const memo = (word: string, seed: number, ts: number): AuditRecord =>
    needle(seed, { timestampUs: ts * 1000, requestPayload: `{"memo":"kiwi ${word}"}`, error: null, responsePayload: null });
  /** Four rows a batch, and a part holds four rows: each batch below begins a part. */
  const A = [memo('aardvark0', 100, NOW - 40 * DAY), memo('aardvark1', 101, NOW - 40 * DAY + 1000), memo('aardvark2', 102, NOW - 40 * DAY + 2000), memo('aardvarklive', 103, NOW - DAY)];
  const B = [0, 1, 2, 3].map((i) => memo(`bison${i}`, 110 + i, NOW - 35 * DAY + i * 1000));
  const C = [0, 1, 2, 3].map((i) => memo(`caracal${i}`, 120 + i, NOW - 20 * DAY + i * 1000));
  // Late spans: written after C, stamped inside A's time.
  const D = [0, 1, 2, 3].map((i) => memo(`dingo${i}`, 130 + i, NOW - 40 * DAY + 500 + i));
  const E = [0, 1, 2, 3].map((i) => memo(`egret${i}`, 140 + i, NOW - i * 1000));
  const ALL = [...A, ...B, ...C, ...D, ...E];

  const parts = async (): Promise<number[]> =>
    ((await store().raw.raw(`SELECT part FROM ${PARTS_TABLE} ORDER BY part`)) as Array<{ part: number }>).map((p) => Number(p.part));
  const tables = async (): Promise<string[]> =>
    ((await store().raw.raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'logs\\_%' ESCAPE '\\' AND sql LIKE 'CREATE VIRTUAL%' ORDER BY name`)) as Array<{ name: string }>).map((t) => t.name);

  /** Every word and trace id found, and windowed searches agree with the rows (page by page). */
  async function searchesAgree(rows: AuditRecord[]): Promise<void> {
    for (const r of rows) {
      const word = /kiwi (\w+)/.exec(r.requestPayload ?? '')?.[1] as string;
      expect((await store().listLogs({ q: word }, { limit: 5 })).data.map((l) => l.id), word).to.deep.equal([logId(r)]);
      expect(await store().countLogs({ q: `traceId:${r.traceId}` }), word).to.equal(1);
    }
    const windows = [{}, { from: NOW - 39 * DAY }, { from: NOW - 41 * DAY, to: NOW - 39 * DAY }, { from: NOW - 36 * DAY, to: NOW - 19 * DAY }, { to: NOW - 30 * DAY }];
    for (const w of windows) {
      for (const q of ['kiwi', 'dingo', 'aardvark', `traceId:${D[2].traceId}`]) {
        const filter = { ...w, q };
        expect(await walk(store(), filter, 3), JSON.stringify(filter)).to.deep.equal(expectedIds(rows, filter));
      }
    }
  }

  it('begins a part when the newest is full, and finds every row in every part, by window too', async () => {
    await store().raw('auditspan_meta').insert({ name: PART_ROWS_META, value: '4' });
    for (const batch of [A, B, C, D, E]) await store().insertBatch(batch);
    // A replayed batch adds no row and begins no part.
    expect(await store().insertBatch(B)).to.deep.equal({ inserted: 0, duplicates: 4 });
    expect(await parts()).to.deep.equal([0, 1, 2, 3, 4]);
    await searchesAgree(ALL);
    // Closed parts carry their time range; the newest is open (late spans may land in it).
    const ranges = (await store().raw.raw(`SELECT part, min_ts_us, max_ts_us, rows FROM ${PARTS_TABLE} ORDER BY part`)) as Array<Record<string, number>>;
    expect(ranges.map((r) => [Number(r.min_ts_us), Number(r.max_ts_us), Number(r.rows)])).to.deep.equal(
      [A, B, C, D, E].map((batch) => [Math.min(...batch.map((r) => r.timestampUs)), Math.max(...batch.map((r) => r.timestampUs)), 4]),
    );
  });

  it('retention drops the parts none of whose rows is left, and searches skip the entries of purged rows', async () => {
    expect(await store().purgeOlderThan(NOW - 30 * DAY)).to.equal(11);
    // B and D are gone whole; A keeps one row, so its part stays with the entries of three purged rows.
    expect(await parts()).to.deep.equal([0, 2, 4]);
    expect(await tables()).to.deep.equal([idsTable(0), idsTable(2), idsTable(4), textTable(0), textTable(2), textTable(4)].sort());
    const kept = [A[3], ...C, ...E];
    await searchesAgree(kept);
    for (const word of ['aardvark0', 'bison1', 'dingo2']) expect(await store().countLogs({ q: word }), word).to.equal(0);
    // The next batch goes into the newest part, then a new one.
    const F = [0, 1, 2, 3].map((i) => memo(`ferret${i}`, 150 + i, NOW - 2 * DAY + i));
    await store().insertBatch(F);
    expect(await parts()).to.deep.equal([0, 2, 4, 5]);
    await searchesAgree([...kept, ...F]);
  });

  it('migration 012 goes down to one pair of tables and up again with every row found', async () => {
    const kept = (await store().raw('logs').select('trace_id')) as Array<{ trace_id: string }>;
    const rows = [A[3], ...C, ...E];
    await store().raw.migrate.down({ ...MIGRATION_CONFIG, name: '012_search_parts' });
    expect(await tables()).to.deep.equal(['logs_ids', 'logs_search']);
    await store().migrate();
    expect(await parts()).to.deep.equal([0]);
    expect(kept.length).to.equal(rows.length + 4);
    for (const r of rows) expect(await store().countLogs({ q: `traceId:${r.traceId}` })).to.equal(1);
    expect(await store().countLogs({ q: 'ferret' })).to.equal(4);
    expect(await store().countLogs({ q: 'kiwi' })).to.equal(rows.length + 4);
  });

  it('keeps every row findable when batches, replays and a purge run at once across many part changes', async () => {
    const before = Number((await store().raw('logs').count('* as n').first() as { n: number }).n);
    const rows = generateRecords(360, 77, { endMs: NOW, spanMs: 2 * DAY });
    const batches = Array.from({ length: 40 }, (_, i) => rows.slice(i * 9, i * 9 + 9));
    // 40 batches of 9 at once (parts of 4: a part begins with nearly every batch), each also
    // replayed, while retention purges everything older than a day.
    const [results, purged] = await Promise.all([
      Promise.all(batches.flatMap((b) => [store().insertBatch(b), store().insertBatch(b)])),
      store().purgeOlderThan(NOW - DAY),
    ]);
    expect(results.reduce((n, r) => n + r.inserted, 0)).to.equal(360);
    const left = Number((await store().raw('logs').count('* as n').first() as { n: number }).n);
    expect(left).to.equal(before + 360 - purged);
    const stored = (await store().raw('logs').select('trace_id')) as Array<{ trace_id: string }>;
    for (const { trace_id: traceId } of stored) expect(await store().countLogs({ q: `traceId:${traceId}` }), traceId).to.equal(1);
    // Parts cover contiguous id ranges, each with the rows written into it.
    const ranges = (await store().raw.raw(`SELECT part, first_id, rows FROM ${PARTS_TABLE} ORDER BY part`)) as Array<Record<string, number>>;
    expect(ranges.length).to.be.greaterThan(10);
    for (let i = 1; i < ranges.length; i++) expect(Number(ranges[i].first_id)).to.be.greaterThan(Number(ranges[i - 1].first_id));
    for (const { part } of ranges) {
      for (const table of [textTable(Number(part)), idsTable(Number(part))]) await store().raw.raw(`INSERT INTO ${table}(${table}) VALUES ('integrity-check')`);
    }
  });
});
