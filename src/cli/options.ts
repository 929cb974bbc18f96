import { Option } from 'commander';
import { SETTINGS, type SettingName } from '../config';

/**
 * A commander option for a setting of the shared table: flag, env name and default in its help.
 * `description` replaces the table's text where one command uses the setting its own way.
 */
export function settingOption(name: SettingName, defaultOverride?: string, description?: string): Option {
  const spec = SETTINGS[name];
  if (!('flag' in spec)) throw new Error(`setting ${name} has no flag`);
  const value = ` <${spec.kind === 'port' ? 'port' : spec.kind === 'int' ? 'n' : 'value'}>`;
  const shown = defaultOverride ?? ('default' in spec ? spec.default : undefined);
  const help = `${description ?? spec.description} [env ${spec.env}${shown ? `, default ${shown}` : ''}]`;
  return new Option(`--${spec.flag}${value}`, help);
}

/** A command-specific option with its AUDITSPAN_* environment equivalent. */
export function envOption(flags: string, description: string, env: string, defaultValue?: string): Option {
  const option = new Option(flags, description).env(env);
  if (defaultValue !== undefined) option.default(defaultValue);
  return option;
}

/** Picks the values of shared settings given as flags, for `loadConfig` overrides. */
export function settingOverrides(opts: Record<string, unknown>, names: SettingName[]): Partial<Record<SettingName, string>> {
  const out: Partial<Record<SettingName, string>> = {};
  for (const name of names) {
    const value = opts[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}
