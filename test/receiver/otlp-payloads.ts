import * as grpc from '@grpc/grpc-js';
import { ExportTraceServiceRequest, ExportTraceServiceResponse, TRACE_SERVICE_EXPORT_PATH } from '../../src/receiver/otlp-schema';

export const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0');
/** Every span of `span()` starts here: their log ids are `${START_US}-<span id>`. */
export const START_US = 1_700_000_000_000_000;
export type JsonSpan = Record<string, unknown>;

/** One HTTP server span in OTLP/JSON, unique by `i`; `extra` attributes are appended. */
export function span(i: number, extra: Array<Record<string, unknown>> = [], status = 200): JsonSpan {
  return {
    traceId: hex(i + 1, 32), spanId: hex(i + 1, 16), name: `GET /p/${i}`, kind: 2,
    startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000012000000',
    attributes: [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'url.path', value: { stringValue: `/p/${i}` } },
      { key: 'http.response.status_code', value: { intValue: String(status) } },
      ...extra,
    ],
  };
}

export const logIdOf = (i: number): string => `${START_US}-${hex(i + 1, 16)}`;

export function request(spans: JsonSpan[]): Record<string, unknown> {
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeSpans: [{ spans }] }] };
}

/** The same request as protobuf bytes (ids from hex, everything else as protobufjs reads JSON). */
export function toProtobuf(json: Record<string, unknown>): Buffer {
  const copy = JSON.parse(JSON.stringify(json), (key, value: unknown) =>
    (key === 'traceId' || key === 'spanId') && typeof value === 'string' && /^[0-9a-f]+$/.test(value) ? Buffer.from(value, 'hex').toString('base64') : value,
  ) as Record<string, unknown>;
  return Buffer.from(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(copy)).finish());
}

export interface GrpcAnswer {
  code: number;
  details: string;
  response?: { partialSuccess?: { rejectedSpans?: number; errorMessage?: string } };
}

/** One raw OTLP/gRPC Export call with `body` as the message bytes. */
export function grpcExport(port: number, body: Buffer, deadlineMs = 20_000): Promise<GrpcAnswer> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<GrpcAnswer>((resolve) => {
    client.makeUnaryRequest(
      TRACE_SERVICE_EXPORT_PATH,
      (b: Buffer) => b,
      (b: Buffer) => ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(b), { longs: Number }),
      body,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, response) => {
        client.close();
        if (err) resolve({ code: err.code ?? -1, details: err.details ?? err.message });
        else resolve({ code: 0, details: '', response: response as GrpcAnswer['response'] });
      },
    );
  });
}

/** Words that would show SQL, a driver message or a stack trace in an answer to a sender. */
export const LEAK = /insert into|select |on conflict|\blogs\b|constraint|violates|sqlite|postgres|knex|ECONN|\bat \S+ \(|\.[jt]s:\d+/i;
