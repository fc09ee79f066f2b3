import type { Command } from 'commander';

/** `pushguard local`: placeholder until its issue lands. */
export function register(program: Command): void {
  program
    .command('local')
    .description('not implemented yet')
    .action(() => {
      throw new Error('local is not implemented yet');
    });
}
