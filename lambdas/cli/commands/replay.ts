import type { Command } from 'commander';

/** `pushguard replay`: placeholder until its issue lands. */
export function register(program: Command): void {
  program
    .command('replay')
    .description('not implemented yet')
    .action(() => {
      throw new Error('replay is not implemented yet');
    });
}
