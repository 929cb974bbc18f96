export { SETTINGS, type SettingSpec, type SettingName } from './settings';
export { loadConfig, ConfigError, type Config } from './parse';
export { configReferenceMarkdown } from './reference';
