import { readFileSync } from 'node:fs';
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
  ingestTokenFile?: string;
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
  sqliteSynchronous: 'normal' | 'full';
  sqliteCacheMb: number;
  otlpMaxInflightBytes: number;
  otlpMaxSpanAttributes: number;
  otlpMaxAttributeLength: number;
  otlpMaxSpanEvents: number;
  partitionHours: number;
  adminKeyFile?: string;
  linkSecret?: string;
  publicUrl?: string;
  frameAncestors?: string[];
  brandTitle?: string;
  brandLogoUrl?: string;
  brandAccentColor?: string;
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
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(`${name}: "${raw}" is more than ${spec.max}`);
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
      if (spec.values && !spec.values.includes(value.toLowerCase())) throw new ConfigError(`${name}: "${raw}" is not one of ${spec.values.join(', ')}`);
      return spec.values ? value.toLowerCase() : value;
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
  for (const origin of (out.frameAncestors as string[] | undefined) ?? []) {
    if (!/^(https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?|'self')$/i.test(origin)) {
      throw new ConfigError(`AUDITSPAN_FRAME_ANCESTORS: "${origin}" is not an origin like https://dashboard.example.com or 'self'`);
    }
  }
  if (out.brandAccentColor !== undefined && !/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(out.brandAccentColor as string)) {
    throw new ConfigError(`AUDITSPAN_BRAND_ACCENT_COLOR: "${out.brandAccentColor}" is not a colour like #0a7 or #00aa77`);
  }
  for (const [fileKey, key] of SECRET_FILES) {
    if (out[fileKey] === undefined) continue;
    const file = SETTINGS[fileKey];
    const secret = SETTINGS[key];
    if (out[key] !== undefined) throw new ConfigError(`${file.env} (--${file.flag}) and ${secret.env} (--${secret.flag}) exclude each other`);
    out[key] = readSecretFile(`--${file.flag}`, out[fileKey] as string);
  }
  return out as unknown as Config;
}

/** Settings that name a file holding a secret, and the secret each one sets. */
const SECRET_FILES = [
  ['adminKeyFile', 'adminKey'],
  ['ingestTokenFile', 'ingestToken'],
] as const;

/** A secret kept in a file (a Docker or Kubernetes secret): its content without the trailing newline. */
function readSecretFile(label: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${label}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value.trim() === '') throw new ConfigError(`${label}: ${path} is empty`);
  if (/[\r\n]/.test(value)) throw new ConfigError(`${label}: ${path} holds more than one line`);
  return value;
}
