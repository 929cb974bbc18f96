import type { Command } from 'commander';
import { generateApiKey } from '../../query-api';
import { ConflictError, NotFoundError } from '../../store/errors';
import type { ApiKeyInfo } from '../../store/types';
import { CliError } from '../errors';
import { envOption, settingOption } from '../options';
import { existingDbOption, withStore } from './maintenance';

const NAME_RE = /^[\w.@:-]{1,100}$/;

function table(keys: ApiKeyInfo[]): string {
  const rows = [['NAME', 'COMPANY', 'CREATED', 'LAST USED', 'STATUS']];
  for (const k of keys) {
    rows.push([
      k.name,
      k.companyId ?? '(all: admin)',
      k.createdAt,
      k.lastUsedAt ?? 'never',
      k.revokedAt ? `revoked ${k.revokedAt}` : 'active',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('manage query API keys (only a hash of each key is stored)');

  keys
    .command('create')
    .description('create a key and print it once')
    .addOption(envOption('--name <label>', 'unique label, shown in logs of who viewed what (required)', 'AUDITSPAN_KEY_NAME'))
    .addOption(envOption('--company <id>', 'the company whose logs this key may read', 'AUDITSPAN_KEY_COMPANY'))
    .addOption(envOption('--admin', 'a key that reads every company instead', 'AUDITSPAN_KEY_ADMIN'))
    .addOption(settingOption('db', undefined, 'database the key is stored in: SQLite file path (created with its schema if missing, as by migrate) or postgres:// URL'))
    .action(async (opts: { name?: string; company?: string; admin?: boolean } & Record<string, unknown>) => {
      if (!opts.name) throw new CliError('keys create: --name is required', 2);
      if (!NAME_RE.test(opts.name)) {
        throw new CliError('keys create: --name may hold letters, digits and . _ - @ : (at most 100)', 2);
      }
      if (!opts.company && !opts.admin) throw new CliError('keys create: give --company <id>, or --admin for a key that sees every company', 2);
      if (opts.company && opts.admin) throw new CliError('keys create: --company and --admin exclude each other', 2);
      await withStore(opts, async (store) => {
        const { key, hash } = generateApiKey();
        try {
          await store.createApiKey({ name: opts.name as string, companyId: opts.company ?? null, hash });
        } catch (err) {
          if (err instanceof ConflictError) throw new CliError(`keys create: a key named "${opts.name}" already exists`);
          throw err;
        }
        process.stdout.write(`${key}\n`);
        process.stderr.write(
          `created key "${opts.name}" for ${opts.company ? `company ${opts.company}` : 'all companies (admin)'}; ` +
            'it is shown only this once\n',
        );
      });
    });

  keys
    .command('list')
    .description('list keys: names, companies, created, last used (never the keys)')
    .addOption(envOption('--json', 'print JSON', 'AUDITSPAN_KEYS_JSON'))
    .addOption(existingDbOption('database whose keys are listed'))
    .action(async (opts: { json?: boolean } & Record<string, unknown>) => {
      await withStore(opts, async (store) => {
        const list = await store.listApiKeys();
        if (opts.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        else process.stdout.write(list.length === 0 ? 'no keys\n' : `${table(list)}\n`);
      }, 'keys list');
    });

  keys
    .command('revoke')
    .description('revoke a key by name or id; it stops working within seconds')
    .argument('<name-or-id>', 'the key name (or numeric id) from `keys list`')
    .addOption(existingDbOption('database holding the key'))
    .action(async (nameOrId: string, opts: Record<string, unknown>) => {
      await withStore(opts, async (store) => {
        try {
          const info = await store.revokeApiKey(nameOrId);
          process.stdout.write(`revoked key "${info.name}"\n`);
        } catch (err) {
          if (err instanceof NotFoundError) throw new CliError(`keys revoke: no key named "${nameOrId}"`);
          throw err;
        }
      }, 'keys revoke');
    });
}
