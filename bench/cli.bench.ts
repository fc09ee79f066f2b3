/**
 * The CLI as an operator runs it, measured as whole processes (start-up included) beside bare
 * Node processes in the same run:
 *  - `pushguard --help` against `node -e 0` (goal ≤ 3×);
 *  - `pushguard replay --json` over 100k synthetic S3 records against a bare process that reads
 *    the same file and JSON.parses every line (goal ≥ 0.5× its throughput);
 *  - the peak RSS of each (maxRSS of the child, reported by the child itself at exit).
 * Runs the built CLI (`npm run build` first, as the published package ships it). Times are the
 * best of their rounds, the paths taking turns.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figure } from './figures.ts';
import { syntheticTrace } from './synthetic.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'pushguard.mjs');
const RECORDS = 100_000;
const HELP_ROUNDS = 15;
const REPLAY_ROUNDS = 3;

/** Preloaded only in the RSS runs: the child writes its own peak RSS (KiB) to fd 3 at exit. */
const REPORT_RSS =
  'data:text/javascript,import { writeSync } from "node:fs"; ' +
  'process.on("exit", () => writeSync(3, String(process.resourceUsage().maxRSS)));';

/** The bare baseline: read the file, JSON.parse each line, nothing else. */
const BARE_PARSE =
  'const lines = require("node:fs").readFileSync(process.argv[1], "utf8").split("\\n");' +
  'let n = 0; for (const l of lines) if (l) { JSON.parse(l); n++; } if (n === 0) process.exit(1);';

interface Run {
  ms: number;
  status: number | null;
}

function timed(args: string[]): Run {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, status: r.status };
}

/** Peak RSS in MiB of one run of `args`. */
function peakRss(args: string[]): number {
  const r = spawnSync(process.execPath, ['--import', REPORT_RSS, ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(String(r.output[3])) / 1024;
}

/** Best time of `rounds` runs of each command, the commands taking turns. */
function best(rounds: number, commands: string[][]): number[] {
  const out = commands.map(() => Number.POSITIVE_INFINITY);
  for (let i = 0; i < rounds; i++) {
    commands.forEach((args, j) => {
      out[j] = Math.min(out[j]!, timed(args).ms);
    });
  }
  return out;
}

export async function run(): Promise<Figure[]> {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'pushguard-cli-bench-'));
  try {
    const file = join(dir, 'trace.ndjson');
    writeFileSync(file, `${syntheticTrace(RECORDS).join('\n')}\n`);
    const help = [BIN, '--help'];
    const bareNode = ['-e', '0'];
    const replay = [BIN, 'replay', '--json', file];
    const bareParse = ['-e', BARE_PARSE, file];

    timed(help); // warm the file cache
    const [helpMs, nodeMs] = best(HELP_ROUNDS, [help, bareNode]) as [number, number];
    timed(replay);
    const [replayMs, parseMs] = best(REPLAY_ROUNDS, [replay, bareParse]) as [number, number];
    const perSecond = (ms: number) => (RECORDS * 1000) / ms;
    return [
      {
        name: '`pushguard --help`, whole process',
        value: helpMs,
        unit: 'ms',
        baseline: { name: '`node -e 0`', value: nodeMs },
        goal: '≤ 3× baseline',
      },
      {
        name: '`pushguard --help` peak RSS',
        value: peakRss(help),
        unit: 'MiB',
        baseline: { name: '`node -e 0`', value: peakRss(bareNode) },
      },
      {
        name: `\`pushguard replay --json\`, ${RECORDS / 1000}k S3 records, whole process`,
        value: perSecond(replayMs),
        unit: 'records/s',
        baseline: {
          name: 'bare process: read the file, JSON.parse each line',
          value: perSecond(parseMs),
        },
        goal: '≥ 0.5× baseline',
      },
      {
        name: `\`pushguard replay --json\` peak RSS, ${RECORDS / 1000}k records`,
        value: peakRss(replay),
        unit: 'MiB',
        baseline: { name: 'bare read + JSON.parse process', value: peakRss(bareParse) },
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
