export type { SpanInput, AuditRecord, Attributes, AttributeValue } from './record/types';
export type { Store, StoreOptions, StoredLog, LogFilter, LogPage, Stats, Facets, ApiKeyInfo } from './store/types';
export { NotFoundError, StoreUnavailableError, InvalidCursorError, ConflictError, StoreError } from './store/errors';
export { loadConfig, ConfigError, SETTINGS, type Config } from './config';
