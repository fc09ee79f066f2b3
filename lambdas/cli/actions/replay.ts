/** `pushguard replay FILE`: findings from recorded events (NDJSON, `-` for stdin). */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { replay } from '../../app/replay.ts';
import { ConfigError } from '../../domain/errors.ts';
import { findingJson, findingTable } from '../format.ts';
import type { ReplayCliOptions } from '../options.ts';

export async function runReplay(file: string, opts: ReplayCliOptions): Promise<void> {
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
      for (const f of result.findings) process.stdout.write(`${JSON.stringify(findingJson(f))}\n`);
    } else {
      process.stdout.write(findingTable(result.findings));
      const verified = result.findings.filter((f) => f.verified).length;
      process.stdout.write(
        `${result.findings.length} finding(s), ${verified} verified, from ${result.events} event(s) on ${result.lines} line(s)\n`
      );
    }
    if (result.skippedLines > 0)
      process.stderr.write(`pushguard replay: skipped ${result.skippedLines} invalid line(s)\n`);
    process.exitCode = 0;
  } finally {
    lines.close();
  }
}
