import { CliError } from './errors';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `30d`, `12h`, `90m`, `2w` into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+)\s*([mhdw])$/i.exec(text.trim());
  if (!match) throw new CliError(`${flag}: "${text}" is not a duration like 30d, 12h, 90m or 2w`, 2);
  const ms = Number(match[1]) * UNITS[match[2].toLowerCase()];
  if (ms <= 0) throw new CliError(`${flag}: the duration must be positive`, 2);
  return ms;
}
