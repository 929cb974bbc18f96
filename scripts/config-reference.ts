// Prints the configuration reference table, or with --write puts it into README.md
// between the config-reference markers:
//   npx tsx scripts/config-reference.ts --write
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configReferenceMarkdown } from '../src/config';

const table = configReferenceMarkdown();
if (process.argv.includes('--write')) {
  const file = join(__dirname, '..', 'README.md');
  const readme = readFileSync(file, 'utf8');
  const next = readme.replace(
    /(<!-- config-reference:start -->\n)[\s\S]*?(<!-- config-reference:end -->)/,
    `$1${table}\n$2`,
  );
  writeFileSync(file, next);
} else {
  console.log(table);
}
