/**
 * `npm run bench`: gathers every figure in one run, prints them with their baselines, and writes
 * bench/results.json and the table in docs/BENCHMARKS.md. Benchmarks print figures; they never
 * fail on speed. Starts its own redis-server on 127.0.0.1 unless REDIS_URL is set.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { startRedisServer } from '../test/support/redis-server.ts';
import type { BenchContext, Figure } from './figures.ts';

type Bench = { run(ctx: BenchContext): Promise<Figure[]> };

// Benchmarks run on Node 20 like the CLI; the SDK's Node 22 notice is noise in their output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const SUITES = [
  'domain',
  'state',
  'audit',
  'faults',
  'latency',
  'registry-latency',
  'cli',
  'restore',
  'local-data',
  'sweep',
  'bundles',
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  // Benches that start `pushguard` run the built CLI, as tests do (test/support/global-setup.ts).
  execFileSync(process.execPath, [join(import.meta.dirname, '../scripts/build.mjs')], {
    stdio: 'inherit',
  });
  let redisUrl = process.env.REDIS_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!redisUrl) {
    const server = await startRedisServer();
    redisUrl = server.url;
    stop = server.stop;
  }
  const results: { suite: string; figures: Figure[]; error?: string }[] = [];
  try {
    for (const suite of SUITES) {
      if (only.length > 0 && !only.includes(suite)) continue;
      const file = join(import.meta.dirname, `${suite}.bench.ts`);
      if (!existsSync(file)) continue;
      process.stderr.write(`bench: ${suite}…\n`);
      try {
        const mod = (await import(file)) as Bench;
        const figures = await mod.run({ redisUrl });
        results.push({ suite, figures });
        for (const f of figures) process.stdout.write(`${line(f)}\n`);
      } catch (err) {
        results.push({ suite, figures: [], error: (err as Error).stack ?? String(err) });
        process.stdout.write(`${suite}: FAILED TO RUN: ${(err as Error).message}\n`);
      }
    }
  } finally {
    await stop?.();
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const meta = { date: new Date().toISOString(), node: process.version, machine };
  if (only.length === 0) {
    writeFileSync(
      join(import.meta.dirname, 'results.json'),
      `${JSON.stringify({ ...meta, results }, null, 2)}\n`
    );
    mkdirSync(join(import.meta.dirname, '../docs'), { recursive: true });
    writeFileSync(join(import.meta.dirname, '../docs/BENCHMARKS.md'), markdown(meta, results));
  }
}

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

function line(f: Figure): string {
  const base = f.baseline
    ? `  (baseline ${f.baseline.name}: ${fmt(f.baseline.value)}; ${(f.value / f.baseline.value).toFixed(2)}×)`
    : '';
  return `${f.name}: ${fmt(f.value)} ${f.unit}${base}${f.goal ? `  goal: ${f.goal}` : ''}`;
}

function markdown(
  meta: { date: string; node: string; machine: string },
  results: { suite: string; figures: Figure[]; error?: string }[]
): string {
  const rows = results.flatMap((r) =>
    r.error
      ? [`| ${r.suite} | did not run: ${r.error.split('\n')[0]} | | | | |`]
      : r.figures.map(
          (f) =>
            `| ${r.suite} | ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)}` : '–'} | ${f.baseline ? `${(f.value / f.baseline.value).toFixed(2)}×` : '–'} | ${f.goal ?? '–'} |`
        )
  );
  return `# Benchmarks

Measured by \`npm run bench\` on ${meta.date.slice(0, 10)}; machine: ${meta.machine}; Node ${meta.node}.
Every figure is measured next to its baseline in the same run. Benchmarks print figures and never fail on speed.
Raw numbers: \`bench/results.json\`.

| suite | figure | value | baseline | ratio | goal |
|---|---|---|---|---|---|
${rows.join('\n')}
${notes()}`;
}

/** docs/benchmark-notes.md (A/B figures of removed or kept optimisations), appended as written. */
function notes(): string {
  const file = join(import.meta.dirname, '../docs/benchmark-notes.md');
  return existsSync(file) ? `\n${readFileSync(file, 'utf8')}` : '';
}

await main();
