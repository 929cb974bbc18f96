export { startOtlpHttpReceiver, createOtlpHttpHandler, DEFAULT_MAX_BODY_BYTES, type OtlpReceiverOptions, type RunningReceiver } from './http';
export { startOtlpGrpcReceiver } from './grpc';
export { IngestPipeline, OverloadedError, type IngestOptions, type IngestResult } from './ingest';
export { decodeJson, decodeProtobuf, DecodeError, DEFAULT_DECODE_LIMITS, type DecodedBatch, type DecodeLimits, type LimitCounts } from './decode';
export { RequestBudget, DEFAULT_MAX_INFLIGHT_BYTES } from './budget';
