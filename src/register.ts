/**
 * `node --import auditspan/register app.js` (or `-r auditspan/register`):
 * starts auditing from the environment (AUDITSPAN_*, OTEL_*) and flushes on
 * SIGTERM, SIGINT and before exit, so a graceful shutdown loses no request.
 */
import { isMainThread } from 'node:worker_threads';
import { ConfigError, loadConfig } from './config';
import { register, type AuditHandle } from './instrumentation/register';

function start(): AuditHandle | undefined {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    // Loud, one line, and the app still runs: a typo in an env var must not take an API down.
    const message = err instanceof ConfigError ? err.message : String(err);
    process.stderr.write(`auditspan: ${message}; requests are NOT being audited\n`);
    return undefined;
  }
  return register({
    db: config.db,
    sqliteSynchronous: config.sqliteSynchronous,
    record: { maxPayloadBytes: config.maxPayloadBytes, redaction: { extraKeys: config.redactKeys } },
    ignorePaths: config.ignorePaths,
    trustProxy: config.trustProxy,
    linkBaseUrl: config.linkBaseUrl,
    serviceName: config.serviceName,
  });
}

const EXIT_FLUSH_MS = 5000;

function installExitHooks(handle: AuditHandle): void {
  let flushing: Promise<void> | undefined;
  const flush = (): Promise<void> => {
    // Bounded: a database that is down must not hold the process hostage at exit.
    flushing ??= handle.forceFlush(EXIT_FLUSH_MS).catch((err: unknown) => {
      process.stderr.write(`auditspan: exiting with audit rows unwritten (database unreachable?): ${(err as Error).message}\n`);
    });
    return flushing;
  };
  // The event loop ran empty: write what is left (bounded), then let the connections go so
  // that the process can end. No SDK shutdown here: it would flush again, unbounded.
  process.once('beforeExit', () => {
    void flush().then(() => handle.releaseWhenIdle());
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = (): void => {
      // When the app handles the signal itself it decides when to exit: keep recording the
      // requests it drains, but stop holding database connections open once idle.
      const appHandles = process.listenerCount(signal) > 1;
      handle.releaseWhenIdle();
      void flush().then(() => {
        if (appHandles) return;
        process.removeListener(signal, onSignal);
        // Default behaviour: terminate by the same signal (exit status 128 + n).
        process.kill(process.pid, signal);
      });
    };
    process.on(signal, onSignal);
  }
}

// Worker threads inherit `--import`/`-r`: audit the process once, from its main thread.
const handle = isMainThread ? start() : undefined;
if (handle) installExitHooks(handle);
