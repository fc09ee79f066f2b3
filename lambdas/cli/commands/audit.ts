import type { Command } from 'commander';

/** `pushguard audit`: placeholder until its issue lands. */
export function register(program: Command): void {
  program
    .command('audit')
    .description('not implemented yet')
    .action(() => {
      throw new Error('audit is not implemented yet');
    });
}
