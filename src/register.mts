// ESM entry of `node --import auditspan/register`: registers OpenTelemetry's
// loader hook so that ESM apps' imports (express, http) are patched, then
// starts auditing through the CommonJS entry.
import { register } from 'node:module';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

// Worker threads inherit `--import`: audit the process once, from its main thread.
if (isMainThread) {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const require = createRequire(import.meta.url);
  require('./register.js');
}
