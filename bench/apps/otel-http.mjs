// Baseline for the overhead benchmark, as the issue states it: plain OpenTelemetry with the http
// instrumentation only and a BatchSpanProcessor whose exporter discards spans — one span per
// request, as under auditspan (which learns the route without express's layer spans).
import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

const discard = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} };
const sdk = new NodeSDK({
  spanProcessors: [new BatchSpanProcessor(discard)],
  instrumentations: [new HttpInstrumentation()],
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
process.on('SIGTERM', () => { sdk.shutdown().finally(() => process.exit(0)); });
