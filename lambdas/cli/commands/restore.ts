import type { Command } from 'commander';

/** `pushguard restore`: placeholder until its issue lands. */
export function register(program: Command): void {
  program
    .command('restore')
    .description('not implemented yet')
    .action(() => {
      throw new Error('restore is not implemented yet');
    });
}
