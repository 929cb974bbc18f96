import { SETTINGS, type SettingName, type SettingSpec } from './settings';

/** A configuration value that cannot be used; the message names the setting. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface Config {
  db: string;
  host: string;
  port: number;
  otlpPort: number;
  otlpGrpcPort: number;
  ingestToken?: string;
  adminKey?: string;
  retentionDays?: number;
  maxBodyBytes: number;
  traceUrlTemplate: string;
  maxPayloadBytes: number;
  redactKeys: string[];
  ignorePaths: string[];
  trustProxy: boolean;
  linkBaseUrl?: string;
  forwardEndpoint?: string;
  serviceName?: string;
  exitTimeoutMs: number;
  maxQueueBytes: number;
}

function parseValue(name: string, spec: SettingSpec, raw: string): unknown {
  const value = raw.trim();
  switch (spec.kind) {
    case 'port': {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n > 65535) throw new ConfigError(`${name}: "${raw}" is not a port (0-65535)`);
      return n;
    }
    case 'int': {
      const n = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
        throw new ConfigError(`${name}: "${raw}" is not a positive whole number`);
      }
      return n;
    }
    case 'bool': {
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      throw new ConfigError(`${name}: "${raw}" is not a boolean (true/false)`);
    }
    case 'list':
      return value.split(',').map((s) => s.trim()).filter(Boolean);
    case 'url': {
      try {
        const url = new URL(value);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
      } catch {
        throw new ConfigError(`${name}: "${raw}" is not an http(s) URL`);
      }
      return value.replace(/\/+$/, '');
    }
    default:
      if (value === '') throw new ConfigError(`${name}: must not be empty`);
      return value;
  }
}

/**
 * Builds the configuration from (in rising priority) defaults, the environment
 * and explicit overrides (CLI flags, already strings). Throws ConfigError.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Record<SettingName, string | undefined>> = {},
): Config {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SETTINGS) as Array<[SettingName, SettingSpec]>) {
    const fromFlag = overrides[key];
    let raw = fromFlag ?? env[spec.env];
    const label = fromFlag !== undefined && spec.flag ? `--${spec.flag}` : spec.env;
    if (key === 'forwardEndpoint' && raw === undefined && env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
      // The per-signal variable is a complete URL; keep it as given.
      raw = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    }
    if (raw === undefined || (raw.trim() === '' && spec.kind !== 'string')) raw = spec.default;
    if (raw === undefined) continue;
    out[key] = parseValue(label, spec, raw);
  }
  return out as unknown as Config;
}
