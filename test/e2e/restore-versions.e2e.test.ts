/**
 * Restore from S3 object versions end to end: the bucket of `pushguard local --enforce
 * --restore-from s3-versions` has versioning on (no peer registry). Data removed from it becomes
 * a delete marker over a noncurrent version; PushGuard verifies that version's sha256 and copies
 * it back server side, never removing the delete marker.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ListObjectVersionsCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../support/oci-image.ts';
import { fetchManifest } from '../support/skopeo.ts';
import {
  dataKey,
  deleteObject,
  objectExists,
  type Stack,
  startStack,
  waitLine,
} from './harness.ts';
import { getBlob, pushTo } from './restore.helpers.ts';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('PushGuard e2e: restore from the noncurrent version (versioning on, no peer)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      rootDirectory: '/harbor',
      windowMs: 4_000,
      enforce: true,
      extraArgs: ['--restore-from', 's3-versions'],
    });
    await stack.s3.send(
      new PutBucketVersioningCommand({
        Bucket: stack.bucket,
        VersioningConfiguration: { Status: 'Enabled' },
      })
    );
  }, 120_000);

  afterAll(async () => stack?.stop());

  async function versionsOf(key: string) {
    const out = await stack.s3.send(
      new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: key })
    );
    return {
      versions: (out.Versions ?? []).filter((v) => v.Key === key),
      markers: (out.DeleteMarkers ?? []).filter((m) => m.Key === key),
    };
  }

  it('manifest and a 40 MiB layer removed → copied back from their noncurrent versions; pull 200', async () => {
    const repo = 'library/versioned';
    const img = buildImage({
      dir: join(stack.work, 'v1'),
      seed: 'versions',
      layers: [40 * 1024 * 1024, 5_000],
      tag: 'v1',
    });
    const m = await pushTo(stack.skopeo, img.ref, [stack.registry.host], {
      repository: repo,
      tag: 'v1',
    });
    const before = await fetchManifest(stack.registry.url, repo, 'v1');
    expect(before.status).toBe(200);
    const big = img.layers[0]!;
    const [mKey, lKey] = [dataKey(stack, m), dataKey(stack, big.digest)];
    const original = (await versionsOf(mKey)).versions[0]!.VersionId!;

    await deleteObject(stack, mKey);
    await deleteObject(stack, lKey);
    expect(await objectExists(stack, mKey)).toBe(false);
    const am = (await waitLine(stack, 'action', repo, 'manifest-data-missing', m)).data;
    const al = (await waitLine(stack, 'action', repo, 'layer-data-missing', big.digest, 60_000))
      .data;
    expect(am.decision).toBe('restored');
    expect(am.restored).toMatchObject({
      source: 's3-versions',
      origin: `versionId ${original}`,
      verifiedDigest: m,
    });
    expect(al.decision).toBe('restored');
    expect(al.restored).toMatchObject({ source: 's3-versions', size: big.size });

    const after = await fetchManifest(stack.registry.url, repo, 'v1');
    expect(after.status).toBe(200);
    expect(sha(after.body)).toBe(m);
    const blob = await getBlob(stack.registry.url, repo, big.digest);
    expect(blob.bytes.equals(big.bytes)).toBe(true);
    // The delete marker is still there (now noncurrent): nothing was deleted to restore.
    const v = await versionsOf(mKey);
    expect(v.markers).toHaveLength(1);
    expect(v.markers[0]!.IsLatest).toBe(false);
    expect(v.versions.find((x) => x.IsLatest)?.VersionId).not.toBe(original);
    expect(await stack.cache.exists(`blobs::${m}`)).toBe(1);
  }, 180_000);
});
