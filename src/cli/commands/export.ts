import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { ApiError, csvHeader, csvRow, ndjsonRow, parseQuery, toFilter } from '../../query-api';
import { CliError } from '../errors';
import { envOption } from '../options';
import { Progress } from '../progress';
import { existingDbOption, withStore } from './maintenance';

interface ExportFlags {
  format: string;
  out?: string;
  from?: string;
  to?: string;
  endpoint?: string[];
  method?: string;
  status?: string;
  token?: string[];
  q?: string;
  minLatencyMs?: string;
  maxLatencyMs?: string;
  company?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The same validation as the query API: flags map to its parameter names. */
function filterFromFlags(flags: ExportFlags) {
  const query: Record<string, string | string[]> = {};
  for (const key of ['from', 'to', 'endpoint', 'method', 'status', 'token', 'q', 'minLatencyMs', 'maxLatencyMs', 'company'] as const) {
    const value = flags[key];
    if (value !== undefined) query[key] = value;
  }
  try {
    const parsed = parseQuery('facets', query);
    return { ...toFilter(parsed), ...(parsed.company !== undefined ? { companyId: parsed.company } : {}) };
  } catch (err) {
    if (err instanceof ApiError) {
      const flag = err.param ? `--${err.param.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'filter';
      throw new CliError(`export: ${flag}: ${err.message.replace(/^\w+: /, '')}`, 2);
    }
    throw err;
  }
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('stream matching audit rows as CSV or NDJSON (the query API filters as flags)')
    .addOption(envOption('--format <format>', 'csv or ndjson', 'AUDITSPAN_EXPORT_FORMAT', 'ndjson'))
    .addOption(envOption('--out <file>', 'write to a file instead of stdout', 'AUDITSPAN_EXPORT_OUT'))
    .addOption(envOption('--from <time>', 'ISO 8601 or epoch ms (inclusive)', 'AUDITSPAN_EXPORT_FROM'))
    .addOption(envOption('--to <time>', 'ISO 8601 or epoch ms (exclusive)', 'AUDITSPAN_EXPORT_TO'))
    .addOption(envOption('--endpoint <route>', 'route template; repeatable', 'AUDITSPAN_EXPORT_ENDPOINT').argParser(collect))
    .addOption(envOption('--method <list>', 'comma-separated methods', 'AUDITSPAN_EXPORT_METHOD'))
    .addOption(envOption('--status <list>', 'comma-separated 2xx…5xx or codes', 'AUDITSPAN_EXPORT_STATUS'))
    .addOption(envOption('--token <name>', 'token name; repeatable', 'AUDITSPAN_EXPORT_TOKEN').argParser(collect))
    .addOption(envOption('--q <text>', 'search: words in URL, error and payloads, or traceId:, requestId:, ip:, clientId:, company:, token:, id: (docs/query-api.md)', 'AUDITSPAN_EXPORT_Q'))
    .addOption(envOption('--min-latency-ms <ms>', 'minimum latency', 'AUDITSPAN_EXPORT_MIN_LATENCY_MS'))
    .addOption(envOption('--max-latency-ms <ms>', 'maximum latency', 'AUDITSPAN_EXPORT_MAX_LATENCY_MS'))
    .addOption(envOption('--company <id>', 'only this company', 'AUDITSPAN_EXPORT_COMPANY'))
    .addOption(existingDbOption('database to export from'))
    .action(async (flags: ExportFlags & Record<string, unknown>) => {
      if (flags.format !== 'csv' && flags.format !== 'ndjson') throw new CliError(`export: --format must be csv or ndjson, not "${flags.format}"`, 2);
      const filter = filterFromFlags(flags);
      await withStore(flags, async (store) => {
        const out: Writable = flags.out ? createWriteStream(flags.out) : process.stdout;
        if (flags.out) await once(out, 'open').catch((err: Error) => { throw new CliError(`export: cannot write ${flags.out}: ${err.message}`); });
        const progress = new Progress(process.stderr.isTTY ? await store.countLogs(filter) : 0);
        let done = 0;
        const csv = flags.format === 'csv';
        // A reader that goes away (`auditspan export | head`) ends the export quietly, exit 0.
        let closed = false;
        const onError = (err: NodeJS.ErrnoException): void => {
          if (err.code === 'EPIPE') closed = true;
        };
        if (!flags.out) out.on('error', onError);
        try {
          if (csv) await write(out, csvHeader());
          for await (const log of store.exportLogs(filter)) {
            if (closed) break;
            await write(out, csv ? csvRow(log) : ndjsonRow(log));
            done += 1;
            if (done % 500 === 0) progress.update(done);
          }
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
          closed = true;
        }
        if (closed) return;
        progress.finish(done);
        if (flags.out) {
          await new Promise<void>((resolve) => out.end(() => resolve()));
          process.stderr.write(`exported ${done} rows to ${flags.out}\n`);
        }
      }, 'export');
    });
}
