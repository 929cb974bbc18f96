import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { openStore } from '../../store';
import { parseDbUrl } from '../../store/url';
import type { Store } from '../../store/types';
import { parseDuration } from '../duration';
import { CliError, describeDb } from '../errors';
import { envOption, settingOption, settingOverrides } from '../options';

/** `--db` of a command that works on an existing database (a mistyped path must not create one). */
export function existingDbOption(what: string) {
  return settingOption('db', undefined, `${what}: a SQLite file that exists, or a postgres:// URL`);
}

/**
 * Opens the store named by --db / AUDITSPAN_DB (migrated), with a one-line error when it cannot.
 * `command` set: the database must exist already (a SQLite file is never created by it).
 */
export async function openCliStore(opts: Record<string, unknown>, command?: string): Promise<Store> {
  const config = loadConfig(process.env, settingOverrides(opts, ['db']));
  if (command) {
    let target: ReturnType<typeof parseDbUrl>;
    try {
      target = parseDbUrl(config.db);
    } catch (err) {
      throw new CliError(`${command}: --db: ${(err as Error).message.replace(/^auditspan: /, '')}`, 2);
    }
    if (target.dialect === 'sqlite' && target.target !== ':memory:' && !existsSync(target.target)) {
      throw new CliError(`${command}: no database at ${target.target} (check --db / AUDITSPAN_DB; \`auditspan migrate --db ${target.target}\` creates one)`);
    }
  }
  try {
    return await openStore({ url: config.db, partitionHours: config.partitionHours });
  } catch (err) {
    throw new CliError(`cannot open database ${describeDb(config.db)}: ${(err as Error).message}`);
  }
}

export async function withStore<T>(opts: Record<string, unknown>, fn: (store: Store) => Promise<T>, command?: string): Promise<T> {
  const store = await openCliStore(opts, command);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('create or upgrade the database schema (serve does this at start too)')
    .addOption(settingOption('db', undefined, 'database to create or upgrade: SQLite file path (created if missing) or postgres:// URL'))
    .action(async (opts: Record<string, unknown>) => {
      await withStore(opts, async () => {
        const { db } = loadConfig(process.env, settingOverrides(opts, ['db']));
        process.stdout.write(`database ${describeDb(db)} is up to date\n`);
      });
    });
}

export function registerPurgeCommand(program: Command): void {
  program
    .command('purge')
    .description('delete audit rows older than a given age, in batches')
    .addOption(envOption('--older-than <age>', 'age like 30d, 12h, 2w (required)', 'AUDITSPAN_PURGE_OLDER_THAN'))
    .addOption(envOption('--dry-run', 'only count the rows that would be deleted', 'AUDITSPAN_PURGE_DRY_RUN'))
    .addOption(existingDbOption('database to purge'))
    .action(async (opts: { olderThan?: string; dryRun?: boolean } & Record<string, unknown>) => {
      if (!opts.olderThan) throw new CliError('purge: --older-than is required (e.g. --older-than 30d)', 2);
      const cutoff = Date.now() - parseDuration(opts.olderThan, '--older-than');
      await withStore(opts, async (store) => {
        const when = new Date(cutoff).toISOString();
        if (opts.dryRun) {
          const n = await store.countLogs({ to: cutoff });
          process.stdout.write(`${n} rows older than ${when} would be deleted\n`);
          return;
        }
        const deleted = await store.purgeOlderThan(cutoff);
        process.stdout.write(`deleted ${deleted} rows older than ${when}\n`);
      }, 'purge');
    });
}
