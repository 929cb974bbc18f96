export { createHttpApp, type HttpAppOptions } from './app';
export { secretWeakness, generateApiKey, hashApiKey, hasActiveKeys } from './keys';
export { openApiDocument, SCHEMAS } from './openapi';
export { parseQuery, toFilter, FILTER_PARAMS } from './params';
export { csvHeader, csvRow, ndjsonRow, toSummary, toDetail, type LogSummary, type LogDetail } from './serialize';
export { ApiError } from './errors';
export type { Principal } from './auth';
