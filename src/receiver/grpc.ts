import * as grpc from '@grpc/grpc-js';
import { answerFor, answerForError, type Answer } from './answer';
import { RequestBudget } from './budget';
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

/** OTLP/gRPC `TraceService/Export` (gzip supported by grpc-js); acknowledged after commit. */
export async function startOtlpGrpcReceiver(options: OtlpReceiverOptions): Promise<RunningReceiver & { pipeline: IngestPipeline }> {
  const pipeline = new IngestPipeline(options);
  const thread = new DecodeThread();
  const budget = options.budget ?? new RequestBudget(options.maxInFlightBytes);
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });
  server.addService(SERVICE, {
    Export: (call: grpc.ServerUnaryCall<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      void (async () => {
        if (options.ingestToken && !bearerMatches(call.metadata.get('authorization'), options.ingestToken)) {
          return callback({ code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong ingest token: send authorization: Bearer <AUDITSPAN_INGEST_TOKEN>' });
        }
        // grpc-js has read the message already (at most max_receive_message_length): the budget
        // bounds how many are decoded and held at once.
        const share = budget.reserve(call.request.length);
        if (!share) return callback({ code: grpc.status.UNAVAILABLE, details: `too many request bytes in flight (limit ${budget.maxBytes}); retry later` });
        let answer: Answer;
        try {
          const batch = await decodeBody(call.request, false, options.limits, thread);
          pipeline.countLimited(batch.limited);
          answer = answerFor(batch, await pipeline.ingest(batch.spans));
        } catch (err) {
          answer = answerForError(err, options.log ?? defaultReceiverLog);
        } finally {
          share.release();
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
