import { SETTINGS, type SettingSpec } from './settings';

/**
 * The configuration reference as a markdown table, generated from the settings
 * table so that the README cannot drift from the code (a test compares them).
 */
export function configReferenceMarkdown(): string {
  const rows = ['| env var | flag | default | used by | what it does |', '|---|---|---|---|---|'];
  for (const spec of Object.values(SETTINGS) as SettingSpec[]) {
    const flag = spec.flag ? `\`--${spec.flag}\`` : '';
    const def = spec.default !== undefined ? `\`${spec.default}\`` : 'unset';
    rows.push(`| \`${spec.env}\` | ${flag} | ${def} | ${spec.usedBy.join(', ')} | ${spec.description} |`);
  }
  return rows.join('\n');
}
