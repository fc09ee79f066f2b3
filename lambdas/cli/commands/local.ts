/**
 * `pushguard local`: the whole pipeline on one machine (S3/SQS/SNS emulator a real registry can use,
 * pollers, window check, remediation, Harbor webhook) until SIGINT or SIGTERM.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration, parseWindow } from '../../domain/duration.ts';
import type { ConfigError } from '../../domain/errors.ts';
import { type LocalOptions, startLocal } from '../../local/compose.ts';
import { createLocalRemediator } from '../../local/remediation.ts';
import { jsonReporter, textReporter } from '../../local/reporter.ts';

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

interface CliOptions {
  s3Port: number;
  webhookPort: number;
  redis?: string;
  registryDb: number;
  stateDb: number;
  bucket: string;
  rootDirectory: string;
  window: number;
  settle: number;
  enforce?: boolean;
  json?: boolean;
  auditDir: string;
  webhookSecret: string[];
  visibilityTimeout: number;
  registryHost: string;
  restoreFrom: string[];
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      // A second signal while stopping ends the process at once.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function toLocalOptions(o: CliOptions, env: NodeJS.ProcessEnv): LocalOptions {
  const fromEnv = (env.PUSHGUARD_WEBHOOK_SECRETS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    s3Port: o.s3Port,
    webhookPort: o.webhookPort,
    redisUrl: o.redis ?? env.REDIS_URL,
    registryDb: o.registryDb,
    stateDb: o.stateDb,
    bucket: o.bucket,
    rootDirectory: o.rootDirectory,
    windowMs: o.window,
    settleMs: o.settle,
    enforce: o.enforce === true,
    auditDir: o.auditDir,
    webhookSecrets: o.webhookSecret.length > 0 ? o.webhookSecret : fromEnv,
    visibilityTimeoutSeconds: o.visibilityTimeout,
    registryHost: o.registryHost,
    restoreFrom: o.restoreFrom,
  };
}

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
    .option('--audit-dir <dir>', 'where audit records are written', '.pushguard/audit')
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
    .action(async (opts: CliOptions) => {
      const streams = { out: process.stdout, err: process.stderr };
      const reporter = opts.json ? jsonReporter(streams) : textReporter(streams);
      const signal = untilSignal();
      const runtime = await startLocal(toLocalOptions(opts, process.env), reporter, {
        remediator: createLocalRemediator,
        version: program.version(),
      });
      reporter.ready(runtime.ready);
      const got = await signal;
      reporter.log(`pushguard local: ${got}, stopping`);
      await runtime.stop();
      reporter.log('pushguard local: stopped');
      process.exitCode = 0;
      // Nothing should be left running; if a stray handle remains, do not hang on it.
      setTimeout(() => process.exit(0), 3000).unref();
    });
}
