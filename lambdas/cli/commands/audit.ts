/**
 * `pushguard audit`: the definition (options, help). What it runs is ../actions/audit.ts, loaded
 * only when the command runs (see ../main.ts).
 */
import { hostname, userInfo } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { normalizeRootDirectory } from '../../domain/keys.ts';
import { DEFAULT_AUDIT_DIR } from '../defaults.ts';
import type { AuditCliOptions } from '../options.ts';

/** `s3://bucket[/rootdirectory]` */
export function parseS3Url(value: string): { bucket: string; rootDirectory: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected s3://bucket[/rootdirectory], got "${value}"`);
  return { bucket: m[1] as string, rootDirectory: normalizeRootDirectory(m[2] ?? '') };
}

function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`expected an integer from 1 to ${max}`);
    }
    return n;
  };
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer ≥ 0');
  return n;
}

function redisUrlArg(value: string): string {
  if (!/^rediss?:\/\/[^/]+\/\d+$/.test(value)) {
    throw new InvalidArgumentError(
      `expected redis://host:port/db with an explicit DB number, got "${value.replace(/\/\/[^@/]*@/, '//***@')}"`
    );
  }
  return value;
}

export function register(program: Command): void {
  program
    .command('audit')
    .description(
      "sweep the registry's Redis blob-descriptor cache against S3: report stale keys " +
        '(exit 0 clean, 3 stale keys found, 1 error or digests that could not be checked)'
    )
    .addOption(
      new Option('--s3 <url>', 'registry storage: s3://bucket[/rootdirectory]')
        .argParser(parseS3Url)
        .makeOptionMandatory()
    )
    .option('--endpoint <url>', 'S3 endpoint (emulators, S3-compatible stores; path-style)')
    .option('--region <region>', 'S3 region', process.env.AWS_REGION ?? 'us-east-1')
    .addOption(
      new Option('--redis <url>', "the registry's Redis cache: redis://host:port/db")
        .argParser(redisUrlArg)
        .makeOptionMandatory()
    )
    .addOption(
      new Option(
        '--cache-layer-redis <url>',
        "Harbor core's cache-layer Redis (with --fix, also clears cache:manifest:digest:<d>)"
      ).argParser(redisUrlArg)
    )
    .option('--fix', 'clear the stale keys (enforce mode, under the remediator rules)')
    .option('--json', 'one JSON object per stale entry, then a summary object')
    .addOption(
      new Option('--concurrency <n>', 'concurrent S3 HEADs')
        .default(32)
        .argParser(positiveInt(1024))
    )
    .addOption(
      new Option('--timeout-ms <ms>', 'deadline of one S3 check')
        .default(3000)
        .argParser(positiveInt(600_000))
    )
    .option('--registry-host <host>', 'registry host in re-push commands', 'harbor.example.com')
    .addOption(
      new Option('--max-deletes <n>', '--fix: keys deleted at most in this run')
        .default(100)
        .argParser(nonNegativeInt)
    )
    .addOption(
      new Option('--max-deletes-per-hour <n>', '--fix: keys deleted at most per clock hour')
        .default(500)
        .argParser(nonNegativeInt)
    )
    .addOption(
      new Option(
        '--state-redis <url>',
        "--fix: PushGuard's state Redis, to share the hourly delete budget with the deployed service"
      ).argParser(redisUrlArg)
    )
    .addOption(
      new Option('--max-keys-per-finding <n>', '--fix: keys cleared at most per finding')
        .default(20)
        .argParser(positiveInt(10_000))
    )
    .addOption(
      new Option('--settle-ms <ms>', '--fix: delay between the two absence checks')
        .default(2000)
        .argParser(nonNegativeInt)
    )
    .option('--audit-dir <dir>', '--fix: where audit records are written', DEFAULT_AUDIT_DIR)
    .option('--actor <name>', '--fix: who runs the fix', `${safeUser()}@${hostname()}`)
    .action(async (opts: AuditCliOptions) => {
      const { audit } = await import('../actions/audit.ts');
      process.exitCode = await audit(opts);
    });
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
