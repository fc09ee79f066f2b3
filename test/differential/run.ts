/**
 * Runs `pushguard replay` in-process (the same `main` bin/pushguard.mjs calls) on a case's bytes
 * and returns what a terminal would see: exit code, stdout and stderr, as one text.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../lambdas/cli/main.ts';
import { normalizeMessage } from '../../lambdas/domain/events.ts';
import { caseInput, type ReplayCase, readInput } from './cases.ts';

const work = mkdtempSync(join(tmpdir(), 'pushguard-differential-'));

/** Captures process.stdout/stderr writes while `run` is pending (commands write nowhere else). */
async function captured(run: () => Promise<number>): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  const savedExit = process.exitCode;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  let code: number;
  try {
    process.exitCode = undefined;
    code = await run();
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
    process.exitCode = savedExit;
  }
  return `exit ${code}\n--- stdout\n${out.join('')}--- stderr\n${err.join('')}`;
}

/** One case, `--json` or the text table. */
export async function runReplayCase(c: ReplayCase, json: boolean): Promise<string> {
  const file = join(work, `${c.name}.ndjson`);
  writeFileSync(file, caseInput(c));
  const argv = ['node', 'pushguard', 'replay', file, ...c.args, ...(json ? ['--json'] : [])];
  return captured(() => main(argv));
}

/** Sorted keys, so the normaliser comparison checks values, not literal property order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = Object.create(null);
  for (const k of Object.keys(value).sort())
    out[k] = canonical((value as Record<string, unknown>)[k]);
  return out;
}

function normalizeLine(line: string, rootDirectory?: string): string {
  try {
    const opts = rootDirectory === undefined ? {} : { rootDirectory };
    return JSON.stringify(canonical(normalizeMessage(line, opts)));
  } catch (err) {
    const e = err as Error & { field?: string };
    return JSON.stringify({ error: e.name, message: e.message, field: e.field ?? null });
  }
}

/** Every line of one input file through `normalizeMessage`: detected root, `harbor`, `/`. */
export function normalizeSource(file: string): string {
  const rows: string[] = [];
  for (const line of readInput(file)) {
    rows.push(normalizeLine(line));
    rows.push(normalizeLine(line, 'harbor'));
    rows.push(normalizeLine(line, '/'));
  }
  return `${rows.join('\n')}\n`;
}

/** Fixture file names: one per case and format, one per normaliser source. */
export const replayOutName = (c: ReplayCase, json: boolean) =>
  `replay/${c.name}.${json ? 'json' : 'text'}.out`;
export const normalizeOutName = (file: string) =>
  `normalize/${file
    .split('/')
    .pop()!
    .replace(/\.(json|ndjson|txt)$/, '')}.ndjson`;
