import { expect } from 'chai';
import type { AuditRecord } from '../../src/record/types';
import { InvalidSearchError } from '../../src/store';
import { MIGRATION_CONFIG } from '../../src/store/migrations';
import { toRow } from '../../src/store/rows';
import { parseSearch } from '../../src/store/search';
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

  /** SQLite: FTS5 checks its index against the logs table (external content). */
  async function ftsConsistent(): Promise<void> {
    if (dialect !== 'sqlite') return;
    await store().raw.raw(`INSERT INTO logs_search(logs_search, rank) VALUES ('integrity-check', 1)`);
    // The contentless id table cannot be checked against its rows (nor scanned): its own
    // structure is checked, then every row is looked up by its trace id token.
    await store().raw.raw(`INSERT INTO logs_ids(logs_ids) VALUES ('integrity-check')`);
    const rows = (await store().raw('logs').select('id', 'trace_id')) as Array<{ id: number; trace_id: string }>;
    for (const r of rows) {
      const found = (await store().raw.raw('SELECT rowid AS id FROM logs_ids WHERE logs_ids MATCH ?', [`"t${r.trace_id}"`])) as Array<{ id: number }>;
      expect(found.map((f) => Number(f.id)), r.trace_id).to.include(Number(r.id));
    }
  }

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
    if (dialect === 'sqlite') {
      // Retention took the purged row's id tokens out too.
      expect(await store().raw.raw('SELECT rowid FROM logs_ids WHERE logs_ids MATCH ?', [`"t${fresh.traceId}"`])).to.deep.equal([]);
    }
    await ftsConsistent();
    if (dialect === 'sqlite') {
      const [{ n }] = (await store().raw.raw(`SELECT count(*) AS n FROM logs_search WHERE request_payload LIKE '%wombatsaurus%'`)) as Array<{ n: number }>;
      expect(Number(n)).to.equal(0);
    }
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
    const schema = async (type: string): Promise<string[]> =>
      ((await store().raw.raw(`SELECT name FROM sqlite_master WHERE type = ? AND name LIKE 'logs%' ORDER BY name`, [type])) as Array<{ name: string }>).map((t) => t.name);
    const now = { triggers: ['logs_ids_delete', 'logs_ids_update', 'logs_search_delete', 'logs_search_update'] };
    expect(await schema('trigger')).to.deep.equal(now.triggers);
    await store().raw.migrate.down({ ...MIGRATION_CONFIG, name: '010_sqlite_write_indexes' });
    expect(await schema('trigger')).to.deep.equal(['logs_search_delete', 'logs_search_insert', 'logs_search_update']);
    expect(await schema('index')).to.include.members(['logs_trace_id', 'logs_request_id', 'logs_latency_ts']);
    // Rows written the old way (by trigger), then migrated: found by every id, indexed once.
    const before = needle(9400, { requestPayload: '{"memo":"numbatnest"}', requestHeaders: { 'x-request-id': 'Req-Ünïcode/42 x' } });
    await store().raw('logs').insert(toRow(before, NOW));
    await store().migrate();
    expect(await schema('trigger')).to.deep.equal(now.triggers);
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
    [Array(14).fill('w').join(' '), /at most 12 search terms/],
  ] as Array<[string, RegExp]>) {
    it(`rejects ${JSON.stringify(q.slice(0, 20))} naming the problem`, () => {
      expect(() => parseSearch(q)).to.throw(InvalidSearchError, message);
    });
  }
});
