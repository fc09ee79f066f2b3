/**
 * `pushguard preflight`: the definition (options, help). What it runs is ../actions/preflight.ts,
 * loaded only when the command runs (see ../main.ts).
 */
import type { Command } from 'commander';
import { type CliIo, stdoutIo } from '../io.ts';
import type { PreflightOptions } from '../options.ts';

export function register(program: Command, io: CliIo = stdoutIo): void {
  program
    .command('preflight')
    .description(
      'check what a first cdk deploy depends on (read-only AWS calls): bucket notifications, ' +
        'API Gateway logging role, Lambda concurrency, subnet routes, secrets region'
    )
    .option('--config <file>', "the deployment's pushguard object (JSON); default: ./cdk.json")
    .option('--region <region>', 'the region to deploy to; default: AWS_REGION')
    .option('--json', 'one JSON line per check', false)
    .action(async (opts: PreflightOptions) => {
      const { runPreflightCommand } = await import('../actions/preflight.ts');
      process.exitCode = await runPreflightCommand(opts, io);
    });
}
