/** `pushguard replay FILE`: findings from recorded events (NDJSON, `-` for stdin). */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { replay } from '../../app/replay.ts';
import { parseWindow } from '../../domain/duration.ts';
import { ConfigError } from '../../domain/errors.ts';
import { findingJson, findingTable } from '../format.ts';

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
    .action(
      async (
        file: string,
        opts: {
          window: number;
          rootDirectory?: string;
          now?: number;
          json?: boolean;
          skipInvalid?: boolean;
        }
      ) => {
        const input = file === '-' ? process.stdin : createReadStream(file);
        const opened = new Promise<void>((resolve, reject) => {
          if (file === '-') resolve();
          else input.once('open', () => resolve()).once('error', reject);
        });
        await opened.catch((err: Error) => {
          throw new ConfigError([`cannot read ${file}: ${err.message}`]);
        });
        const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
        try {
          const result = await replay(lines, {
            windowMs: opts.window,
            rootDirectory: opts.rootDirectory,
            now: opts.now,
            skipInvalid: opts.skipInvalid,
          });
          if (opts.json) {
            for (const f of result.findings)
              process.stdout.write(`${JSON.stringify(findingJson(f))}\n`);
          } else {
            process.stdout.write(findingTable(result.findings));
            const verified = result.findings.filter((f) => f.verified).length;
            process.stdout.write(
              `${result.findings.length} finding(s), ${verified} verified, from ${result.events} event(s) on ${result.lines} line(s)\n`
            );
          }
          if (result.skippedLines > 0)
            process.stderr.write(
              `pushguard replay: skipped ${result.skippedLines} invalid line(s)\n`
            );
          process.exitCode = 0;
        } finally {
          lines.close();
        }
      }
    );
}
