/**
 * The `pushguard` CLI composition root. Exit codes: 0 ran, 1 error, 2 bad usage, 3 findings (audit).
 *
 * Start-up stays cheap because every command is split in two:
 *  - commands/<name>.ts: the definition (`register(program)`: arguments, options, help and their
 *    parsers). It may import only commander, node: built-ins and pure lambdas/domain code, since
 *    all of them load on every start, `pushguard --help` included;
 *  - actions/<name>.ts: what the command runs (AWS SDK, ioredis, fauxqs, ...), loaded by
 *    `await import('../actions/<name>.ts')` inside the `.action()` callback, so only the command
 *    that runs pays for its modules.
 * A new command: add both files and one line to COMMANDS. test/cli/lazy-loading.test.ts fails if
 * `--help` or `replay` load the AWS SDK or ioredis.
 */
import { Command, CommanderError } from 'commander';
import { register as audit } from './commands/audit.ts';
import { register as local } from './commands/local.ts';
import { register as preflight } from './commands/preflight.ts';
import { register as replay } from './commands/replay.ts';
import { register as restore } from './commands/restore.ts';
import { VERSION } from './defaults.ts';

/** Every command, in the order `--help` lists them. */
const COMMANDS: readonly ((program: Command) => void)[] = [
  replay,
  local,
  audit,
  restore,
  preflight,
];

export function buildProgram(): Command {
  const program = new Command('pushguard')
    .description(
      'Keeps Harbor registries honest: checks the Redis blob cache against S3, key by key.'
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of COMMANDS) register(program);
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
