export { createRecordMapper, toAuditRecord, DEFAULT_KEPT_HEADERS, type RecordOptions, type RecordMapper } from './map';
export { createRedactor, REDACTED, MAX_JSON_DEPTH, type Redactor, type RedactionOptions, type RedactionWhere } from './redaction/redactor';
export { DEFAULT_SECRET_KEYS, createKeyMatcher } from './redaction/keys';
export { DEFAULT_VALUE_PATTERNS, luhnValid, ibanValid, type ValuePattern } from './redaction/patterns';
export { DEFAULT_MAX_PAYLOAD_BYTES, LIMITS, cutUtf8 } from './limits';
export { collapsePath } from './endpoint';
export { RouteTemplates, nameByRoute, type RouteTemplatesOptions } from './route-templates';
export { formatLogId, logIdAt, parseLogId, type LogIdParts } from './log-id';
export * from './types';
