#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { StoreError } from '../store/errors';
import { registerDemoCommand } from './commands/demo';
import { registerExportCommand } from './commands/export';
import { registerKeysCommand } from './commands/keys';
import { registerLinksCommand } from './commands/links';
import { registerMigrateCommand, registerPurgeCommand } from './commands/maintenance';
import { registerServeCommand } from './commands/serve';
import { CliError } from './errors';
import { VERSION } from './version';

/** Prints what went wrong as one line (a stack only with AUDITSPAN_DEBUG=1) and sets the exit code. */
export function reportError(err: unknown): void {
  let code = 1;
  let message: string;
  if (err instanceof CliError) {
    code = err.exitCode;
    message = err.message;
  } else if (err instanceof ConfigError) {
    code = 2;
    message = err.message;
  } else if (err instanceof StoreError) {
    message = err.message;
  } else {
    message = `unexpected error: ${(err as Error)?.message ?? String(err)}`;
  }
  process.stderr.write(`auditspan: ${message.split('\n')[0]}\n`);
  if (process.env.AUDITSPAN_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exitCode = code;
}

export function buildProgram(): Command {
  const program = new Command('auditspan')
    .description('API request audit log from OpenTelemetry HTTP server spans')
    .version(VERSION, '-v, --version')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false });
  registerServeCommand(program);
  registerDemoCommand(program);
  registerMigrateCommand(program);
  registerPurgeCommand(program);
  registerExportCommand(program);
  registerKeysCommand(program);
  registerLinksCommand(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({
    outputError: (text, write) => write(`auditspan: ${text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`),
  });
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (or the help / version).
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    reportError(err);
  }
}

if (require.main === module) {
  void main();
}
