/**
 * `remediate` (SQS findings) and `sweep` (scheduled) handlers against the real redis-server
 * (registry DB seeded from the recorded e3 trace, cache-layer and state DBs) and fauxqs S3, with
 * the remediator rig of the integration tests (file audit log, recording tracker and notifier).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeHandler as makeRemediate } from '../../lambdas/handlers/remediate.ts';
import { makeHandler as makeSweep } from '../../lambdas/handlers/sweep.ts';
import type { StorageChecker } from '../../lambdas/ports.ts';
import {
  finding,
  type Rig,
  type RigOptions,
  ROOT,
  rigSuite,
  STALE,
} from '../integration/remediate.helpers.ts';
import {
  clearDb,
  seedCacheLayer,
  seedCoreCacheDecoys,
  seedFromTrace,
} from '../support/seed-registry-cache.ts';
import { lambdaContext, sqsLambdaEvent } from './support.ts';

const TRACE = readFileSync(
  new URL('../fixtures/registry-traces/e3-repush-stale.redis.txt', import.meta.url),
  'utf8'
);
const UNKNOWN = 'sha256:0000000000000000000000000000000000000000000000000000000000000bad';

const suite = rigSuite();
let rig: Rig | undefined;

async function seeded(
  config: RigOptions['config'],
  checker?: (real: StorageChecker) => StorageChecker
) {
  rig = await suite.rig({ config: { settleMs: 0, ...config } });
  if (checker) rig.deps.checker = checker(rig.deps.checker);
  for (const c of [rig.registry, rig.core, rig.state]) await clearDb(c);
  await seedFromTrace(rig.registry, TRACE, 'AFTER');
  await seedCoreCacheDecoys(rig.core);
  await seedCacheLayer(rig.core, 'library/stale', STALE);
  return rig;
}

/** S3 "does not answer" for one digest's objects (a timeout is `unknown`, never `missing`). */
const unknownFor =
  (digest: string) =>
  (real: StorageChecker): StorageChecker => ({
    head: (key) => (key.includes(digest.slice(7)) ? Promise.resolve('unknown') : real.head(key)),
    readManifest: (key) => real.readManifest(key),
  });

describe('Function: remediate', () => {
  it('clears the stale keys of a good finding and fails exactly the bad records', async () => {
    const r = await seeded({ mode: 'enforce' }, unknownFor(UNKNOWN));
    const bodies = [
      JSON.stringify(finding()),
      'not json',
      JSON.stringify(finding({ digest: UNKNOWN, repository: 'library/other' })),
      JSON.stringify({ id: 'x' }),
    ];
    const res = await makeRemediate(r.deps)(
      sqsLambdaEvent(bodies, 'f'),
      lambdaContext('remediate')
    );
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'f-1',
      'f-2',
      'f-3',
    ]);
    expect(await r.registry.exists(`blobs::${STALE}`)).toBe(0);
    expect(await r.core.exists(`cache:manifest:digest:${STALE}`)).toBe(0);
    expect(await r.auditFiles()).toHaveLength(1);
  });

  it('deletes nothing in dry-run and still writes the plan to the audit log', async () => {
    const r = await seeded({ mode: 'dry-run' });
    const res = await makeRemediate(r.deps)(
      sqsLambdaEvent([JSON.stringify(finding())], 'd'),
      lambdaContext('remediate')
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(await r.registry.exists(`blobs::${STALE}`)).toBe(1);
    expect(r.notifier.sent[0]?.mode).toBe('dry-run');
  });
});

describe('Function: sweep', () => {
  it('finds the stale manifest of the recorded trace and reports it (dry-run)', async () => {
    const r = await seeded({ mode: 'dry-run' });
    // Storage holds every cached blob except the stale manifest's data.
    const cached = (await r.registry.keys('blobs::*')).map((k) => k.slice('blobs::'.length));
    for (const d of cached.filter((d) => d !== STALE)) {
      await r.putObject(
        `${ROOT}/docker/registry/v2/blobs/sha256/${d.slice(7, 9)}/${d.slice(7)}/data`
      );
    }
    const sweep = makeSweep({
      remediator: r.deps,
      audit: { checker: r.deps.checker, registryCache: r.deps.registryCache, rootDirectory: ROOT },
    });
    const summary = await sweep({}, lambdaContext('sweep'));
    expect(cached.length).toBeGreaterThan(1);
    expect(summary).toMatchObject({ checked: cached.length, stale: 1, unknown: 0 });
    expect(summary.fix?.wouldClear).toBe(1);
    expect(summary.fix?.keysCleared ?? 0).toBe(0);
    expect(await r.registry.exists(`blobs::${STALE}`)).toBe(1);
  });
});
