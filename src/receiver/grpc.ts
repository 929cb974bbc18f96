import * as grpc from '@grpc/grpc-js';
import { answerFor, answerForError, type Answer } from './answer';
import { RequestBudget, type Reservation } from './budget';
import { DecodeThread } from './decode-thread';
import { decodeBody, DEFAULT_MAX_BODY_BYTES, type OtlpReceiverOptions, type RunningReceiver } from './http';
import { defaultReceiverLog, IngestPipeline } from './ingest';
import { ExportTraceServiceResponse, TRACE_SERVICE_EXPORT_PATH } from './otlp-schema';
import { bearerMatches } from './token';

const SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: TRACE_SERVICE_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    // Bytes pass through untouched: decoding happens in the handler, where a
    // malformed message becomes INVALID_ARGUMENT with a message.
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (msg: Record<string, unknown>) => Buffer.from(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create(msg)).finish()),
    responseDeserialize: (b: Buffer) => ExportTraceServiceResponse.decode(b),
  },
};

/** What a gRPC call reserves of the request budget when its headers arrive, before its message (of unknown size) is read. */
export const GRPC_ADMISSION_BYTES = 1024 * 1024;

/**
 * Admits a call on its headers, before grpc-js reads its message: a missing or wrong ingest
 * token is UNAUTHENTICATED, a full request budget UNAVAILABLE, neither having read a byte of
 * the message. An admitted call holds GRPC_ADMISSION_BYTES (the message size is not known
 * until it is read), grows its share to the message's size once read (UNAVAILABLE if the
 * budget cannot hold that), and gives it back when its status is sent or it is cancelled.
 */
function admission(token: string | undefined, budget: RequestBudget, maxBytes: number): grpc.ServerInterceptor {
  return (_method, call) => {
    let share: Reservation | null = null;
    const release = (): void => {
      share?.release();
      share = null;
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, proceed) => {
            if (token && !bearerMatches(metadata.get('authorization'), token)) {
              return call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong ingest token: send authorization: Bearer <AUDITSPAN_INGEST_TOKEN>' });
            }
            share = budget.reserve(Math.min(GRPC_ADMISSION_BYTES, maxBytes));
            if (!share) return call.sendStatus({ code: grpc.status.UNAVAILABLE, details: busy(budget) });
            proceed(metadata);
          },
          onReceiveMessage: (message: Buffer, proceed) => {
            if (share && !share.grow(message.length)) {
              release();
              return call.sendStatus({ code: grpc.status.UNAVAILABLE, details: busy(budget) });
            }
            proceed(message);
          },
          onCancel: release,
        }),
      sendStatus: (status, proceed) => {
        release();
        proceed(status);
      },
    });
  };
}

const busy = (budget: RequestBudget): string => `too many request bytes in flight (limit ${budget.maxBytes}); retry later`;

/** OTLP/gRPC `TraceService/Export` (gzip supported by grpc-js); acknowledged after commit. */
export async function startOtlpGrpcReceiver(options: OtlpReceiverOptions): Promise<RunningReceiver & { pipeline: IngestPipeline }> {
  const pipeline = new IngestPipeline(options);
  const thread = new DecodeThread();
  const budget = options.budget ?? new RequestBudget(options.maxInFlightBytes);
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
    interceptors: [admission(options.ingestToken, budget, maxBytes)],
  });
  server.addService(SERVICE, {
    Export: (call: grpc.ServerUnaryCall<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      void (async () => {
        // The token and the request budget were checked by `admission` before the message was read.
        let answer: Answer;
        try {
          const batch = await decodeBody(call.request, false, options.limits, thread);
          pipeline.countLimited(batch.limited);
          answer = answerFor(batch, await pipeline.ingest(batch.spans));
        } catch (err) {
          answer = answerForError(err, options.log ?? defaultReceiverLog);
        }
        if (answer.kind === 'ok') {
          return callback(null, answer.rejected > 0 ? { partialSuccess: { rejectedSpans: answer.rejected, errorMessage: answer.message } } : {});
        }
        callback({ code: answer.kind === 'invalid' ? grpc.status.INVALID_ARGUMENT : grpc.status.UNAVAILABLE, details: answer.message });
      })();
    },
  });
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${options.port ?? 4317}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) {
        const e = new Error(err.message) as NodeJS.ErrnoException;
        if (/EADDRINUSE|address already in use/i.test(err.message)) e.code = 'EADDRINUSE';
        reject(e);
      } else {
        resolve(bound);
      }
    });
  });
  return {
    port,
    pipeline,
    close: async () => {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 10_000);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await pipeline.drain();
      await thread.close();
    },
  };
}
