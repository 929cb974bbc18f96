/**
 * `node --import auditspan/register app.js` (or `-r auditspan/register`):
 * starts auditing from the environment (AUDITSPAN_*, OTEL_*) and flushes on
 * SIGTERM, SIGINT, before exit and at exit (process.exit(), an uncaught exception), so that
 * no answered request is lost however the process ends (bounded by AUDITSPAN_EXIT_TIMEOUT_MS).
 */
import { isMainThread } from 'node:worker_threads';
import { ConfigError, loadConfig } from './config';
import { register, type AuditHandle } from './instrumentation/register';

function start(): { handle: AuditHandle; exitTimeoutMs: number } | undefined {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    // Loud, one line, and the app still runs: a typo in an env var must not take an API down.
    const message = err instanceof ConfigError ? err.message : String(err);
    process.stderr.write(`auditspan: ${message}; requests are NOT being audited\n`);
    return undefined;
  }
  const handle = register({
    db: config.db,
    sqliteSynchronous: config.sqliteSynchronous,
    record: { maxPayloadBytes: config.maxPayloadBytes, redaction: { extraKeys: config.redactKeys } },
    ignorePaths: config.ignorePaths,
    trustProxy: config.trustProxy,
    linkBaseUrl: config.linkBaseUrl,
    serviceName: config.serviceName,
    exitTimeoutMs: config.exitTimeoutMs,
    maxQueueBytes: config.maxQueueBytes,
  });
  return { handle, exitTimeoutMs: config.exitTimeoutMs };
}

function installExitHooks(handle: AuditHandle, exitTimeoutMs: number): void {
  // The event loop ran empty: write what is left (bounded), then let the connections go so
  // that the process can end. No SDK shutdown here: it would flush again, unbounded. Should the
  // bound be reached, the 'exit' listener of register() says how many rows are lost (once).
  process.once('beforeExit', () => {
    void handle.forceFlush(exitTimeoutMs).then(
      () => handle.releaseWhenIdle(),
      () => handle.flushAtExit(0),
    );
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = (): void => {
      // When the app handles the signal itself it decides when to exit: keep recording the
      // requests it drains, but stop holding database connections open once idle (its exit
      // then passes through register()'s 'exit' listener).
      if (process.listenerCount(signal) > 1) {
        handle.releaseWhenIdle();
        return;
      }
      // Nobody else handles it: Node's default is to die at once, which skips 'exit'. Write the
      // rows of the requests already answered and flush the forwarding (bounded), hand over
      // synchronously whatever ended meanwhile, then die by the same signal, as the app would
      // have (exit status 128 + n). One stderr line counts the rows lost, if any.
      process.removeListener(signal, onSignal);
      const deadline = Date.now() + exitTimeoutMs;
      void handle.forceFlush(exitTimeoutMs).then(
        () => handle.flushAtExit(Math.max(0, deadline - Date.now())),
        () => handle.flushAtExit(0),
      ).finally(() => process.kill(process.pid, signal));
    };
    process.on(signal, onSignal);
  }
}

// Worker threads inherit `--import`/`-r`: audit the process once, from its main thread.
const started = isMainThread ? start() : undefined;
if (started) installExitHooks(started.handle, started.exitTimeoutMs);
