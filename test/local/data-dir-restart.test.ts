/**
 * `pushguard local --data-dir` with a REAL registry on it (docker-registry 2.8, s3aws, Redis
 * cache): push an image, kill -9 pushguard local, start it again on the same directory and port.
 * The bucket comes back (the ready line counts what it found), the image still pulls, and a
 * re-push is healthy: it raises no finding. The control: with `--ephemeral` the same restart loses
 * the bucket while Redis still lists every blob, and the re-push is the bug (201, then 404) that
 * PushGuard reports.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, readableTempDir } from '../support/oci-image.ts';
import { findingOf, type PushguardLocal, startPushguardLocal } from '../support/pushguard-local.ts';
import { freePort, type RunningRedis, startRedisServer } from '../support/redis-server.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';
import { randomDigest, seedManifest } from '../support/seed-registry-cache.ts';
import { createSkopeoEnv, fetchManifest, type SkopeoEnv, skopeoCopy } from '../support/skopeo.ts';
import { s3ClientFor } from './support/emulator.ts';

const REGISTRY_DB = 1;
const revisionLink = (repo: string, d: string) =>
  `docker/registry/v2/repositories/${repo}/_manifests/revisions/sha256/${d.slice(7)}/link`;

interface Rig {
  redis: RunningRedis;
  cache: Redis;
  s3Port: number;
  registry: RunningRegistry;
  skopeo: SkopeoEnv;
  work: string;
  pg: PushguardLocal;
  start(dataDir?: string): Promise<PushguardLocal>;
}

async function startRig(dataDir: string | undefined): Promise<Rig> {
  const redis = await startRedisServer();
  const cache = new Redis(redis.url, { db: REGISTRY_DB });
  const s3Port = await freePort();
  const start = (dir?: string) =>
    startPushguardLocal({
      redisUrl: redis.url,
      registryDb: REGISTRY_DB,
      s3Port,
      window: '1s',
      dataDir: dir,
      extraArgs: ['--state-db', '3', '--settle', '50ms'],
    });
  const pg = await start(dataDir);
  const registry = await startRegistry({
    storage: { kind: 's3', endpoint: pg.ready.s3Endpoint, bucket: pg.ready.bucket },
    redisUrl: redis.url,
    redisDb: REGISTRY_DB,
  });
  const work = readableTempDir('pushguard-data-dir-');
  return { redis, cache, s3Port, registry, skopeo: createSkopeoEnv(), work, pg, start };
}

async function stopRig(rig: Rig | undefined): Promise<void> {
  if (!rig) return;
  await rig.registry.stop();
  await rig.pg.stop();
  rig.cache.disconnect();
  await rig.redis.stop();
  rig.skopeo.dispose();
  rmSync(rig.work, { recursive: true, force: true });
}

async function killHard(pg: PushguardLocal): Promise<void> {
  const gone = new Promise((r) => pg.process.once('exit', r));
  pg.process.kill('SIGKILL');
  await gone;
}

async function keyCount(endpoint: string): Promise<number> {
  const s3 = s3ClientFor(endpoint);
  try {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'registry' }));
    return out.KeyCount ?? 0;
  } finally {
    s3.destroy();
  }
}

/** Pushes, reads back (the read Harbor does, which caches blobs::<M>), returns the digest. */
async function pushAndRead(rig: Rig, seed: string) {
  const img = buildImage({ dir: join(rig.work, seed), seed, layers: [40_000, 9_000], tag: 'v1' });
  const dest = { host: rig.registry.host, repository: 'library/app', tag: 'v1' };
  const pushed = await skopeoCopy(rig.skopeo, img.ref, dest);
  expect(pushed.code).toBe(0);
  expect((await fetchManifest(rig.registry.url, 'library/app', 'v1')).status).toBe(200);
  expect(await rig.cache.exists(`blobs::${pushed.digest}`)).toBe(1);
  return { img, dest, digest: pushed.digest ?? '' };
}

/** Every layer of the image comes back whole through the registry (a pull). */
async function pullsWhole(rig: Rig, digests: string[]): Promise<void> {
  for (const d of digests) {
    const res = await fetch(`${rig.registry.url}/v2/library/app/blobs/${d}`);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(d);
  }
}

/**
 * A manifest whose data never reached S3 while the registry caches it: PushGuard reports it once
 * its window closes. Written after the re-push, its finding comes after any the re-push raises.
 */
async function control(rig: Rig): Promise<string> {
  const stale = randomDigest();
  await seedManifest(rig.cache, { digest: stale, size: 590 });
  const s3 = s3ClientFor(rig.pg.ready.s3Endpoint);
  await s3.send(
    new PutObjectCommand({
      Bucket: 'registry',
      Key: revisionLink('library/control', stale),
      Body: stale,
    })
  );
  s3.destroy();
  await rig.pg.waitFor((e) => e.event === 'finding' && findingOf(e).digest === stale, {
    what: 'the control finding',
  });
  return stale;
}

const findingsAbout = (pg: PushguardLocal, repo: string) =>
  pg.events('finding').filter((e) => findingOf(e).repository === repo);

describe('pushguard local --data-dir: the bucket survives kill -9 (real registry)', () => {
  let rig: Rig | undefined;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pushguard-local-s3-'));
    rig = await startRig(dataDir);
  }, 60_000);
  afterAll(async () => {
    await stopRig(rig);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('push, kill -9, restart: the image pulls and a re-push raises no finding', async () => {
    const r = rig!;
    expect(r.pg.ready).toMatchObject({ dataDir, objectsFound: 0 });
    const { img, dest, digest } = await pushAndRead(r, `data-dir-${process.pid}`);
    const keys = await keyCount(r.pg.ready.s3Endpoint);
    await killHard(r.pg);

    r.pg = await r.start(dataDir);
    expect(r.pg.ready).toMatchObject({ dataDir, objectsFound: keys });
    // 4 blobs (2 layers, config, manifest), 3 layer links, the revision, tag index and tag links.
    expect(keys).toBe(10);
    const pulled = await fetchManifest(r.registry.url, 'library/app', 'v1');
    expect(pulled).toMatchObject({ status: 200, digest });
    await pullsWhole(r, [...img.layers.map((l) => l.digest), img.config.digest]);

    const again = await skopeoCopy(r.skopeo, img.ref, dest);
    expect(again).toMatchObject({ code: 0, digest });
    expect((await fetchManifest(r.registry.url, 'library/app', 'v1')).status).toBe(200);
    await control(r);
    expect(findingsAbout(r.pg, 'library/app')).toEqual([]);
  }, 120_000);
});

describe('pushguard local --ephemeral: the control, the same restart loses the bucket', () => {
  let rig: Rig | undefined;
  beforeAll(async () => {
    rig = await startRig(undefined);
  }, 60_000);
  afterAll(async () => {
    await stopRig(rig);
  });

  it('the re-push answers 201, the pull 404, and PushGuard reports the missing manifest data', async () => {
    const r = rig!;
    expect(r.pg.ready).toMatchObject({ dataDir: null });
    const { img, dest, digest } = await pushAndRead(r, `ephemeral-${process.pid}`);
    await killHard(r.pg);
    r.pg = await r.start(undefined);
    expect(r.pg.ready.objectsFound).toBe(0);

    const again = await skopeoCopy(r.skopeo, img.ref, dest);
    expect(again).toMatchObject({ code: 0, digest });
    expect((await fetchManifest(r.registry.url, 'library/app', 'v1')).status).toBe(404);
    const finding = await r.pg.waitFor(
      (e) => e.event === 'finding' && findingOf(e).digest === digest,
      { what: 'the finding about the re-pushed manifest' }
    );
    expect(findingOf(finding.data)).toMatchObject({
      kind: 'manifest-data-missing',
      repository: 'library/app',
    });
  }, 120_000);
});
