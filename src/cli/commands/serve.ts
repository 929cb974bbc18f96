import type { Command } from 'commander';
import { loadConfig, SETTINGS, type SettingName } from '../../config';
import { startServer, type ServerHandle } from '../serve';
import { settingOption, settingOverrides } from '../options';

export const SERVE_SETTINGS: SettingName[] = [
  'db', 'host', 'port', 'otlpPort', 'otlpGrpcPort', 'ingestToken', 'adminKey', 'retentionDays',
  'maxBodyBytes', 'traceUrlTemplate', 'adminKeyFile', 'ingestTokenFile', 'publicUrl',
  'sqliteSynchronous', 'sqliteCacheMb', 'otlpMaxInflightBytes',
];

/** Whether a secret's flag has a `--<flag>-file` sibling setting (admin key, ingest token). */
const fileFlag = (flag: string): boolean => Object.values(SETTINGS).some((s) => 'flag' in s && s.flag === `${flag}-file`);

/** Secrets given as flags are visible to every local user (`ps`, /proc/<pid>/cmdline): say so. */
export function warnAboutSecretFlags(opts: Record<string, unknown>, names: SettingName[]): void {
  for (const name of names) {
    const spec = SETTINGS[name];
    if (spec.kind !== 'secret' || typeof opts[name] !== 'string' || !('flag' in spec)) continue;
    process.stderr.write(
      `auditspan: warning: --${spec.flag} on the command line is visible to other local users (ps); ` +
        `prefer ${spec.env}${fileFlag(spec.flag) ? ` or --${spec.flag}-file` : ''}\n`,
    );
  }
}

/** Closes the server on SIGTERM/SIGINT: stop accepting, commit in-flight batches, close the DB. */
export function closeOnSignals(handle: ServerHandle, extra?: () => Promise<void>): void {
  let closing = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), msg: 'shutting down', signal })}\n`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    void (async () => {
      await extra?.().catch(() => undefined);
      await handle.close();
      process.exit(0);
    })();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

export function registerServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description('run the UI and query API (8080) and the OTLP receivers (4318 HTTP, 4317 gRPC)');
  for (const name of SERVE_SETTINGS) command.addOption(settingOption(name));
  command.action(async (opts: Record<string, unknown>) => {
    warnAboutSecretFlags(opts, SERVE_SETTINGS);
    const config = loadConfig(process.env, settingOverrides(opts, SERVE_SETTINGS));
    const handle = await startServer(config);
    closeOnSignals(handle);
  });
}
