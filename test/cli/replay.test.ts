import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const TRACES = join(import.meta.dirname, '../fixtures/registry-traces');
const trace = (name: string) => readFileSync(join(TRACES, `${name}.s3events.ndjson`), 'utf8');
const BIN = join(import.meta.dirname, '../../bin/pushguard.mjs');
const STALE = 'sha256:8253b6d46b72820709392205cadf4f4e6219a47441d5406c3068e37d278ee09a';

function pushguard(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const findings = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const verified = (stdout: string) => findings(stdout).filter((f) => f.verified === true);

describe('Command: pushguard replay — recorded registry traces', () => {
  it('a normal push gives no findings', () => {
    const r = pushguard(
      ['replay', '-', '--root-directory', 'harbor', '--json'],
      trace('a-normal-push')
    );
    expect(r.status).toBe(0);
    expect(findings(r.stdout)).toEqual([]);
  });
  it('a normal push then a re-push of the same image gives no findings', () => {
    const r = pushguard(
      ['replay', '-', '--root-directory', '/harbor', '--json'],
      trace('a-normal-push') + trace('b1-repush-same')
    );
    expect(r.status).toBe(0);
    expect(findings(r.stdout)).toEqual([]);
  });
  it('push, lost manifest data, stale re-push: exactly one verified manifest-data-missing', () => {
    const input = trace('e1-push') + trace('e2-lose-manifest-data') + trace('e3-repush-stale');
    const r = pushguard(['replay', '-', '--root-directory', 'harbor', '--json'], input);
    expect(r.status).toBe(0);
    const all = findings(r.stdout);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      kind: 'manifest-data-missing',
      repository: 'library/stale',
      digest: STALE,
      tag: 'v1',
      verified: true,
      action: 'clear-cache',
    });
    expect(Object.keys(all[0]!).sort()).toEqual([
      'action',
      'digest',
      'evidence',
      'firstSeen',
      'kind',
      'lastSeen',
      'repository',
      'tag',
      'verified',
    ]);
    expect((all[0]!.evidence as string[]).join('\n')).toContain(`blobs::${STALE}`);
  });
  it('detects the root directory when none is given', () => {
    const input = trace('e1-push') + trace('e2-lose-manifest-data') + trace('e3-repush-stale');
    expect(verified(pushguard(['replay', '-', '--json'], input).stdout)).toHaveLength(1);
    expect(
      findings(pushguard(['replay', '-', '--json'], trace('noroot-a-normal-push')).stdout)
    ).toEqual([]);
  });
  it('a re-push alone is at most unverified: the data existence is unknown', () => {
    const r = pushguard(
      ['replay', '-', '--root-directory', 'harbor', '--json'],
      trace('b1-repush-same')
    );
    expect(r.status).toBe(0);
    expect(verified(r.stdout)).toEqual([]);
  });
  it('--now before the windows close reports nothing yet; the table output says so', () => {
    const input = trace('e1-push') + trace('e2-lose-manifest-data') + trace('e3-repush-stale');
    const r = pushguard(['replay', '-', '--now', '2026-11-25T19:55:40Z'], input);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('no findings');
    const later = pushguard(['replay', '-', '--now', '2026-11-25T20:10:00Z'], input);
    expect(later.stdout).toMatch(/manifest-data-missing\s+library\/stale/);
  });
});

describe('Command: pushguard replay — input handling and exit codes', () => {
  it('accepts lines wrapped as {receivedAt, body}', () => {
    const wrapped = (trace('e1-push') + trace('e2-lose-manifest-data') + trace('e3-repush-stale'))
      .split('\n')
      .filter(Boolean)
      .map((l, i) =>
        JSON.stringify({
          receivedAt: new Date(Date.parse('2026-11-25T19:56:00Z') + i * 10).toISOString(),
          body: JSON.parse(l),
        })
      )
      .join('\n');
    expect(verified(pushguard(['replay', '-', '--json'], wrapped).stdout)).toHaveLength(1);
  });
  it('exits 1 naming the line of a malformed record, or skips it with --skip-invalid', () => {
    const input = `${trace('a-normal-push').split('\n').slice(0, 3).join('\n')}\n{"Records":[{"eventVersion":"2.1"}]}\nnot json\n`;
    const bad = pushguard(['replay', '-'], input);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/line 4: .*Records\[0\]/);
    const skipped = pushguard(['replay', '-', '--skip-invalid', '--json'], input);
    expect(skipped.status).toBe(0);
    expect(skipped.stderr).toContain('skipped 2 invalid line(s)');
  });
  it('exits 2 on bad usage', () => {
    expect(pushguard(['replay', '-', '--window', '3h'], '').status).toBe(2);
    expect(pushguard(['replay', '-', '--window', 'soon'], '').status).toBe(2);
    expect(pushguard(['replay', '-', '--now', 'yesterday'], '').status).toBe(2);
    expect(pushguard(['replay'], '').status).toBe(2);
  });
  it('reads a file and fails clearly when it does not exist', () => {
    expect(
      pushguard(['replay', join(TRACES, 'a-normal-push.s3events.ndjson'), '--json']).stdout
    ).toBe('');
    const missing = pushguard(['replay', '/nonexistent/trace.ndjson']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('cannot read /nonexistent/trace.ndjson');
  });
});

describe('Command: pushguard replay — a reader that stops early', () => {
  it('a closed stdout (`| head`, `| grep -q`) ends the CLI quietly with status 0', async () => {
    const child = spawn(process.execPath, [BIN, 'replay', '-', '--root-directory', 'harbor'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // The reader goes away before the CLI writes its first line: every write gets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin.end(trace('e1-push') + trace('e2-lose-manifest-data') + trace('e3-repush-stale'));
    const [status] = (await once(child, 'close')) as [number | null];
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });
});
