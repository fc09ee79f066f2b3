/**
 * A REAL registry (Debian's docker-registry, distribution 2.8, s3aws driver, Redis cache) on the
 * local S3 emulator, pushed with skopeo: every push works (small blobs, a 48 MiB layer moved by
 * UploadPartCopy, parts over 11 MiB), and the emulator's S3 notifications follow the sequence
 * recorded in registry-on-s3-emulator.md §2a, §2g and §2f.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3EventRecord } from '../../lambdas/local/s3-emulator/s3-notifications.ts';
import { buildImage, readableTempDir } from '../support/oci-image.ts';
import { allocateDbs, redisClient, redisUrlForDb } from '../support/redis.ts';
import { type RunningRegistry, startRegistry } from '../support/registry.ts';
import { createSkopeoEnv, fetchManifest, type SkopeoEnv, skopeoCopy } from '../support/skopeo.ts';
import {
  drain,
  notificationQueue,
  startTestEmulator,
  type TestEmulator,
} from './support/emulator.ts';

const MiB = 1024 * 1024;
const R = 'harbor/docker/registry/v2/';

/** `Put repositories/library/app/_uploads/<u>/startedat`-style labels, uuids and digests masked. */
function labels(bodies: string[]): string[] {
  return bodies.map((b) => {
    const r = (JSON.parse(b) as { Records: S3EventRecord[] }).Records[0]!;
    const op = { 'ObjectCreated:Put': 'Put', 'ObjectCreated:Copy': 'Copy' }[r.eventName] ?? '';
    const name = op || (r.eventName === 'ObjectRemoved:Delete' ? 'Del' : 'CMU');
    const key = decodeURIComponent(r.s3.object.key.replaceAll('+', ' '))
      .replace(R, '')
      .replace(/_uploads\/[0-9a-f-]{36}/, '_uploads/<u>')
      .replace(/[0-9a-f]{64}/, '<d>')
      .replace(/sha256\/[0-9a-f]{2}\/<d>/, 'sha256/<hh>/<d>')
      .replace(/hashstates\/sha256\/[1-9]\d*/, 'hashstates/sha256/<n>');
    return `${name} ${key}`;
  });
}

const blobPattern = (repo: string, move: 'Copy' | 'CMU') => [
  `Put repositories/${repo}/_uploads/<u>/startedat`,
  `Put repositories/${repo}/_uploads/<u>/hashstates/sha256/0`,
  `Put repositories/${repo}/_uploads/<u>/hashstates/sha256/<n>`,
  `Put repositories/${repo}/_uploads/<u>/hashstates/sha256/<n>`,
  `CMU repositories/${repo}/_uploads/<u>/data`,
  `Put repositories/${repo}/_uploads/<u>/hashstates/sha256/0`,
  `${move} blobs/sha256/<hh>/<d>/data`,
  `Del repositories/${repo}/_uploads/<u>/data`,
  `Put repositories/${repo}/_layers/sha256/<d>/link`,
  `Del repositories/${repo}/_uploads/<u>/hashstates/sha256/0`,
  `Del repositories/${repo}/_uploads/<u>/hashstates/sha256/<n>`,
  `Del repositories/${repo}/_uploads/<u>/startedat`,
];

const manifestPattern = (repo: string, tag: string) => [
  'Put blobs/sha256/<hh>/<d>/data',
  `Put repositories/${repo}/_manifests/revisions/sha256/<d>/link`,
  `Put repositories/${repo}/_manifests/tags/${tag}/index/sha256/<d>/link`,
  `Put repositories/${repo}/_manifests/tags/${tag}/current/link`,
];

describe('a real registry (distribution 2.8, s3aws) on the local S3 emulator', () => {
  let t: TestEmulator;
  let queue: string;
  let registry: RunningRegistry;
  let redis: Redis;
  let skopeo: SkopeoEnv;
  let work: string;
  const partSizes: number[] = [];

  beforeAll(async () => {
    t = await startTestEmulator();
    queue = await notificationQueue(t);
    const store = t.emu.store;
    const uploadPart = store.uploadPart.bind(store);
    store.uploadPart = (id, n, body) => {
      partSizes.push(body.length);
      return uploadPart(id, n, body);
    };
    const [db] = (await allocateDbs(1)) as [number];
    redis = await redisClient(db);
    registry = await startRegistry({
      storage: { kind: 's3', endpoint: t.emu.endpoint, bucket: t.bucket, rootDirectory: '/harbor' },
      redisUrl: redisUrlForDb(db),
    });
    skopeo = createSkopeoEnv();
    work = readableTempDir('pushguard-local-registry-');
  });

  afterAll(async () => {
    await registry?.stop();
    redis?.disconnect();
    skopeo?.dispose();
    await t?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('pushes 3 layers, a config and a manifest: 201 and the 52 events of §2a', async () => {
    const img = buildImage({
      dir: join(work, 'app'),
      seed: `local-app-${process.pid}-${Date.now()}`,
      layers: [262_144, 300_000, 100_000],
      tag: 'v1',
    });
    const pushed = await skopeoCopy(skopeo, img.ref, {
      host: registry.host,
      repository: 'library/app',
      tag: 'v1',
    });
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect(labels(await drain(t, queue))).toEqual([
      ...[1, 2, 3, 4].flatMap(() => blobPattern('library/app', 'Copy')),
      ...manifestPattern('library/app', 'v1'),
    ]);
    const got = await fetchManifest(registry.url, 'library/app', 'v1');
    expect(got.status).toBe(200);
    expect(await redis.exists(`blobs::${pushed.digest}`)).toBe(1);
  });

  it('pushes a 48 MiB layer: parts over 11 MiB, the move by UploadPartCopy, data intact', async () => {
    partSizes.length = 0;
    const img = buildImage({
      dir: join(work, 'big'),
      seed: `local-big-${process.pid}-${Date.now()}`,
      layers: [48 * MiB],
      tag: 'v1',
    });
    const pushed = await skopeoCopy(skopeo, img.ref, {
      host: registry.host,
      repository: 'library/big',
      tag: 'v1',
    });
    expect(pushed.code).toBe(0);
    expect(Math.max(...partSizes)).toBeGreaterThan(11 * MiB);
    const events = await drain(t, queue);
    expect(labels(events)).toEqual([
      ...blobPattern('library/big', 'CMU'),
      ...blobPattern('library/big', 'Copy'),
      ...manifestPattern('library/big', 'v1'),
    ]);
    const layer = img.layers[0]!;
    const move = events
      .map((b) => (JSON.parse(b) as { Records: S3EventRecord[] }).Records[0]!)
      .find((r) => r.s3.object.key.endsWith(`${layer.digest.slice(7)}/data`));
    expect(move?.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
    expect(move?.s3.object.size).toBe(layer.size);
    const blob = await fetch(`${registry.url}/v2/library/big/blobs/${layer.digest}`);
    const bytes = Buffer.from(await blob.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(layer.digest);
  });

  it('DELETE of a manifest sends one ObjectRemoved:Delete per key of its DeleteObjects (§2f)', async () => {
    const head = await fetchManifest(registry.url, 'library/app', 'v1', 'HEAD');
    const res = await fetch(`${registry.url}/v2/library/app/manifests/${head.digest}`, {
      method: 'DELETE',
    });
    expect(res.status).toBe(202);
    expect(labels(await drain(t, queue))).toEqual([
      'Del repositories/library/app/_manifests/revisions/sha256/<d>/link',
      'Del repositories/library/app/_manifests/tags/v1/current/link',
      'Del repositories/library/app/_manifests/tags/v1/index/sha256/<d>/link',
    ]);
  });
});
