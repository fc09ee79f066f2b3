/**
 * The sweep use case at scale (lambdas/app/sweep.ts) on the real redis-server and fauxqs S3: it
 * goes slice by slice, saves the SCAN cursor after each, stops starting slices when the invocation
 * runs short, and the next run resumes where the last stopped until the pass is complete, with
 * every stale entry cleared exactly once.
 */
import { describe, expect, it } from 'vitest';
import { RedisSweepProgress } from '../../lambdas/adapters/redis-sweep-progress.ts';
import { runSweep, type SweepDeps } from '../../lambdas/app/sweep.ts';
import { type Rig, ROOT, rigSuite } from '../integration/remediate.helpers.ts';
import {
  clearDb,
  seedCoreCacheDecoys,
  seedStaleManifests,
} from '../support/seed-registry-cache.ts';

const N = 30;
const suite = rigSuite();
let rig: Rig | undefined;

async function seeded(): Promise<{ rig: Rig; deps: SweepDeps; digests: string[] }> {
  rig = await suite.rig({ config: { settleMs: 5000, maxDeletesPerRun: 1000 } });
  for (const c of [rig.registry, rig.core, rig.state]) await clearDb(c);
  await seedCoreCacheDecoys(rig.core);
  const digests = await seedStaleManifests(rig.registry, N);
  const deps: SweepDeps = {
    audit: {
      checker: rig.deps.checker,
      registryCache: rig.deps.registryCache,
      rootDirectory: ROOT,
      scanCount: 4,
    },
    remediator: rig.deps,
    progress: new RedisSweepProgress(rig.state),
    sliceDigests: 8,
    reserveMs: 1000,
  };
  return { rig, deps, digests };
}

describe('Use case: runSweep', () => {
  it('resumes from the saved cursor run after run until the pass is complete', async () => {
    const { rig, deps } = await seeded();
    const runs: { from: string; cursor: string; cleared: number; slices: number }[] = [];
    for (let i = 0; i < 20; i++) {
      // Each run has time for one slice only.
      const s = await runSweep(deps, { remainingMs: () => 0 });
      runs.push({
        from: s.resumedFrom,
        cursor: s.cursor,
        cleared: s.fix!.cleared,
        slices: s.slices,
      });
      if (s.cursor === '0') break;
    }
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.every((r) => r.slices === 1)).toBe(true);
    expect(runs[0]!.from).toBe('0');
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.from).toBe(runs[i - 1]!.cursor);
    expect(runs.at(-1)!.cursor).toBe('0');
    expect(runs.reduce((n, r) => n + r.cleared, 0)).toBe(N);
    expect(await rig.registry.keys('blobs::*')).toEqual([]);
    expect(await rig.state.get('pushguard:sweep:cursor')).toBeNull();
    expect(await rig.auditFiles()).toHaveLength(N);
  });

  it('keeps going slice after slice while time is left, in one run', async () => {
    const { rig, deps } = await seeded();
    const s = await runSweep(deps, { remainingMs: () => 60_000 });
    expect(s.slices).toBeGreaterThan(1);
    expect([s.cursor, s.stale, s.fix!.cleared, s.fix!.errors]).toEqual(['0', N, N, 0]);
    expect(await rig.registry.keys('blobs::*')).toEqual([]);
  });

  it('overlaps the settle waits: all plans wait at once, not in groups of 4', async () => {
    const { rig, deps } = await seeded();
    let waiting = 0;
    let most = 0;
    let release: (() => void) | undefined;
    const everyone = new Promise<void>((r) => {
      release = r;
    });
    // A settle wait ends only when all N plans wait: waits in groups would never all be released
    // and the test times out.
    const clock = {
      now: rig.deps.clock.now,
      sleep: async (ms: number) => {
        if (ms !== 5000) return rig.deps.clock.sleep(ms);
        most = Math.max(most, ++waiting);
        if (waiting === N) release?.();
        await everyone;
        waiting--;
      },
    };
    const s = await runSweep(
      { ...deps, sliceDigests: N, remediator: { ...rig.deps, clock } },
      { remainingMs: () => 60_000 }
    );
    expect(s.fix!.cleared).toBe(N);
    expect(most).toBe(N);
  });
});
