import type { Knex } from 'knex';
import { createSearchIndexes, dropSearchIndexes } from './search';
import { coverLatencyBinIndex, createSqliteWriteIndexes, dropSqliteWriteIndexes } from './sqlite-indexes';
import { createSearchParts, dropSearchParts } from './search-parts';
import { COARSE, createCoarseRollups, createRollupTable, rebuildRollups, ROLLUP_TABLE } from './rollups';
import { aheadTimestamps, DAY_US, ensurePartitions, isPartitioned } from './partitions';

/** Small facts about the database itself, one row per name. */
export const META_TABLE = 'auditspan_meta';
/** Rows with an id up to this value existed before 004 and also resolve by `<trace_id>-<span_id>`. */
export const LEGACY_ID_MAX = 'legacy_id_max';
const LEGACY_ID_INDEX = 'logs_trace_span_legacy';

/** The database a migration runs on. */
const dialectOf = (knex: Knex): 'sqlite' | 'postgres' => (knex.client.config.client === 'pg' ? 'postgres' : 'sqlite');

interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Indexes serve every documented filter newest-first with keyset pagination:
 * each ends in (ts_us, id) so `ORDER BY ts_us DESC, id DESC LIMIT n` reads the
 * index in order and stops early. Status classes use a stored column (range
 * predicates on status cannot use index order; see docs/storage.md).
 */
const LOG_INDEXES: Array<[string, string[]]> = [
  ['logs_ts', ['ts_us', 'id']],
  ['logs_company_ts', ['company_id', 'ts_us', 'id']],
  ['logs_endpoint_ts', ['endpoint', 'ts_us', 'id']],
  ['logs_token_ts', ['token_name', 'ts_us', 'id']],
  ['logs_class_ts', ['status_class', 'ts_us', 'id']],
  ['logs_status_ts', ['status', 'ts_us', 'id']],
  ['logs_method_ts', ['method', 'ts_us', 'id']],
  ['logs_company_endpoint_ts', ['company_id', 'endpoint', 'ts_us', 'id']],
  ['logs_company_class_ts', ['company_id', 'status_class', 'ts_us', 'id']],
];

const WIDE_INDEXES: Array<[string, string[]]> = [
  ['logs_endpoint_ts', ['endpoint', 'ts_us', 'id', 'status_class', 'token_name', 'method']],
  ['logs_token_ts', ['token_name', 'ts_us', 'id', 'status_class', 'endpoint', 'method']],
];

/** Migration 006: first pages of the filters the earlier indexes left to a scan (docs/storage.md#indexes). */
const PAGE_INDEXES: Array<[string, string[]]> = [
  // Latency bounds whose matches are rare: read by latency, then sorted by time (reads.ts).
  ['logs_latency_ts', ['latency_ms', 'ts_us', 'id']],
];

const MIGRATIONS: Migration[] = [
  {
    name: '001_logs',
    async up(knex) {
      await knex.schema.createTable('logs', (t) => {
        t.bigIncrements('id').primary();
        t.string('trace_id', 32).notNullable();
        t.string('span_id', 16).notNullable();
        t.bigInteger('ts_us').notNullable();
        t.string('method', 32).notNullable();
        t.text('url').notNullable();
        t.string('endpoint', 1024).notNullable();
        t.integer('status').notNullable();
        t.smallint('status_class').notNullable();
        t.double('latency_ms').notNullable();
        t.string('token_name', 256).nullable();
        t.string('client_ip', 256).nullable();
        t.string('user_agent', 1024).nullable();
        t.string('client_id', 256).nullable();
        t.string('company_id', 256).nullable();
        t.string('service', 256).nullable();
        t.text('request_payload').nullable();
        t.text('response_payload').nullable();
        t.text('request_headers').nullable();
        t.boolean('truncated').notNullable().defaultTo(false);
        t.text('error').nullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('updated_at').notNullable();
        t.unique(['trace_id', 'span_id'], { indexName: 'logs_trace_span' });
      });
      for (const [name, columns] of LOG_INDEXES) {
        await knex.schema.alterTable('logs', (t) => t.index(columns, name));
      }
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('logs');
    },
  },
  {
    name: '002_api_keys_and_views',
    async up(knex) {
      await knex.schema.createTable('api_keys', (t) => {
        t.increments('id').primary();
        t.string('name', 100).notNullable().unique();
        t.string('company_id', 256).nullable();
        t.string('key_hash', 128).notNullable().unique();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('last_used_at').nullable();
        t.bigInteger('revoked_at').nullable();
      });
      await knex.schema.createTable('log_views', (t) => {
        t.bigIncrements('id').primary();
        t.string('log_id', 64).notNullable();
        t.string('key_name', 100).notNullable();
        t.string('company_id', 256).nullable();
        t.bigInteger('viewed_at').notNullable();
        t.index(['log_id', 'viewed_at'], 'log_views_log');
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('log_views');
      await knex.schema.dropTableIfExists('api_keys');
    },
  },
  {
    // The endpoint and token indexes carry the other common filter columns after (ts_us, id):
    // a combined filter (endpoint + status class + token) is then checked on the index entry,
    // without reading the table row (SQLite, 1 M rows, in process: p95 5.7 ms → 2.2 ms).
    name: '003_wide_filter_indexes',
    async up(knex) {
      for (const [name, columns] of WIDE_INDEXES) {
        await knex.schema.alterTable('logs', (t) => t.dropIndex([], name));
        await knex.schema.alterTable('logs', (t) => t.index(columns, name));
      }
    },
    async down(knex) {
      for (const [name] of WIDE_INDEXES) {
        const narrow = LOG_INDEXES.find(([n]) => n === name)!;
        await knex.schema.alterTable('logs', (t) => t.dropIndex([], name));
        await knex.schema.alterTable('logs', (t) => t.index(narrow[1], name));
      }
    },
  },
  {
    // The unique key that makes inserts idempotent was (trace_id, span_id): random keys, so every
    // row dirtied its own leaf page of that index, which cost more than any other part of a write
    // and halved insert speed by 1 M rows (docs/storage.md). A retried span carries the same start
    // time, so (ts_us, span_id, trace_id) dedupes exactly as well, and its entries land at the
    // index's recent end like the rows themselves. Public ids become `<ts_us>-<span_id>`, a prefix
    // of this key. Ids handed out before (`<trace_id>-<span_id>`) keep resolving through a partial
    // index over the rows that existed then, which new rows never touch.
    name: '004_time_ordered_key',
    async up(knex) {
      await knex.schema.alterTable('logs', (t) => t.unique(['ts_us', 'span_id', 'trace_id'], { indexName: 'logs_ts_span' }));
      const { max } = (await knex('logs').max({ max: 'id' }).first()) as { max: number | string | null };
      await knex.schema.createTable(META_TABLE, (t) => {
        t.string('name', 64).primary();
        t.string('value', 256).notNullable();
      });
      await knex.schema.alterTable('logs', (t) => t.dropUnique(['trace_id', 'span_id'], 'logs_trace_span'));
      if (max === null) return;
      const legacyMax = Number(max);
      await knex.schema.alterTable('logs', (t) =>
        t.index(['trace_id', 'span_id'], LEGACY_ID_INDEX, { predicate: knex.whereRaw(`id <= ${legacyMax}`) }),
      );
      await knex(META_TABLE).insert({ name: LEGACY_ID_MAX, value: String(legacyMax) });
    },
    async down(knex) {
      await knex.raw(`DROP INDEX IF EXISTS ${LEGACY_ID_INDEX}`);
      await knex.schema.alterTable('logs', (t) => t.unique(['trace_id', 'span_id'], { indexName: 'logs_trace_span' }));
      await knex.schema.alterTable('logs', (t) => t.dropUnique(['ts_us', 'span_id', 'trace_id'], 'logs_ts_span'));
      await knex.schema.dropTableIfExists(META_TABLE);
    },
  },
  {
    // PostgreSQL only (SQLite unchanged): `logs` becomes range-partitioned by ts_us, a partition
    // per day, so that retention drops whole days and time-bounded queries read only the days of
    // their window (docs/storage.md, "Partitions"). A primary key of a partitioned table must hold
    // the partition key: it becomes (ts_us, id); ids keep their values and their sequence. The
    // rows are copied into the new table (docs/storage.md gives the cost per million rows).
    name: '005_partition_logs_by_time',
    async up(knex) {
      if (knex.client.config.client !== 'pg') return;
      const legacyMax = await readLegacyMax(knex);
      await knex.raw('ALTER TABLE logs DROP CONSTRAINT logs_ts_span');
      for (const name of [...LOG_INDEXES.map(([n]) => n), LEGACY_ID_INDEX]) await knex.raw(`DROP INDEX IF EXISTS ${name}`);
      await knex.raw('ALTER TABLE logs RENAME TO logs_unpartitioned');
      await knex.raw('ALTER TABLE logs_unpartitioned RENAME CONSTRAINT logs_pkey TO logs_unpartitioned_pkey');
      await knex.raw('CREATE TABLE logs (LIKE logs_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (ts_us)');
      await knex.raw('ALTER SEQUENCE logs_id_seq OWNED BY logs.id');
      const days = (await knex.raw(`SELECT DISTINCT ts_us - (((ts_us % ${DAY_US}) + ${DAY_US}) % ${DAY_US}) AS day FROM logs_unpartitioned`)) as { rows: Array<{ day: string }> };
      await ensurePartitions(knex, [...days.rows.map((r) => Number(r.day)), ...aheadTimestamps(Date.now(), DAY_US)], DAY_US);
      await knex.raw('INSERT INTO logs SELECT * FROM logs_unpartitioned');
      await knex.raw('DROP TABLE logs_unpartitioned');
      // Indexes are built once the rows are in (faster than maintaining them row by row); made
      // on the parent, each is created on every partition, present and future.
      await knex.raw('ALTER TABLE logs ADD CONSTRAINT logs_pkey PRIMARY KEY (ts_us, id)');
      await createLogIndexes(knex, legacyMax);
    },
    async down(knex) {
      if (knex.client.config.client !== 'pg' || !(await isPartitioned(knex))) return;
      const legacyMax = await readLegacyMax(knex);
      await knex.raw('CREATE TABLE logs_unpartitioned (LIKE logs INCLUDING DEFAULTS)');
      await knex.raw('INSERT INTO logs_unpartitioned SELECT * FROM logs');
      await knex.raw('ALTER SEQUENCE logs_id_seq OWNED BY logs_unpartitioned.id');
      await knex.raw('DROP TABLE logs');
      await knex.raw('ALTER TABLE logs_unpartitioned RENAME TO logs');
      await knex.raw('ALTER TABLE logs ADD CONSTRAINT logs_pkey PRIMARY KEY (id)');
      await createLogIndexes(knex, legacyMax);
    },
  },
  {
    // Rollups of every row per hour and per day (rollups.ts, docs/storage.md#rollups), built
    // from the rows already stored; and indexes for the first pages at 10 M rows.
    name: '006_rollups',
    async up(knex) {
      const dialect = knex.client.config.client === 'pg' ? 'postgres' : 'sqlite';
      await createRollupTable(knex, dialect);
      await rebuildRollups(knex, dialect);
      for (const [name, columns] of PAGE_INDEXES) await knex.schema.alterTable('logs', (t) => t.index(columns, name));
    },
    async down(knex) {
      for (const [name] of PAGE_INDEXES) await knex.raw(`DROP INDEX IF EXISTS ${name}`);
      await knex.schema.dropTableIfExists(ROLLUP_TABLE);
    },
  },
  {
    // Finding one request (docs/storage.md#search): B-tree indexes for trace id, client IP,
    // client id and the request id of the kept headers; plain words through an FTS5 trigram
    // table kept by triggers (SQLite) or a pg_trgm GIN index (PostgreSQL). Builds the indexes
    // over the rows already stored (the backfill; its cost per million rows is in the docs).
    name: '007_search',
    async up(knex) {
      await createSearchIndexes(knex, dialectOf(knex));
    },
    async down(knex) {
      await dropSearchIndexes(knex, dialectOf(knex));
    },
  },
  {
    // The audit of the audit log records exports too (kind 'export', its filters, no log id)
    // and is read newest first by time (GET /api/views).
    name: '009_view_kinds',
    async up(knex) {
      await knex.schema.alterTable('log_views', (t) => {
        t.string('kind', 16).notNullable().defaultTo('view');
        t.text('filters').nullable();
      });
      await knex.schema.alterTable('log_views', (t) => t.string('log_id', 64).nullable().alter());
      await knex.schema.alterTable('log_views', (t) => t.index(['viewed_at', 'id'], 'log_views_time'));
    },
    async down(knex) {
      await knex('log_views').whereNull('log_id').del();
      await knex.schema.alterTable('log_views', (t) => t.dropIndex([], 'log_views_time'));
      await knex.schema.alterTable('log_views', (t) => t.string('log_id', 64).notNullable().alter());
      await knex.schema.alterTable('log_views', (t) => {
        t.dropColumn('filters');
        t.dropColumn('kind');
      });
    },
  },
  {
    // SQLite: indexes that append instead of writing a random page per row — trace and request
    // ids in an FTS5 table of id tokens, latencies by bin then time — and the FTS5 tables filled
    // a batch at a time by the write paths (sqlite-indexes.ts, docs/storage.md#indexes).
    name: '010_sqlite_write_indexes',
    async up(knex) {
      if (dialectOf(knex) === 'sqlite') await createSqliteWriteIndexes(knex);
    },
    async down(knex) {
      if (dialectOf(knex) === 'sqlite') await dropSqliteWriteIndexes(knex);
    },
  },
  {
    // Coarse rollups (endpoint, method, company, status class) for the stats and endpoint
    // tables that filter on nothing else: a tenth to a thirtieth of the fine rollup rows to sum
    // (rollups.ts, docs/storage.md#rollups). Filled from the fine rollups in one statement.
    name: '011_coarse_rollups',
    async up(knex) {
      await createCoarseRollups(knex, dialectOf(knex));
    },
    async down(knex) {
      await knex.schema.dropTableIfExists(COARSE.table);
    },
  },
  {
    // SQLite: the search indexes split into parts by row id, so that writes merge one part's
    // segments and retention drops whole parts instead of deleting entries row by row
    // (search-parts.ts, docs/storage.md#search-indexes-in-parts-sqlite). Instant: the tables of 007 and 010
    // become part 0.
    name: '012_search_parts',
    async up(knex) {
      if (dialectOf(knex) === 'sqlite') await createSearchParts(knex);
    },
    async down(knex) {
      if (dialectOf(knex) === 'sqlite') await dropSearchParts(knex);
    },
  },
  {
    // SQLite: the latency-bin index of 010 also carries latency_ms and company_id, so that a
    // latency-bounded page checks its candidates in the index (sqlite-indexes.ts,
    // docs/storage.md#indexes). Rebuilds the index: about 16 s at 10 M rows.
    name: '013_sqlite_latency_index_covers',
    async up(knex) {
      if (dialectOf(knex) === 'sqlite') await coverLatencyBinIndex(knex, true);
    },
    async down(knex) {
      if (dialectOf(knex) === 'sqlite') await coverLatencyBinIndex(knex, false);
    },
  },
];

/** The legacy id bound of migration 004, or null when the database had no rows then. */
async function readLegacyMax(knex: Knex): Promise<number | null> {
  const row = (await knex(META_TABLE).where({ name: LEGACY_ID_MAX }).first('value')) as { value: string } | undefined;
  return row ? Number(row.value) : null;
}

/** The indexes of `logs` as migrations 001–004 leave them (on a partitioned table: on every partition). */
async function createLogIndexes(knex: Knex, legacyMax: number | null): Promise<void> {
  await knex.raw('ALTER TABLE logs ADD CONSTRAINT logs_ts_span UNIQUE (ts_us, span_id, trace_id)');
  for (const [name, narrow] of LOG_INDEXES) {
    const columns = WIDE_INDEXES.find(([n]) => n === name)?.[1] ?? narrow;
    await knex.raw(`CREATE INDEX ${name} ON logs (${columns.join(', ')})`);
  }
  if (legacyMax !== null && Number.isSafeInteger(legacyMax)) {
    await knex.raw(`CREATE INDEX ${LEGACY_ID_INDEX} ON logs (trace_id, span_id) WHERE id <= ${legacyMax}`);
  }
}

/** Migrations live in code (the package runs from dist/, no files are globbed). */
export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => ({ up: (k: Knex) => m.up(k), down: (k: Knex) => m.down(k) }),
};

export const MIGRATION_CONFIG: Knex.MigratorConfig = {
  migrationSource,
  tableName: 'auditspan_migrations',
};
