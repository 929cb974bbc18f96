import type { IncomingMessage, ServerResponse } from 'node:http';
import { diag, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AuditSpanProcessor } from '../exporter/audit-span-processor';
import { WorkerSpanProcessor } from '../exporter/worker-span-processor';
import { RedactingSpanExporter } from '../exporter/redacting-exporter';
import type { WriterStats } from '../exporter/queue';
import { DEFAULT_KEPT_HEADERS, DEFAULT_MAX_PAYLOAD_BYTES, logIdAt, type RecordOptions } from '../record';
import type { Store } from '../store/types';
import { AuditSampler } from './sampler';
import { applyCapturedBodies, captureRequest, captureResponse, installBodyCapture } from './capture';
import { markIfAborted } from './abort';
import { RouteTemplateInstrumentation, reserveRouteTemplate, routeTemplate } from './routes';

export interface RegisterOptions {
  /** SQLite path or postgres:// URL; `off` records nothing locally (forwarding only). Default `./auditspan.db`. */
  db?: string;
  /** SQLite `synchronous` mode: `full` makes a written row survive a power loss too. Default `normal`. */
  sqliteSynchronous?: 'normal' | 'full';
  /** An already opened store; wins over `db`. */
  store?: Store;
  /** Mapping, redaction and body policy. */
  record?: RecordOptions;
  /** Request paths never recorded. Default /healthz, /readyz, /livez, /health, /favicon.ico. */
  ignorePaths?: string[];
  /** Take the client IP from Forwarded / X-Forwarded-For. Default false (socket peer address). */
  trustProxy?: boolean;
  /** When set, responses carry `X-Request-Log-Url: <base>/logs/<id>`. Default unset. */
  linkBaseUrl?: string;
  /** Also send spans over OTLP/HTTP here (full /v1/traces URL or a base URL); false disables. Default: OTEL_EXPORTER_OTLP_* env. */
  forwardUrl?: string | false;
  /** `service.name` of the spans. Default: OTEL_SERVICE_NAME or the SDK's default. */
  serviceName?: string;
  /** Audit rows held while the database is slow or down. Default 50 000. */
  maxQueue?: number;
  /** Request headers kept on spans and rows. Default: a small allowlist without credentials. */
  captureRequestHeaders?: string[];
  /** Bytes of span data held between the app's thread and the database (worker pipeline). Default 64 MiB. */
  maxQueueBytes?: number;
  /**
   * How long the process may be held at exit (`process.exit()`, an uncaught exception, a signal)
   * while the rows of requests already answered are written. Default 5000 ms.
   */
  exitTimeoutMs?: number;
}

export interface AuditHandle {
  /** Writes everything recorded so far; rejects after `timeoutMs` (default 30 s) with what is left. */
  forceFlush(timeoutMs?: number): Promise<void>;
  /** Flushes, then stops the SDK. */
  shutdown(): Promise<void>;
  /**
   * Keeps recording, but closes the database connections whenever the queue is empty, so that
   * they never keep a stopping process alive. Called on SIGTERM/SIGINT by `auditspan/register`.
   */
  releaseWhenIdle(): void;
  stats(): WriterStats;
  /**
   * For a process exiting now: writes what is left, blocking for at most `timeoutMs` (default:
   * the `exitTimeoutMs` option), and prints one line on stderr with the rows that could not be
   * written. Runs once; register() calls it from a process 'exit' listener.
   */
  flushAtExit(timeoutMs?: number): void;
}

export const DEFAULT_EXIT_TIMEOUT_MS = 5000;

export const DEFAULT_IGNORE_PATHS = ['/healthz', '/readyz', '/livez', '/health', '/favicon.ico'];

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function tracesUrl(url: string): string {
  return /\/v1\/traces\/?$/.test(url) ? url : `${url.replace(/\/+$/, '')}/v1/traces`;
}

/** When an SDK span started (the API's Span type does not show it). */
function startOf(span: Span): [number, number] {
  return (span as unknown as { startTime: [number, number] }).startTime;
}

/** The attributes set so far on an SDK span (the API's Span type does not show them). */
function attributesOf(span: Span): Readonly<Record<string, unknown>> {
  return (span as unknown as { attributes?: Record<string, unknown> }).attributes ?? {};
}

let active: AuditHandle | undefined;

/**
 * Starts OpenTelemetry with auditspan's hooks so that every HTTP request the
 * process serves becomes one audit row. Call once, before the app loads
 * express/http (or use `node --import auditspan/register`).
 */
export function register(options: RegisterOptions = {}): AuditHandle {
  if (active) {
    diag.warn('auditspan: register() called twice; keeping the first registration');
    return active;
  }
  const limit = options.record?.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  // Capture a little more than is stored so that redaction sees context around the cut.
  const captureLimit = limit * 2 + 1024;
  const ignore = new Set(options.ignorePaths ?? DEFAULT_IGNORE_PATHS);
  const headers = options.captureRequestHeaders ?? [...DEFAULT_KEPT_HEADERS];
  const record: RecordOptions = { ...options.record, keepRequestHeaders: options.record?.keepRequestHeaders ?? headers };

  const processors: SpanProcessor[] = [];
  let audit: AuditSpanProcessor | WorkerSpanProcessor | undefined;
  if (options.store || (options.db !== 'off' && record.redaction?.custom)) {
    // A store object or a custom redaction function lives on this thread: map and write here.
    audit = new AuditSpanProcessor({
      // Loaded on demand: the default (worker) pipeline keeps the database drivers off this thread.
      store: options.store ?? (async () => (require('../store') as typeof import('../store')).openStore({ url: options.db, sqliteSynchronous: options.sqliteSynchronous })),
      record,
      maxQueue: options.maxQueue,
    });
  } else if (options.db !== 'off') {
    // The default: mapping, redaction and writes run on a worker thread (docs/architecture.md).
    audit = new WorkerSpanProcessor({ db: options.db, sqliteSynchronous: options.sqliteSynchronous, record, maxQueue: options.maxQueue, maxQueueBytes: options.maxQueueBytes });
  }
  if (audit) processors.push(audit);
  const forwardEnv = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const forward = options.forwardUrl === false ? undefined : options.forwardUrl ?? forwardEnv;
  if (forward) {
    const url = options.forwardUrl ? tracesUrl(forward) : process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? tracesUrl(forward);
    processors.push(new BatchSpanProcessor(new RedactingSpanExporter(new OTLPTraceExporter({ url }), record.redaction)));
  }
  if (processors.length === 0) {
    process.stderr.write('auditspan: AUDITSPAN_DB=off and no OTEL_EXPORTER_OTLP_ENDPOINT: requests are not recorded anywhere\n');
  }

  const expressSpans = Boolean(forward);
  const http = new HttpInstrumentation({
    ignoreIncomingRequestHook: (req) => ignore.has(pathOf(req.url)),
    headersToSpanAttributes: { server: { requestHeaders: headers } },
    requestHook: (_span, request) => {
      if (!('socket' in request) || 'setHeader' in request) return;
      captureRequest(request as IncomingMessage, captureLimit);
      reserveRouteTemplate(request as IncomingMessage);
    },
    responseHook: (span: Span, response) => {
      if (!('setHeader' in response)) return;
      const res = response as ServerResponse;
      captureResponse(res, captureLimit);
      if (options.linkBaseUrl && !res.headersSent) {
        res.setHeader('X-Request-Log-Url', `${options.linkBaseUrl}/logs/${logIdAt(startOf(span), span.spanContext().spanId)}`);
      }
    },
    applyCustomAttributesOnSpan: (span, request, response) => {
      if (!('setHeader' in response)) return;
      const req = request as IncomingMessage;
      const res = response as ServerResponse;
      const attributes = attributesOf(span);
      applyCapturedBodies(span, req, res);
      markIfAborted(span, attributes, req, res);
      // With ExpressInstrumentation on, instrumentation-http has set http.route already (express apps).
      const route = routeTemplate(req);
      if (route !== undefined && !(expressSpans && 'http.route' in attributes)) span.setAttribute('http.route', route);
      // instrumentation-http trusts X-Forwarded-For; an audit log must not, unless told to.
      const peer = options.trustProxy ? undefined : req.socket?.remoteAddress;
      if (peer && attributes['client.address'] !== peer) span.setAttribute('client.address', peer);
    },
  });

  installBodyCapture();
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    sampler: new AuditSampler(),
    spanProcessors: processors,
    // The route template comes from each framework's router (./routes). Express's layer
    // spans are made only when spans leave the process: the audit row never reads them, and a
    // span per middleware costs more than all of auditspan's own work (docs/benchmarks.md).
    instrumentations: [http, new RouteTemplateInstrumentation(), ...(expressSpans ? [new ExpressInstrumentation()] : [])],
    // NodeSDK otherwise starts OTLP metric and log exporters aimed at localhost:4318 (auditspan's
    // own receiver port) and waits ~9 s for them at shutdown. Traces only, unless the user's
    // environment asks for metrics or logs.
    ...(process.env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(process.env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();

  const exitTimeoutMs = options.exitTimeoutMs ?? DEFAULT_EXIT_TIMEOUT_MS;
  if (!Number.isInteger(exitTimeoutMs) || exitTimeoutMs < 0) throw new TypeError('auditspan: exitTimeoutMs must be a whole number of milliseconds >= 0');
  let exited = false;
  const flushAtExit = (timeoutMs = exitTimeoutMs): void => {
    if (exited || !audit) return;
    exited = true;
    try {
      // The worker pipeline can be waited for synchronously; rows queued on this thread cannot.
      const lost = audit instanceof WorkerSpanProcessor ? audit.flushAtExit(timeoutMs) : audit.stats().queued;
      if (lost > 0) {
        process.stderr.write(`auditspan: ${lost} audit rows lost at exit: not written within ${timeoutMs} ms (database down or too slow?)\n`);
      }
    } catch (err) {
      process.stderr.write(`auditspan: audit rows may be lost at exit: ${(err as Error).message}\n`);
    }
  };
  // Every way a process ends on its own terms passes here: process.exit() from anywhere, an
  // uncaught exception (after Node printed it; the exit code stays the app's), the end of the
  // event loop. A signal with no handler does not: auditspan/register handles that one.
  process.on('exit', () => flushAtExit());

  const handle: AuditHandle = {
    flushAtExit,
    forceFlush: async (timeoutMs?: number) => {
      await Promise.all([audit?.forceFlush(timeoutMs), ...processors.filter((p) => p !== audit).map((p) => p.forceFlush())]);
    },
    shutdown: async () => {
      await sdk.shutdown();
    },
    stats: () => audit?.stats() ?? { accepted: 0, written: 0, dropped: 0, failedWrites: 0, queued: 0 },
    releaseWhenIdle: () => audit?.releaseWhenIdle(),
  };
  active = handle;
  return handle;
}
