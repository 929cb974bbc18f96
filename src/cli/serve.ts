import { createServer, type Server } from 'node:http';
import type { Config } from '../config';
import { createHttpApp, hasActiveKeys, secretWeakness } from '../query-api';
import { RequestBudget, startOtlpGrpcReceiver, startOtlpHttpReceiver } from '../receiver';
import { openStore } from '../store';
import type { Store } from '../store/types';
import { CliError, describeDb } from './errors';
import { hostForUrl, isLoopback, listen } from './net';
import { VERSION } from './version';

export interface ServerHandle {
  store: Store;
  urls: { ui: string; otlpHttp: string; otlpGrpc: string };
  ports: { http: number; otlpHttp: number; otlpGrpc: number };
  close(): Promise<void>;
}

export interface StartOptions {
  /** Receives the one structured start line (and retention lines). Default: stdout. */
  log?: (line: string) => void;
}

const HOUR_MS = 60 * 60 * 1000;

function wrapListenError(what: string, setting: string, port: number, host: string) {
  return (err: unknown): never => {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EADDRINUSE' || /address already in use|EADDRINUSE/i.test(String((err as Error)?.message))) {
      throw new CliError(`${what}: port ${port} on ${host} is already in use (change it with ${setting})`);
    }
    if (err instanceof CliError) throw err;
    throw new CliError(`${what}: cannot listen on ${host}:${port}: ${(err as Error)?.message ?? String(err)}`);
  };
}

const SECRETS = [
  ['adminKey', 'admin key', 'AUDITSPAN_ADMIN_KEY', '; or create an admin key with `auditspan keys create --name admin --admin`'],
  ['ingestToken', 'ingest token', 'AUDITSPAN_INGEST_TOKEN', ''],
  ['linkSecret', 'link secret', 'AUDITSPAN_LINK_SECRET', '; or leave it unset to have one generated and kept in the database'],
] as const;

/** Refuses a configured admin key, ingest token or link secret that could be guessed (never echoing it). */
export function refuseWeakSecrets(config: Partial<Pick<Config, 'adminKey' | 'ingestToken' | 'linkSecret'>>): void {
  for (const [key, noun, env, alternative] of SECRETS) {
    const value = config[key];
    const weakness = value === undefined ? null : secretWeakness(value);
    if (weakness) throw new CliError(`refusing a weak ${noun} (${env}): ${weakness}${alternative}`);
  }
}

/**
 * `auditspan serve`: the UI + query API, the OTLP/HTTP and OTLP/gRPC receivers
 * and automatic retention, on one store. Resolves once everything listens.
 */
export async function startServer(config: Config, options: StartOptions = {}): Promise<ServerHandle> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const store = await openStore({ url: config.db, partitionHours: config.partitionHours, sqliteSynchronous: config.sqliteSynchronous, sqliteCacheMb: config.sqliteCacheMb }).catch((err: unknown) => {
    throw new CliError(`cannot open database ${describeDb(config.db)}: ${(err as Error).message}`);
  });
  const closers: Array<() => Promise<void>> = [() => store.close()];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };

  try {
    // A guessable secret would undo everything else: each must hold ≥ 128 random bits.
    refuseWeakSecrets(config);
    // Without any key the API is open, so it must not be reachable from elsewhere.
    if (!isLoopback(config.host) && !(await hasActiveKeys(store, config.adminKey))) {
      throw new CliError(
        `refusing to listen on ${config.host} without keys: set AUDITSPAN_ADMIN_KEY (--admin-key) ` +
          'or create a viewer key with `auditspan keys create`, or keep the default host 127.0.0.1',
      );
    }
    // Nor may anyone on the network write audit rows.
    if (!isLoopback(config.host) && !config.ingestToken) {
      throw new CliError(
        `refusing to accept OTLP on ${config.host} without an ingest token: set AUDITSPAN_INGEST_TOKEN (--ingest-token) ` +
          'and the same bearer token in the collector\'s otlphttp exporter headers, or keep the default host 127.0.0.1',
      );
    }

    const app = createHttpApp({
      store,
      adminKey: config.adminKey,
      traceUrlTemplate: config.traceUrlTemplate,
      version: VERSION,
      trustProxy: config.trustProxy,
      linkSecret: config.linkSecret,
      publicUrl: config.publicUrl,
      frameAncestors: config.frameAncestors,
      branding: { title: config.brandTitle, logoUrl: config.brandLogoUrl, accentColor: config.brandAccentColor },
    });
    const http: Server = createServer(app);
    const httpPort = await listen(http, config.port, config.host, 'UI/API', '--port or AUDITSPAN_PORT');
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeIdleConnections();
        }),
    );

    const receiverOptions = {
      store,
      host: config.host,
      maxBodyBytes: config.maxBodyBytes,
      ingestToken: config.ingestToken,
      record: { maxPayloadBytes: config.maxPayloadBytes, redaction: { extraKeys: config.redactKeys } },
      // One budget for both receivers (docs/receiver.md, "Limits").
      budget: new RequestBudget(config.otlpMaxInflightBytes),
      limits: {
        maxAttributes: config.otlpMaxSpanAttributes,
        // A payload cut here must still be longer than the payload cap, so that it is marked truncated.
        maxAttributeValueLength: Math.max(config.otlpMaxAttributeLength, 4 * config.maxPayloadBytes),
        maxEvents: config.otlpMaxSpanEvents,
      },
      log: (entry: Record<string, unknown>) => log(JSON.stringify({ time: new Date().toISOString(), ...entry })),
    };
    const otlpHttp = await startOtlpHttpReceiver({ ...receiverOptions, port: config.otlpPort }).catch(
      wrapListenError('OTLP/HTTP', '--otlp-port or AUDITSPAN_OTLP_PORT', config.otlpPort, config.host),
    );
    closers.push(() => otlpHttp.close());
    const otlpGrpc = await startOtlpGrpcReceiver({ ...receiverOptions, port: config.otlpGrpcPort }).catch(
      wrapListenError('OTLP/gRPC', '--otlp-grpc-port or AUDITSPAN_OTLP_GRPC_PORT', config.otlpGrpcPort, config.host),
    );
    closers.push(() => otlpGrpc.close());

    // PostgreSQL: the next partitions exist before their first span arrives (a span outside
    // every partition still gets one on demand). A no-op on SQLite.
    const maintain = (): void => {
      store.maintainPartitions().catch((err: unknown) => {
        log(JSON.stringify({ level: 'warn', msg: 'creating partitions failed', error: (err as Error).message }));
      });
    };
    const partitionTimer = setInterval(maintain, HOUR_MS);
    partitionTimer.unref();
    closers.push(async () => clearInterval(partitionTimer));

    if (config.retentionDays !== undefined) {
      const days = config.retentionDays;
      const purge = (): void => {
        store
          .purgeOlderThan(Date.now() - days * 24 * HOUR_MS)
          .then((deleted) => {
            if (deleted > 0) log(JSON.stringify({ level: 'info', msg: 'retention purge', deleted, retentionDays: days }));
          })
          .catch((err: unknown) => {
            log(JSON.stringify({ level: 'warn', msg: 'retention purge failed', error: (err as Error).message }));
          });
      };
      purge();
      const timer = setInterval(purge, HOUR_MS);
      timer.unref();
      closers.push(async () => clearInterval(timer));
    }

    const host = hostForUrl(config.host);
    const handle: ServerHandle = {
      store,
      urls: {
        ui: `http://${host}:${httpPort}/`,
        otlpHttp: `http://${host}:${otlpHttp.port}/v1/traces`,
        otlpGrpc: `${host}:${otlpGrpc.port}`,
      },
      ports: { http: httpPort, otlpHttp: otlpHttp.port, otlpGrpc: otlpGrpc.port },
      close: closeAll,
    };
    log(
      JSON.stringify({
        level: 'info',
        time: new Date().toISOString(),
        msg: 'auditspan listening',
        version: VERSION,
        ui: handle.urls.ui,
        otlpHttp: handle.urls.otlpHttp,
        otlpGrpc: handle.urls.otlpGrpc,
        db: describeDb(config.db),
        auth: config.adminKey ? 'admin key set' : 'viewer keys or open on loopback',
        retentionDays: config.retentionDays ?? null,
        // What an acknowledged batch survives (docs/receiver.md).
        durability: await (store as Store & { durability?: () => Promise<string> }).durability?.().catch(() => 'unknown'),
      }),
    );
    return handle;
  } catch (err) {
    await closeAll();
    throw err;
  }
}
