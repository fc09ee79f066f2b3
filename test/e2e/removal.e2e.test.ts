/**
 * Clear on removal end to end, with restore off and PushGuard's state empty (images it never
 * saw: pushed before it ran, or older than its fact retention). Registry A writes to `pushguard
 * local --enforce`; PushGuard's state DB is flushed after each push, so only the removal events
 * themselves tell it anything.
 *
 *   6 manifest and layer data removed → the cache entries go at once; the first re-push answers
 *     201 and the pull 200 with intact bytes
 *   7 whole-image loss (deleted through the API, garbage-collected, no Redis flush) → pullable
 *     after one re-push
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltImage, buildImage } from '../support/oci-image.ts';
import { findingOf } from '../support/pushguard-local.ts';
import { fetchManifest } from '../support/skopeo.ts';
import {
  DECOYS,
  dataKey,
  deleteObject,
  dumpKeys,
  objectExists,
  STATE_DB,
  type Stack,
  startStack,
} from './harness.ts';
import { garbageCollect, getBlob, pushTo } from './restore.helpers.ts';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('PushGuard e2e: clear on removal with an empty state (pushguard local --enforce, no restore)', () => {
  let stack: Stack;
  let state: Redis;
  let decoysBefore: (string | null)[];

  beforeAll(async () => {
    stack = await startStack({ rootDirectory: '/harbor', windowMs: 3_000, enforce: true });
    state = new Redis(stack.redisServer.url, { db: STATE_DB });
    decoysBefore = await dumpKeys(stack.cache, DECOYS.registry);
  }, 120_000);

  afterAll(async () => {
    state?.disconnect();
    await stack?.stop();
  });

  /** Pushes, reads back (the GET caches blobs::<M>), then forgets everything PushGuard learned. */
  async function pushUnseen(img: BuiltImage, repo: string): Promise<string> {
    const m = await pushTo(stack.skopeo, img.ref, [stack.registry.host], {
      repository: repo,
      tag: 'v1',
    });
    expect((await fetchManifest(stack.registry.url, repo, 'v1')).status).toBe(200);
    // The push is ingested once the repository's state knows its tag (the last write), then
    // PushGuard forgets all of it.
    const deadline = Date.now() + 20_000;
    while (!String(await state.get(`pushguard:repo:${repo}`)).includes('v1')) {
      expect(Date.now(), `state of ${repo}`).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    await state.flushdb();
    for (const d of [m, img.config.digest, ...img.layers.map((l) => l.digest)]) {
      expect(await stack.cache.exists(`blobs::${d}`), d).toBe(1);
    }
    return m;
  }

  /** Waits for the removal action of each digest; its blobs:: entry is then gone. */
  async function clearedOnRemoval(digests: readonly string[], from: number): Promise<void> {
    for (const d of digests) {
      const line = await stack.pg.waitFor(
        (e) =>
          e.event === 'action' &&
          findingOf(e).kind === 'blob-data-removed' &&
          findingOf(e).digest === d,
        { from, what: `blob-data-removed action for ${d}`, timeoutMs: 30_000 }
      );
      expect(line.data.decision, d).toBe('cleared');
      expect(line.data.clearedKeys).toEqual([`blobs::${d}`]);
      expect(await stack.cache.exists(`blobs::${d}`)).toBe(0);
    }
  }

  async function pullIntact(img: BuiltImage, repo: string, m: string): Promise<void> {
    const got = await fetchManifest(stack.registry.url, repo, 'v1');
    expect(got.status).toBe(200);
    expect(sha(got.body)).toBe(m);
    for (const l of img.layers) {
      const blob = await getBlob(stack.registry.url, repo, l.digest);
      expect(blob.status).toBe(200);
      expect(blob.bytes.equals(l.bytes)).toBe(true);
    }
  }

  it('case 6: manifest and layer data removed from an image PushGuard never saw → the first re-push works', async () => {
    const repo = 'legacy/app';
    const img = buildImage({
      dir: join(stack.work, 'e6'),
      seed: 'removal-6',
      layers: [60_000, 9_000],
      tag: 'v1',
    });
    const m = await pushUnseen(img, repo);
    const from = stack.pg.received.length;
    const lost = [m, img.layers[0]!.digest];
    for (const d of lost) await deleteObject(stack, dataKey(stack, d));
    await clearedOnRemoval(lost, from);
    const again = await pushTo(stack.skopeo, img.ref, [stack.registry.host], {
      repository: repo,
      tag: 'v1',
    });
    expect(again).toBe(m);
    for (const d of lost) expect(await objectExists(stack, dataKey(stack, d))).toBe(true);
    await pullIntact(img, repo, m);
  }, 90_000);

  it('case 7: whole-image loss (API delete, GC without its Redis flush), state empty → pullable after one re-push', async () => {
    const repo = 'legacy/team/whole';
    const img = buildImage({
      dir: join(stack.work, 'e7'),
      seed: 'removal-7',
      layers: [34 * 1024 * 1024, 20_000],
      tag: 'v1',
    });
    const m = await pushUnseen(img, repo);
    const del = await fetch(`${stack.registry.url}/v2/${repo}/manifests/${m}`, {
      method: 'DELETE',
    });
    expect(del.status).toBe(202);
    const from = stack.pg.received.length;
    await garbageCollect(stack.registry);
    const all = [m, img.config.digest, ...img.layers.map((l) => l.digest)];
    for (const d of all) expect(await objectExists(stack, dataKey(stack, d))).toBe(false);
    await clearedOnRemoval(all, from);
    await pushTo(stack.skopeo, img.ref, [stack.registry.host], { repository: repo, tag: 'v1' });
    await pullIntact(img, repo, m);
  }, 120_000);

  it('never touched a decoy key', async () => {
    expect(await dumpKeys(stack.cache, DECOYS.registry)).toEqual(decoysBefore);
  });
});
