/**
 * `pushguard restore`: the definition (arguments, options, help). What it runs is
 * ../actions/restore.ts, loaded only when the command runs (see ../main.ts).
 */
import type { Command } from 'commander';
import { type CliIo, stdoutIo } from '../io.ts';
import type { RestoreOptions } from '../options.ts';

export function register(program: Command, io: CliIo = stdoutIo): void {
  program
    .command('restore')
    .description('put the Redis keys of an audit record back, byte for byte')
    .argument('<audit-record-file>', 'a JSON audit record written before a delete')
    .requiredOption('--redis <url>', 'the registry Redis DB, redis://host:port/db')
    .option('--cache-layer-redis <url>', "Harbor core's cache-layer Redis DB, redis://host:port/db")
    .option('--force', 'overwrite keys that now hold different content', false)
    .action(async (file: string, opts: RestoreOptions) => {
      const { runRestore } = await import('../actions/restore.ts');
      await runRestore(file, opts, io);
    });
}
