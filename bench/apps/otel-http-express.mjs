// Second baseline for the overhead benchmark: what a typical OpenTelemetry express user already
// pays — NodeSDK with the http and express instrumentations (a span per request and one per
// middleware layer) and a BatchSpanProcessor whose exporter discards spans.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

const discard = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} };
const sdk = new NodeSDK({
  spanProcessors: [new BatchSpanProcessor(discard)],
  instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()],
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
process.on('SIGTERM', () => { sdk.shutdown().finally(() => process.exit(0)); });
