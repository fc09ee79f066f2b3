/**
 * Restore end to end: registry A (Debian docker-registry 2.8 on `pushguard local --enforce
 * --restore-from <B>`, Redis cache in DB 1) and registry B (a second docker-registry on local
 * filesystem storage holding the same images, the peer). Each case removes data from A's bucket
 * and asserts what PushGuard printed, what A's bucket and Redis hold, and what A serves.
 *
 *   1 manifest data removed → restored from B, pull from A 200 with no push, cache entry kept
 *   2 a 40 MiB layer's data removed → restored through a multipart upload, exact bytes served
 *   3 a child manifest and a layer of a multi-arch index in a nested repository → restored
 *   4 B serves wrong bytes → nothing written, the action says why, the cache entry is cleared
 *   5 image deleted through the API and garbage-collected → nothing restored, entries cleared
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, buildMultiArchIndex } from '../support/oci-image.ts';
import { findingOf } from '../support/pushguard-local.ts';
import { fetchManifest } from '../support/skopeo.ts';
import {
  cacheKeysOf,
  DECOYS,
  dataKey,
  deleteObject,
  dumpKeys,
  linesFor,
  objectExists,
  type Stack,
  startStack,
  waitLine,
} from './harness.ts';
import {
  corruptPeerBlob,
  garbageCollect,
  getBlob,
  type Peer,
  pushTo,
  startPeer,
} from './restore.helpers.ts';

const WINDOW_MS = 4_000;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('PushGuard e2e: restore from a peer registry (pushguard local --enforce --restore-from B)', () => {
  let stack: Stack;
  let peer: Peer;
  let decoysBefore: (string | null)[];

  beforeAll(async () => {
    peer = await startPeer();
    stack = await startStack({
      rootDirectory: '/harbor',
      windowMs: WINDOW_MS,
      enforce: true,
      extraArgs: ['--restore-from', peer.registry.url],
    });
    decoysBefore = await dumpKeys(stack.cache, DECOYS.registry);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await peer?.stop();
  });

  const both = () => [stack.registry.host, peer.registry.host];

  it('case 1: manifest data removed from A → restored from B; A serves the manifest, no push', async () => {
    const repo = 'library/restore-manifest';
    const img = buildImage({
      dir: join(stack.work, 'r1'),
      seed: 'r1',
      layers: [20_000],
      tag: 'v1',
    });
    const m = await pushTo(stack.skopeo, img.ref, both(), { repository: repo, tag: 'v1' });
    const before = await fetchManifest(stack.registry.url, repo, 'v1');
    expect(before.status).toBe(200);
    expect(await stack.cache.exists(`blobs::${m}`)).toBe(1);

    await deleteObject(stack, dataKey(stack, m));
    const action = (await waitLine(stack, 'action', repo, 'manifest-data-missing', m)).data;
    expect(action.decision).toBe('restored');
    expect(action.restored).toMatchObject({
      source: 'registry',
      origin: `${peer.registry.url}/v2/${repo}/manifests/${m}`,
      verifiedDigest: m,
      key: dataKey(stack, m),
    });
    expect(action.clearedKeys).toEqual([]);
    expect(action.auditId).toEqual(expect.any(String));
    expect(await objectExists(stack, dataKey(stack, m))).toBe(true);
    // The cache entry is true again: left in place.
    expect(await stack.cache.exists(`blobs::${m}`)).toBe(1);
    const after = await fetchManifest(stack.registry.url, repo, 'v1');
    expect(after.status).toBe(200);
    expect(sha(after.body)).toBe(m);
    expect(after.body.equals(before.body)).toBe(true);
  }, 90_000);

  it('case 2: a 40 MiB layer removed from A → restored (multipart, hashed as it streams), exact bytes', async () => {
    const repo = 'library/restore-layer';
    const img = buildImage({
      dir: join(stack.work, 'r2'),
      seed: 'r2',
      layers: [40 * 1024 * 1024, 3_000],
      tag: 'v1',
    });
    const big = img.layers[0]!;
    expect(big.size).toBeGreaterThan(32 * 1024 * 1024);
    await pushTo(stack.skopeo, img.ref, both(), { repository: repo, tag: 'v1' });
    await deleteObject(stack, dataKey(stack, big.digest));
    const action = (await waitLine(stack, 'action', repo, 'layer-data-missing', big.digest, 60_000))
      .data;
    expect(action.decision).toBe('restored');
    expect(action.restored).toMatchObject({ source: 'registry', size: big.size });
    expect(String(action.detail)).toContain('layer link and manifest');
    const got = await getBlob(stack.registry.url, repo, big.digest);
    expect(got.status).toBe(200);
    expect(got.bytes.length).toBe(big.size);
    expect(got.bytes.equals(big.bytes)).toBe(true);
    expect(await cacheKeysOf(stack.cache, repo, big.digest)).toMatchObject({
      blob: true,
      member: true,
    });
  }, 180_000);

  it('case 3: multi-arch index in a nested repository: a child manifest and a layer restored', async () => {
    const repo = 'team/platform/base/multi';
    const idx = buildMultiArchIndex({
      dir: join(stack.work, 'r3'),
      seed: 'r3',
      layerSizes: [9_000],
    });
    const top = await pushTo(
      stack.skopeo,
      idx.ref,
      both(),
      { repository: repo, tag: 'v1' },
      {
        all: true,
        format: 'oci',
      }
    );
    expect(top).toBe(idx.index.digest);
    const child = idx.children[1]!.manifest.digest;
    const layer = idx.layers[0]!;
    await deleteObject(stack, dataKey(stack, child));
    await deleteObject(stack, dataKey(stack, layer.digest));
    const a1 = (await waitLine(stack, 'action', repo, 'manifest-data-missing', child)).data;
    const a2 = (await waitLine(stack, 'action', repo, 'layer-data-missing', layer.digest)).data;
    expect([a1.decision, a2.decision]).toEqual(['restored', 'restored']);
    const m = await fetchManifest(stack.registry.url, repo, child);
    expect(m.status).toBe(200);
    expect(sha(m.body)).toBe(child);
    const l = await getBlob(stack.registry.url, repo, layer.digest);
    expect(l.bytes.equals(layer.bytes)).toBe(true);
  }, 90_000);

  it('case 4: B serves wrong bytes → nothing written, the action says why, the entry is cleared', async () => {
    const repo = 'library/restore-tampered';
    const img = buildImage({
      dir: join(stack.work, 'r4'),
      seed: 'r4',
      layers: [30_000],
      tag: 'v1',
    });
    await pushTo(stack.skopeo, img.ref, both(), { repository: repo, tag: 'v1' });
    const lost = img.layers[0]!.digest;
    corruptPeerBlob(peer, lost);
    await deleteObject(stack, dataKey(stack, lost));
    const action = (await waitLine(stack, 'action', repo, 'layer-data-missing', lost)).data;
    expect(action.decision).toBe('cleared');
    expect(action.restored).toBeUndefined();
    expect(String(action.detail)).toMatch(
      new RegExp(
        `Not restored .*${peer.registry.url}.* hashing to sha256:[a-f0-9]{64}, not ${lost}; nothing written`
      )
    );
    expect(await objectExists(stack, dataKey(stack, lost))).toBe(false);
    expect(action.clearedKeys).toContain(`blobs::${lost}`);
    expect(await cacheKeysOf(stack.cache, repo, lost)).toEqual({
      blob: false,
      member: false,
      repoHash: false,
    });
  }, 90_000);

  it('case 5: image deleted through the API and garbage-collected → nothing restored, entries cleared', async () => {
    const repo = 'library/restore-gc';
    const img = buildImage({
      dir: join(stack.work, 'r5'),
      seed: 'r5',
      layers: [12_000, 7_000],
      tag: 'v1',
    });
    const m = await pushTo(stack.skopeo, img.ref, both(), { repository: repo, tag: 'v1' });
    expect((await fetchManifest(stack.registry.url, repo, 'v1')).status).toBe(200);
    const digests = [m, img.config.digest, ...img.layers.map((l) => l.digest)];
    for (const d of digests) expect(await stack.cache.exists(`blobs::${d}`)).toBe(1);
    const del = await fetch(`${stack.registry.url}/v2/${repo}/manifests/${m}`, {
      method: 'DELETE',
    });
    expect(del.status).toBe(202);
    const from = stack.pg.received.length;
    await garbageCollect(stack.registry);
    for (const d of digests) expect(await objectExists(stack, dataKey(stack, d))).toBe(false);
    // Every digest's blobs:: entry goes, whatever path reports it (a layer PushGuard saw linked,
    // or a removal of data no repository links any more).
    for (const d of digests) {
      await stack.pg.waitFor(
        (e) =>
          e.event === 'action' &&
          findingOf(e).digest === d &&
          (e.decision === 'cleared' || e.decision === 'nothing-cached'),
        { from, what: `clear of ${d}`, timeoutMs: 30_000 }
      );
      expect(await stack.cache.exists(`blobs::${d}`)).toBe(0);
    }
    const after = stack.pg.received.slice(from).map((r) => r.data);
    expect(after.filter((e) => e.event === 'action' && e.decision === 'restored')).toEqual([]);
    for (const d of digests) expect(await objectExists(stack, dataKey(stack, d))).toBe(false);
    expect(
      linesFor(stack, 'action', repo).some((e) => String(e.detail).startsWith('Not restored'))
    ).toBe(true);
  }, 90_000);

  it('never touched a decoy key', async () => {
    expect(await dumpKeys(stack.cache, DECOYS.registry)).toEqual(decoysBefore);
  });
});
