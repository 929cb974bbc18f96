export { startOtlpHttpReceiver, createOtlpHttpHandler, DEFAULT_MAX_BODY_BYTES, type OtlpReceiverOptions, type RunningReceiver } from './http';
export { startOtlpGrpcReceiver } from './grpc';
export { IngestPipeline, OverloadedError, type IngestOptions, type IngestResult } from './ingest';
export { decodeJson, decodeProtobuf, DecodeError, type DecodedBatch } from './decode';
