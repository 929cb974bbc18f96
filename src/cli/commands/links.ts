import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { createViewLink, LINK_SECRET_NAME, linkSecret, MAX_LINK_TTL_SECONDS, MIN_LINK_TTL_SECONDS } from '../../query-api/links';
import { parseDuration } from '../duration';
import { CliError } from '../errors';
import { envOption, settingOption, settingOverrides } from '../options';
import { refuseWeakSecrets } from '../serve';
import { withStore } from './maintenance';

export function registerLinksCommand(program: Command): void {
  const links = program.command('links').description('customer view links: signed, expiring, one company, no key to hand out');

  links
    .command('create')
    .description('print a view link for one company (the same as POST /api/links)')
    .addOption(envOption('--company <id>', 'the company whose logs the link shows (required)', 'AUDITSPAN_LINK_COMPANY'))
    .addOption(envOption('--ttl <duration>', 'how long the link works: 90m, 12h, 30d, 2w', 'AUDITSPAN_LINK_TTL', '24h'))
    .addOption(envOption('--json', 'print { "url", "expiresAt" } as JSON', 'AUDITSPAN_LINK_JSON'))
    .addOption(settingOption('publicUrl', 'http://127.0.0.1:8080'))
    .addOption(settingOption('db'))
    .action(async (opts: { company?: string; ttl: string; json?: boolean } & Record<string, unknown>) => {
      if (!opts.company || opts.company.trim() === '' || opts.company.length > 256) {
        throw new CliError('links create: --company <id> is required (at most 256 characters)', 2);
      }
      const ttlSeconds = Math.floor(parseDuration(opts.ttl, '--ttl') / 1000);
      if (ttlSeconds < MIN_LINK_TTL_SECONDS || ttlSeconds > MAX_LINK_TTL_SECONDS) {
        throw new CliError('--ttl: a link lasts from 1 minute to 366 days', 2);
      }
      const config = loadConfig(process.env, settingOverrides(opts, ['db', 'publicUrl']));
      refuseWeakSecrets({ linkSecret: config.linkSecret });
      await withStore(opts, async (store) => {
        const link = createViewLink(await linkSecret(store, config.linkSecret), config.publicUrl ?? 'http://127.0.0.1:8080', opts.company as string, ttlSeconds);
        if (opts.json) process.stdout.write(`${JSON.stringify(link)}\n`);
        else {
          process.stdout.write(`${link.url}\n`);
          process.stderr.write(`view link for company ${opts.company}, valid until ${link.expiresAt}\n`);
        }
      });
    });

  links
    .command('rotate-secret')
    .description('replace the signing secret kept in the database: every link handed out stops working')
    .addOption(settingOption('db'))
    .action(async (opts: Record<string, unknown>) => {
      const config = loadConfig(process.env, {});
      if (config.linkSecret) throw new CliError('links rotate-secret: AUDITSPAN_LINK_SECRET is set, so the database secret is not used; change that variable instead');
      await withStore(opts, async (store) => {
        await store.serverSecret(LINK_SECRET_NAME, { rotate: true });
        process.stdout.write('rotated the view-link secret: links handed out before no longer work (a running server within 30 seconds)\n');
      });
    });
}
