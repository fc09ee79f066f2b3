/**
 * The end-to-end rig on its own, without PushGuard: a real docker-registry (filesystem storage,
 * Redis blob-descriptor cache on a DB of its own) and skopeo pushing images built offline.
 * Proves the helpers the registry suite relies on: push, re-push, cross-repository mount,
 * multi-arch index, 200 vs 404 MANIFEST_UNKNOWN, and an upload cut mid-PATCH by the fault proxy.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { buildImage, buildMultiArchIndex, readableTempDir } from '../support/oci-image.ts';
import { allocateDbs, redisClient, redisUrlForDb } from '../support/redis.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';
import { createSkopeoEnv, fetchManifest, type SkopeoEnv, skopeoCopy } from '../support/skopeo.ts';

describe('e2e rig: docker-registry (filesystem) + skopeo', () => {
  let work: string;
  let registry: RunningRegistry;
  let redis: Redis;
  let skopeo: SkopeoEnv;
  let db: number;

  beforeAll(async () => {
    work = readableTempDir('pushguard-rig-');
    [db] = (await allocateDbs(1)) as [number];
    redis = await redisClient(db);
    registry = await startRegistry({
      storage: { kind: 'filesystem', dir: join(work, 'storage') },
      redisUrl: redisUrlForDb(db),
    });
    skopeo = createSkopeoEnv();
  });

  afterAll(async () => {
    await registry?.stop();
    redis?.disconnect();
    skopeo?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('pushes an image, GET is 200, the blob cache fills Redis, a re-push and a tag work', async () => {
    const img = buildImage({
      dir: join(work, 'app'),
      seed: 'rig-app',
      layers: [4096, 70_000],
      tag: 'v1',
    });
    const pushed = await skopeoCopy(skopeo, img.ref, {
      host: registry.host,
      repository: 'library/app',
      tag: 'v1',
    });
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect(pushed.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const got = await fetchManifest(registry.url, 'library/app', 'v1');
    expect(got.status).toBe(200);
    expect(got.digest).toBe(pushed.digest);
    expect(got.contentType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    for (const l of img.layers) {
      expect(await redis.hget(`blobs::${l.digest}`, 'size')).toBe(String(l.size));
      expect(await redis.sismember('repository::library/app::blobs', l.digest)).toBe(1);
    }
    expect(await redis.exists(`blobs::${pushed.digest}`)).toBe(1); // written by the GET
    const again = await skopeoCopy(skopeo, img.ref, {
      host: registry.host,
      repository: 'library/app',
      tag: 'v2',
    });
    expect(again.code).toBe(0);
    expect(again.digest).toBe(pushed.digest);
    expect((await fetchManifest(registry.url, 'library/app', 'v2', 'HEAD')).status).toBe(200);
  });

  it('mounts shared layers into another repository', async () => {
    const base = buildImage({
      dir: join(work, 'base'),
      seed: 'rig-base',
      layers: [8192],
      tag: 'v1',
    });
    expect(
      (
        await skopeoCopy(skopeo, base.ref, {
          host: registry.host,
          repository: 'team/base',
          tag: 'v1',
        })
      ).code
    ).toBe(0);
    const derived = buildImage({
      dir: join(work, 'derived'),
      seed: 'rig-derived',
      layers: [base.layers[0]!, 2048],
      tag: 'v1',
    });
    const res = await skopeoCopy(skopeo, derived.ref, {
      host: registry.host,
      repository: 'team/other',
      tag: 'v1',
    });
    expect(res.code).toBe(0);
    expect(registry.logs()).toMatch(
      /POST \/v2\/team\/other\/blobs\/uploads\/\?from=team%2Fbase&mount=sha256%3A[a-f0-9]{64} HTTP\/1\.1" 201/
    );
    expect(await redis.sismember('repository::team/other::blobs', base.layers[0]!.digest)).toBe(1);
  });

  it('pushes a multi-arch index as a Docker manifest list', async () => {
    const idx = buildMultiArchIndex({
      dir: join(work, 'multi'),
      seed: 'rig-multi',
      layerSizes: [1024],
      tag: 'v1',
    });
    const res = await skopeoCopy(
      skopeo,
      idx.ref,
      { host: registry.host, repository: 'library/multi', tag: 'v1' },
      { all: true }
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const got = await fetchManifest(registry.url, 'library/multi', 'v1');
    expect(got.status).toBe(200);
    expect(got.contentType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    const list = JSON.parse(got.body.toString()) as {
      manifests: { platform: { architecture: string } }[];
    };
    expect(list.manifests.map((m) => m.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
  });

  it('answers 404 MANIFEST_UNKNOWN for a tag never pushed', async () => {
    const got = await fetchManifest(registry.url, 'library/app', 'nope');
    expect(got.status).toBe(404);
    expect(got.errors[0]?.code).toBe('MANIFEST_UNKNOWN');
  });

  it('fails a push whose PATCH the fault proxy cuts mid-upload', async () => {
    const proxy: FaultProxy = await startFaultProxy({ host: '127.0.0.1', port: registry.port });
    try {
      const big = buildImage({
        dir: join(work, 'big'),
        seed: 'rig-big',
        layers: [1024, 6 * 1024 * 1024],
        tag: 'v1',
      });
      proxy.set({ cut: { direction: 'upstream', afterBytes: 3 * 1024 * 1024, scope: 'total' } });
      const res = await skopeoCopy(skopeo, big.ref, {
        host: proxy.address,
        repository: 'library/cut',
        tag: 'v1',
      });
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(
        /writing blob: Patch .*(connection reset by peer|use of closed network connection|broken pipe|EOF)/
      );
      expect(proxy.stats().cuts).toBe(1);
      expect((await fetchManifest(registry.url, 'library/cut', 'v1')).status).toBe(404);
    } finally {
      await proxy.close();
    }
  });
});
