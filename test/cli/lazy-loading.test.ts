/**
 * The built CLI loads only what the command it runs uses: `--help` and `replay` never load the
 * AWS SDK, ioredis or fauxqs (see lambdas/cli/main.ts). Every module the process resolves is
 * logged by test/support/module-log.mjs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pushguard.mjs');
const HOOK = join(ROOT, 'test', 'support', 'module-log.mjs');
const TRACES = join(ROOT, 'test', 'fixtures', 'registry-traces');
const tmp = mkdtempSync(join(tmpdir(), 'pushguard-modules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** Push, lost manifest data, stale re-push: one verified finding. */
const TRACE = join(tmp, 'stale.ndjson');
writeFileSync(
  TRACE,
  ['e1-push', 'e2-lose-manifest-data', 'e3-repush-stale']
    .map((n) => readFileSync(join(TRACES, `${n}.s3events.ndjson`), 'utf8'))
    .join('')
);

const HEAVY = [
  '/node_modules/@aws-sdk/',
  '/node_modules/@smithy/',
  '/node_modules/ioredis/',
  '/node_modules/fauxqs/',
];

let runs = 0;
/** Runs the built CLI; returns its exit code and every module URL it loaded. */
function loaded(args: string[]): { status: number | null; stdout: string; modules: string[] } {
  const log = join(tmp, `run-${runs++}.log`);
  const r = spawnSync(process.execPath, ['--import', HOOK, BIN, ...args], {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, PUSHGUARD_MODULE_LOG: log },
    timeout: 30_000,
  });
  const modules = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
  return { status: r.status, stdout: r.stdout, modules };
}
const heavy = (modules: string[]) => modules.filter((m) => HEAVY.some((h) => m.includes(h)));

describe('CLI start-up: each command loads only what it uses', () => {
  it.each(['--help', 'local --help', 'audit --help'])(
    '`pushguard %s` loads the built CLI and commander, and no SDK, ioredis or fauxqs',
    (cmd) => {
      const r = loaded(cmd.split(' '));
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Usage: pushguard');
      expect(r.modules.some((m) => m.endsWith('/dist/cli/main.mjs'))).toBe(true);
      expect(r.modules.some((m) => m.includes('/node_modules/commander/'))).toBe(true);
      expect(heavy(r.modules)).toEqual([]);
    }
  );

  it('`pushguard replay` loads its action chunk, and no SDK, ioredis or fauxqs', () => {
    const r = loaded(['replay', TRACE, '--json']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('"verified":true');
    expect(r.modules.some((m) => /\/dist\/cli\/replay-[^/]+\.mjs$/.test(m))).toBe(true);
    expect(heavy(r.modules)).toEqual([]);
  });

  it('the log sees them when a command does load them (`restore` loads ioredis)', () => {
    const r = loaded([
      'restore',
      join(tmp, 'no-such-record.json'),
      '--redis',
      'redis://127.0.0.1:1/1',
    ]);
    expect(r.status).toBe(1);
    expect(r.modules.some((m) => m.includes('/node_modules/ioredis/'))).toBe(true);
  });
});
