import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { CliError } from '../errors';
import { envOption, settingOption, settingOverrides } from '../options';
import { startServer } from '../serve';
import { seedHistory, startTraffic } from '../demo/traffic';
import { closeOnSignals, SERVE_SETTINGS } from './serve';

const DIST = resolve(__dirname, '..', '..');
export const DEMO_DB = './auditspan-demo.db';

function positiveInt(flag: string, raw: string, allowZero = false): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || (!allowZero && n === 0) || n > 1_000_000) {
    throw new CliError(`${flag}: "${raw}" is not a ${allowZero ? 'whole number' : 'positive whole number'}`, 2);
  }
  return n;
}

/** Starts the instrumented sample API in a child process; resolves with its port once it listens. */
function startDemoApp(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(join(DIST, 'cli', 'demo', 'app.js'), [], {
      execArgv: ['--import', join(DIST, 'register.mjs')],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (msg: { ready?: boolean; port?: number }) => {
      if (msg.ready && msg.port) resolvePromise({ child, port: msg.port });
    });
    child.once('exit', (code) => reject(new CliError(`the demo API exited before it was ready (code ${code})`)));
    child.once('error', (err) => reject(new CliError(`cannot start the demo API: ${err.message}`)));
  });
}

export function registerDemoCommand(program: Command): void {
  const command = program
    .command('demo')
    .description('serve, plus a sample instrumented API and generated traffic: logs within seconds');
  for (const name of SERVE_SETTINGS) command.addOption(settingOption(name, name === 'db' ? DEMO_DB : undefined));
  command
    .addOption(envOption('--app-port <port>', 'port of the sample API', 'AUDITSPAN_DEMO_APP_PORT', '3000'))
    .addOption(envOption('--rate <n>', 'requests per second sent to the sample API', 'AUDITSPAN_DEMO_RATE', '5'))
    .addOption(envOption('--history <n>', 'past requests (last 24 h) filed through OTLP when the database is empty; 0 for none', 'AUDITSPAN_DEMO_HISTORY', '3000'))
    .action(async (opts: { appPort: string; rate: string; history: string } & Record<string, unknown>) => {
      const appPort = positiveInt('--app-port', opts.appPort, true);
      const rate = positiveInt('--rate', opts.rate);
      const history = positiveInt('--history', opts.history, true);
      if (appPort > 65535) throw new CliError(`--app-port: ${appPort} is not a port`, 2);
      const overrides = settingOverrides(opts, SERVE_SETTINGS);
      const config = loadConfig({ AUDITSPAN_DB: DEMO_DB, ...process.env }, overrides);

      const server = await startServer(config);
      let app: { child: ChildProcess; port: number } | undefined;
      try {
        if (history > 0 && (await server.store.countLogs({})) === 0) {
          await seedHistory(server.urls.otlpHttp, history, 24);
        }
        app = await startDemoApp({
          ...process.env,
          PORT: String(appPort),
          AUDITSPAN_DB: config.db,
          OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME ?? 'payments-api',
          AUDITSPAN_LINK_BASE_URL: server.urls.ui.replace(/\/$/, ''),
        });
      } catch (err) {
        await server.close();
        throw err;
      }
      const appUrl = `http://127.0.0.1:${app.port}`;
      const stopTraffic = startTraffic(appUrl, rate, (err) => {
        process.stderr.write(`auditspan demo: traffic to ${appUrl} is failing: ${err.message}\n`);
      });
      process.stdout.write(
        [
          '',
          `  auditspan demo is running`,
          `  UI:          ${server.urls.ui}`,
          `  sample API:  ${appUrl}  (try: curl -H 'Authorization: Bearer sk_live_acme_9f8e7d6c5b4a' ${appUrl}/v1/customers/cus_1049 -i)`,
          `  OTLP:        ${server.urls.otlpHttp}  and grpc://${server.urls.otlpGrpc}`,
          `  database:    ${config.db}`,
          `  Ctrl-C stops it.`,
          '',
        ].join('\n') + '\n',
      );
      const child = app.child;
      child.once('exit', (code, signal) => {
        if (signal === 'SIGTERM' || code === 0) return;
        process.stderr.write(`auditspan demo: the sample API stopped (code ${code}); shutting down\n`);
        process.kill(process.pid, 'SIGTERM');
      });
      closeOnSignals(server, async () => {
        stopTraffic();
        if (child.exitCode === null) {
          // The app flushes its audit rows on SIGTERM before it exits.
          await new Promise<void>((r) => {
            child.once('exit', () => r());
            child.kill('SIGTERM');
          });
        }
      });
    });
}
