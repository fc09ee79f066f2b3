/**
 * `pushguard replay FILE`: the definition (arguments, options, help). What it runs is
 * ../actions/replay.ts, loaded only when the command runs (see ../main.ts).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseWindow } from '../../domain/duration.ts';
import type { ConfigError } from '../../domain/errors.ts';
import type { ReplayCliOptions } from '../options.ts';

function windowArg(value: string): number {
  try {
    return parseWindow(value);
  } catch (err) {
    throw new InvalidArgumentError((err as ConfigError).problems?.[0] ?? String(err));
  }
}

function isoArg(value: string): number {
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(t))
    throw new InvalidArgumentError(`"${value}" is not an ISO-8601 time`);
  return t;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description(
      'report findings from recorded events (NDJSON: S3 notifications, SNS, EventBridge, Harbor webhooks)'
    )
    .argument('<file>', 'NDJSON file, one delivered message body per line; - reads stdin')
    .addOption(
      new Option('--window <duration>', 'correlation window (1s..2h), e.g. 90s, 10m, 2h')
        .default(600_000, '10m')
        .argParser(windowArg)
    )
    .option(
      '--root-directory <prefix>',
      "the registry's storage rootdirectory (detected from the keys when absent)"
    )
    .addOption(
      new Option(
        '--now <iso>',
        'close windows at this time (default: every window closed)'
      ).argParser(isoArg)
    )
    .option('--json', 'one finding per line as JSON')
    .option('--skip-invalid', 'skip malformed lines (count them on stderr) instead of failing')
    .action(async (file: string, opts: ReplayCliOptions) => {
      const { runReplay } = await import('../actions/replay.ts');
      await runReplay(file, opts);
    });
}
