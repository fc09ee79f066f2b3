/**
 * `pushguard local`: the definition (options, help). What it runs is ../actions/local.ts, loaded
 * only when the command runs (see ../main.ts).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration, parseWindow } from '../../domain/duration.ts';
import type { ConfigError } from '../../domain/errors.ts';
import { DEFAULT_AUDIT_DIR, DEFAULT_DATA_DIR } from '../defaults.ts';
import type { LocalCliOptions } from '../options.ts';

function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer ${min}..${max}`);
    }
    return n;
  };
}

function durationArg(parse: (text: string) => number) {
  return (value: string): number => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as ConfigError).problems?.[0] ?? String(err));
    }
  };
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  program
    .command('local')
    .description(
      'run the whole pipeline on this machine: an S3 emulator a registry can use, S3 events, ' +
        'window checks, remediation (dry-run unless --enforce) and the Harbor webhook'
    )
    .addOption(
      new Option('--s3-port <n>', 'S3/SQS/SNS emulator port (0: any free port)')
        .default(4566)
        .argParser(intArg(0, 65535))
    )
    .addOption(
      new Option('--webhook-port <n>', 'Harbor webhook port (0: any free port)')
        .default(8080)
        .argParser(intArg(0, 65535))
    )
    .option(
      '--redis <url>',
      'Redis holding the registry cache and PushGuard state (default: REDIS_URL, else 127.0.0.1:6379, else a redis-server started here)'
    )
    .addOption(
      new Option('--registry-db <n>', "the registry's blob-descriptor cache DB")
        .default(1)
        .argParser(intArg(0, 255))
    )
    .addOption(
      new Option('--state-db <n>', "PushGuard's own state DB (never the registry's)")
        .default(15)
        .argParser(intArg(0, 255))
    )
    .option('--bucket <name>', 'registry bucket', 'registry')
    .option('--root-directory <prefix>', "the registry's storage rootdirectory", '')
    .addOption(
      new Option('--window <duration>', 'correlation window (1s..2h), e.g. 90s, 10m, 2h')
        .default(600_000, '10m')
        .argParser(durationArg(parseWindow))
    )
    .addOption(
      new Option('--settle <duration>', 'delay between the two storage checks before a delete')
        .default(500, '500ms')
        .argParser(durationArg((t) => parseDuration(t, '--settle')))
    )
    .option('--enforce', 'delete stale cache keys (default: dry-run, nothing is deleted)')
    .option('--json', 'JSON lines on stdout: ready, then one per finding and per action')
    .option('--audit-dir <dir>', 'where audit records are written', DEFAULT_AUDIT_DIR)
    .option('--data-dir <dir>', 'where the S3 emulator keeps the bucket', DEFAULT_DATA_DIR)
    .addOption(
      new Option('--ephemeral', 'keep the bucket in memory only (lost when this stops)').conflicts(
        'dataDir'
      )
    )
    .option(
      '--webhook-secret <value>',
      'accepted Authorization header (repeatable; default PUSHGUARD_WEBHOOK_SECRETS, comma-separated, else generated)',
      collect,
      []
    )
    .option(
      '--registry-host <host>',
      'the registry as clients reach it, for re-push commands',
      'localhost:5000'
    )
    .option(
      '--restore-from <source>',
      'with --enforce, put lost data still referenced back from: a peer registry URL, or s3-versions (repeatable, tried in order)',
      collect,
      []
    )
    .addOption(
      new Option('--visibility-timeout <seconds>', 'SQS visibility timeout of the local queues')
        .default(30)
        .argParser(intArg(1, 43_200))
    )
    .action(async (opts: LocalCliOptions) => {
      const { runLocal } = await import('../actions/local.ts');
      await runLocal(opts, program.version() ?? '');
    });
}
