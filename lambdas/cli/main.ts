/**
 * The `pushguard` CLI composition root. Each command lives in ./commands/<name>.ts and exports
 * `register(program)`. Exit codes: 0 ran, 1 error, 2 bad usage, 3 findings (audit).
 */
import { Command, CommanderError } from 'commander';
import { register as registerAudit } from './commands/audit.ts';
import { register as registerLocal } from './commands/local.ts';
import { register as registerReplay } from './commands/replay.ts';
import { register as registerRestore } from './commands/restore.ts';

export function buildProgram(): Command {
  const program = new Command('pushguard')
    .description(
      'Keeps Harbor registries honest: checks the Redis blob cache against S3, key by key.'
    )
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerReplay(program);
  registerLocal(program);
  registerAudit(program);
  registerRestore(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return 0;
      return 2;
    }
    process.stderr.write(`pushguard: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
