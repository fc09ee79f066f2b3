/**
 * Differential replay: the same recorded inputs give byte for byte what main gave at d63cd26
 * (before the issue-14 refactors). The expected outputs were recorded by ./record.ts on that commit;
 * a difference here is a behaviour change, never a fixture to refresh casually.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NORMALIZE_SOURCES, OUT_DIR, REPLAY_CASES } from './cases.ts';
import { normalizeOutName, normalizeSource, replayOutName, runReplayCase } from './run.ts';

const expected = (name: string) => readFileSync(join(OUT_DIR, name), 'utf8');

describe('differential replay against main at d63cd26', () => {
  it.each(REPLAY_CASES.map((c) => [c.name, c] as const))(
    'pushguard replay %s (--json and text) is unchanged',
    async (_name, c) => {
      expect(await runReplayCase(c, true)).toBe(expected(replayOutName(c, true)));
      expect(await runReplayCase(c, false)).toBe(expected(replayOutName(c, false)));
    }
  );

  it.each(NORMALIZE_SOURCES)('normalizeMessage on every line of %s is unchanged', (file) => {
    expect(normalizeSource(file)).toBe(expected(normalizeOutName(file)));
  });

  it('the recorded outputs can tell behaviours apart (a control: they are not all alike)', () => {
    const outputs = new Set(REPLAY_CASES.map((c) => expected(replayOutName(c, true))));
    expect(outputs.size).toBeGreaterThanOrEqual(20);
    const verified = REPLAY_CASES.filter((c) =>
      expected(replayOutName(c, true)).includes('"verified":true')
    );
    expect(verified.length).toBeGreaterThanOrEqual(10);
    const failing = REPLAY_CASES.filter((c) =>
      expected(replayOutName(c, true)).startsWith('exit 1')
    );
    expect(failing.map((c) => c.name)).toEqual([
      'not-an-event',
      'e123-invalid-mid',
      'readable-txt',
    ]);
  });
});
